-- Sums of the numbers at the top level of events' data per UTC hour, dataset, type and
-- field, kept exact by triggers (like event_rollups): attribution totals a conversion value
-- (`value=data.amount`) over whole hours without reading every conversion event.
CREATE TABLE `event_value_rollups` (
	`hour` integer NOT NULL,
	`dataset` text NOT NULL,
	`type` text NOT NULL,
	`field` text NOT NULL,
	`total` real NOT NULL,
	PRIMARY KEY(`hour`, `dataset`, `type`, `field`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `event_value_rollups` (`hour`, `dataset`, `type`, `field`, `total`)
SELECT e.`at` / 3600000, e.`dataset`, e.`type`, j.`key`, total(j.`value`)
FROM `events` e, json_each(e.`data`) j
WHERE json_type(e.`data`) = 'object' AND j.`type` IN ('integer', 'real')
GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
CREATE TRIGGER `events_value_rollup_insert` AFTER INSERT ON `events`
WHEN json_type(NEW.`data`) = 'object'
BEGIN
  INSERT INTO `event_value_rollups` (`hour`, `dataset`, `type`, `field`, `total`)
  SELECT NEW.`at` / 3600000, NEW.`dataset`, NEW.`type`, j.`key`, j.`value` FROM json_each(NEW.`data`) j WHERE j.`type` IN ('integer', 'real')
  ON CONFLICT (`hour`, `dataset`, `type`, `field`) DO UPDATE SET `total` = `total` + excluded.`total`;
END;
--> statement-breakpoint
CREATE TRIGGER `events_value_rollup_delete` AFTER DELETE ON `events`
WHEN json_type(OLD.`data`) = 'object'
BEGIN
  UPDATE `event_value_rollups`
  SET `total` = `total` - (SELECT j.`value` FROM json_each(OLD.`data`) j WHERE j.`key` = `event_value_rollups`.`field` AND j.`type` IN ('integer', 'real'))
  WHERE `hour` = OLD.`at` / 3600000 AND `dataset` = OLD.`dataset` AND `type` = OLD.`type`
    AND `field` IN (SELECT j.`key` FROM json_each(OLD.`data`) j WHERE j.`type` IN ('integer', 'real'));
END;
--> statement-breakpoint
-- Attribution reads every conversion's (type, at, identity): covered by the index, a
-- conversion's row is read only when it has touchpoints.
DROP INDEX `events_type_at_idx`;--> statement-breakpoint
CREATE INDEX `events_type_at_identity_idx` ON `events` (`type`,`at`,`identity_id`);
--> statement-breakpoint
-- Touchpoints (journey messages' first deliveries and clicks) per identity and time: a
-- conversion's probe reads this smaller index rather than every first of the identity.
CREATE INDEX `message_firsts_touch_idx` ON `message_firsts` (`identity_id`, `first_at`, `journey`, `message_id`, `type`) WHERE `type` IN ('message.delivered', 'message.clicked') AND `journey` IS NOT NULL;
