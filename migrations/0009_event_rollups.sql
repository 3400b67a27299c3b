-- Event counts per UTC hour, dataset and type for reports; kept exact by triggers.
CREATE TABLE `event_rollups` (
	`hour` integer NOT NULL,
	`dataset` text NOT NULL,
	`type` text NOT NULL,
	`events` integer NOT NULL,
	PRIMARY KEY(`hour`, `dataset`, `type`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `event_rollups` (`hour`, `dataset`, `type`, `events`)
SELECT `at` / 3600000, `dataset`, `type`, count(*) FROM `events` WHERE true GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE TRIGGER `events_rollup_insert` AFTER INSERT ON `events`
BEGIN
  INSERT INTO `event_rollups` (`hour`, `dataset`, `type`, `events`) VALUES (NEW.`at` / 3600000, NEW.`dataset`, NEW.`type`, 1)
  ON CONFLICT (`hour`, `dataset`, `type`) DO UPDATE SET `events` = `events` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `events_rollup_delete` AFTER DELETE ON `events`
BEGIN
  UPDATE `event_rollups` SET `events` = `events` - 1
  WHERE `hour` = OLD.`at` / 3600000 AND `dataset` = OLD.`dataset` AND `type` = OLD.`type`;
END;
