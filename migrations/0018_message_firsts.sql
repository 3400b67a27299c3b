-- The first event of each type per message, and messages per hour of those firsts, for
-- message reports, the journeys view and attribution; kept exact by triggers (like
-- event_rollups). A message's channel and journey are its own event's, else those of its
-- earliest event that names them (resolved when the first is written).
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
CREATE TABLE `message_rollups` (
	`hour` integer NOT NULL,
	`type` text NOT NULL,
	`channel` text NOT NULL,
	`journey` text NOT NULL,
	`messages` integer NOT NULL,
	PRIMARY KEY(`hour`, `type`, `channel`, `journey`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Counted: every first, except a bounce of a message that has a delivery.
CREATE TRIGGER `message_firsts_count_insert` AFTER INSERT ON `message_firsts`
WHEN NEW.`type` != 'message.bounced' OR NOT EXISTS (SELECT 1 FROM `message_firsts` d WHERE d.`type` = 'message.delivered' AND d.`message_id` = NEW.`message_id`)
BEGIN
  INSERT INTO `message_rollups` (`hour`, `type`, `channel`, `journey`, `messages`) VALUES (NEW.`first_at` / 3600000, NEW.`type`, ifnull(NEW.`channel`, ''), ifnull(NEW.`journey`, ''), 1)
  ON CONFLICT (`hour`, `type`, `channel`, `journey`) DO UPDATE SET `messages` = `messages` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `message_firsts_count_delete` AFTER DELETE ON `message_firsts`
WHEN OLD.`type` != 'message.bounced' OR NOT EXISTS (SELECT 1 FROM `message_firsts` d WHERE d.`type` = 'message.delivered' AND d.`message_id` = OLD.`message_id`)
BEGIN
  UPDATE `message_rollups` SET `messages` = `messages` - 1
  WHERE `hour` = OLD.`first_at` / 3600000 AND `type` = OLD.`type` AND `channel` = ifnull(OLD.`channel`, '') AND `journey` = ifnull(OLD.`journey`, '');
END;
--> statement-breakpoint
CREATE TRIGGER `message_firsts_count_update` AFTER UPDATE ON `message_firsts`
WHEN NEW.`type` != 'message.bounced' OR NOT EXISTS (SELECT 1 FROM `message_firsts` d WHERE d.`type` = 'message.delivered' AND d.`message_id` = NEW.`message_id`)
BEGIN
  UPDATE `message_rollups` SET `messages` = `messages` - 1
  WHERE `hour` = OLD.`first_at` / 3600000 AND `type` = OLD.`type` AND `channel` = ifnull(OLD.`channel`, '') AND `journey` = ifnull(OLD.`journey`, '');
  INSERT INTO `message_rollups` (`hour`, `type`, `channel`, `journey`, `messages`) VALUES (NEW.`first_at` / 3600000, NEW.`type`, ifnull(NEW.`channel`, ''), ifnull(NEW.`journey`, ''), 1)
  ON CONFLICT (`hour`, `type`, `channel`, `journey`) DO UPDATE SET `messages` = `messages` + 1;
END;
--> statement-breakpoint
-- A first delivery takes the message's bounce out of the count; a delivery going away puts it back.
CREATE TRIGGER `message_firsts_delivered_insert` AFTER INSERT ON `message_firsts`
WHEN NEW.`type` = 'message.delivered'
BEGIN
  UPDATE `message_rollups` SET `messages` = `messages` - 1
  WHERE (`hour`, `type`, `channel`, `journey`) IN (SELECT b.`first_at` / 3600000, b.`type`, ifnull(b.`channel`, ''), ifnull(b.`journey`, '') FROM `message_firsts` b WHERE b.`type` = 'message.bounced' AND b.`message_id` = NEW.`message_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `message_firsts_delivered_delete` AFTER DELETE ON `message_firsts`
WHEN OLD.`type` = 'message.delivered'
BEGIN
  INSERT INTO `message_rollups` (`hour`, `type`, `channel`, `journey`, `messages`)
  SELECT b.`first_at` / 3600000, b.`type`, ifnull(b.`channel`, ''), ifnull(b.`journey`, ''), 1 FROM `message_firsts` b WHERE b.`type` = 'message.bounced' AND b.`message_id` = OLD.`message_id`
  ON CONFLICT (`hour`, `type`, `channel`, `journey`) DO UPDATE SET `messages` = `messages` + 1;
END;
--> statement-breakpoint
-- Existing events: their firsts (which fill the rollups through the triggers above).
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
  VALUES (
    NEW.`type`, CAST(json_extract(NEW.`data`, '$.messageId') AS TEXT), NEW.`at`, NEW.`identity_id`,
    coalesce(json_extract(NEW.`data`, '$.channel'), (SELECT m.`channel` FROM `message_firsts` m WHERE m.`type` IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked') AND m.`message_id` = CAST(json_extract(NEW.`data`, '$.messageId') AS TEXT) AND m.`channel` IS NOT NULL ORDER BY m.`first_at` LIMIT 1)),
    coalesce(json_extract(NEW.`data`, '$.journey'), (SELECT m.`journey` FROM `message_firsts` m WHERE m.`type` IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked') AND m.`message_id` = CAST(json_extract(NEW.`data`, '$.messageId') AS TEXT) AND m.`journey` IS NOT NULL ORDER BY m.`first_at` LIMIT 1)))
  ON CONFLICT (`type`, `message_id`) DO UPDATE SET `first_at` = excluded.`first_at`, `identity_id` = excluded.`identity_id`, `channel` = excluded.`channel`, `journey` = excluded.`journey`
  WHERE excluded.`first_at` < `message_firsts`.`first_at`;
END;
--> statement-breakpoint
-- A deleted first is replaced by the next such event of the same profile (erasure removes
-- the events before the identities, so each is replaced until none is left).
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
