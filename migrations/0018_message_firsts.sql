-- The first event of each type per message, for message reports, the journeys view and
-- attribution; kept exact by triggers on events (like event_rollups).
CREATE TABLE `message_firsts` (
	`type` text NOT NULL,
	`message_id` text NOT NULL,
	`first_at` integer NOT NULL,
	`identity_id` integer NOT NULL,
	`channel` text,
	`journey` text,
	PRIMARY KEY(`type`, `message_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `message_firsts_at_idx` ON `message_firsts` (`first_at`,`type`,`channel`,`journey`,`message_id`);--> statement-breakpoint
CREATE INDEX `message_firsts_identity_idx` ON `message_firsts` (`identity_id`,`first_at`,`type`,`journey`,`message_id`);
--> statement-breakpoint
INSERT INTO `message_firsts` (`type`, `message_id`, `first_at`, `identity_id`, `channel`, `journey`)
SELECT `type`, CAST(json_extract(`data`, '$.messageId') AS TEXT), min(`at`), `identity_id`, json_extract(`data`, '$.channel'), json_extract(`data`, '$.journey')
FROM `events`
WHERE `type` IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked')
  AND json_extract(`data`, '$.messageId') IS NOT NULL
  AND (`type` != 'message.sent' OR coalesce(json_extract(`data`, '$.attempt'), 1) <= 1)
GROUP BY `type`, CAST(json_extract(`data`, '$.messageId') AS TEXT);
--> statement-breakpoint
CREATE TRIGGER `events_message_first_insert` AFTER INSERT ON `events`
WHEN NEW.`type` IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked')
  AND json_extract(NEW.`data`, '$.messageId') IS NOT NULL
  AND (NEW.`type` != 'message.sent' OR coalesce(json_extract(NEW.`data`, '$.attempt'), 1) <= 1)
BEGIN
  INSERT INTO `message_firsts` (`type`, `message_id`, `first_at`, `identity_id`, `channel`, `journey`)
  VALUES (NEW.`type`, CAST(json_extract(NEW.`data`, '$.messageId') AS TEXT), NEW.`at`, NEW.`identity_id`, json_extract(NEW.`data`, '$.channel'), json_extract(NEW.`data`, '$.journey'))
  ON CONFLICT (`type`, `message_id`) DO UPDATE SET `first_at` = excluded.`first_at`, `identity_id` = excluded.`identity_id`, `channel` = excluded.`channel`, `journey` = excluded.`journey`
  WHERE excluded.`first_at` < `message_firsts`.`first_at`;
END;
--> statement-breakpoint
-- A deleted first is replaced by the next such event of the same profile (erasure removes
-- the identities first, so nothing comes back for an erased person).
CREATE TRIGGER `events_message_first_delete` AFTER DELETE ON `events`
WHEN OLD.`type` IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked')
  AND json_extract(OLD.`data`, '$.messageId') IS NOT NULL
BEGIN
  DELETE FROM `message_firsts`
  WHERE `type` = OLD.`type` AND `message_id` = CAST(json_extract(OLD.`data`, '$.messageId') AS TEXT) AND `first_at` = OLD.`at` AND `identity_id` = OLD.`identity_id`;
  INSERT INTO `message_firsts` (`type`, `message_id`, `first_at`, `identity_id`, `channel`, `journey`)
  SELECT e.`type`, CAST(json_extract(e.`data`, '$.messageId') AS TEXT), e.`at`, e.`identity_id`, json_extract(e.`data`, '$.channel'), json_extract(e.`data`, '$.journey')
  FROM `events` e
  WHERE e.`identity_id` IN (SELECT `id` FROM `identities` WHERE `profile_id` = (SELECT `profile_id` FROM `identities` WHERE `id` = OLD.`identity_id`))
    AND e.`type` = OLD.`type` AND json_extract(e.`data`, '$.messageId') = json_extract(OLD.`data`, '$.messageId')
    AND (e.`type` != 'message.sent' OR coalesce(json_extract(e.`data`, '$.attempt'), 1) <= 1)
  ORDER BY e.`at` LIMIT 1
  ON CONFLICT (`type`, `message_id`) DO UPDATE SET `first_at` = excluded.`first_at`, `identity_id` = excluded.`identity_id`, `channel` = excluded.`channel`, `journey` = excluded.`journey`
  WHERE excluded.`first_at` < `message_firsts`.`first_at`;
END;
--> statement-breakpoint
-- Retries are counted per event: a partial index finds the repeated sends without a scan.
CREATE INDEX `events_sent_retry_idx` ON `events` (`at`) WHERE `type` = 'message.sent' AND coalesce(json_extract(`data`, '$.attempt'), 1) > 1;
