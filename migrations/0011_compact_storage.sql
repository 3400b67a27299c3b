-- Storage per profile (see README "Bytes per profile"): dead and rarely useful indexes go,
-- tables keyed by a composite primary key are rebuilt WITHOUT ROWID (their key b-tree *is*
-- the table, instead of a rowid table plus a copy of every row in the key's index), and
-- name terms keep words only (multi-word queries intersect the words).
DROP INDEX `events_at_idx`;--> statement-breakpoint
DROP INDEX `identities_ns_profile_idx`;--> statement-breakpoint
DROP INDEX `profiles_search_name_idx`;--> statement-breakpoint
ALTER TABLE `profiles` DROP COLUMN `search_name`;--> statement-breakpoint
CREATE TABLE `attribute_index_compact` (
	`path` text NOT NULL,
	`value` text NOT NULL,
	`identity_id` integer NOT NULL,
	`dataset` text NOT NULL,
	PRIMARY KEY(`path`, `value`, `identity_id`, `dataset`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `attribute_index_compact` SELECT `path`, `value`, `identity_id`, `dataset` FROM `attribute_index`;--> statement-breakpoint
DROP TABLE `attribute_index`;--> statement-breakpoint
ALTER TABLE `attribute_index_compact` RENAME TO `attribute_index`;--> statement-breakpoint
CREATE INDEX `attribute_index_identity_idx` ON `attribute_index` (`identity_id`,`dataset`);--> statement-breakpoint
CREATE TABLE `profile_terms_compact` (
	`term` text NOT NULL,
	`profile_id` text NOT NULL,
	PRIMARY KEY(`term`, `profile_id`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `profile_terms_compact` SELECT `term`, `profile_id` FROM `profile_terms` WHERE instr(`term`, ' ') = 0;--> statement-breakpoint
DROP TABLE `profile_terms`;--> statement-breakpoint
ALTER TABLE `profile_terms_compact` RENAME TO `profile_terms`;--> statement-breakpoint
CREATE INDEX `profile_terms_profile_idx` ON `profile_terms` (`profile_id`);--> statement-breakpoint
CREATE TABLE `fragments_compact` (
	`dataset` text NOT NULL,
	`identity_id` integer NOT NULL,
	`attributes` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`dataset`, `identity_id`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `fragments_compact` SELECT `dataset`, `identity_id`, `attributes`, `updated_at` FROM `fragments`;--> statement-breakpoint
DROP TABLE `fragments`;--> statement-breakpoint
ALTER TABLE `fragments_compact` RENAME TO `fragments`;--> statement-breakpoint
CREATE INDEX `fragments_identity_idx` ON `fragments` (`identity_id`);--> statement-breakpoint
CREATE TABLE `links_compact` (
	`a_id` integer NOT NULL,
	`b_id` integer NOT NULL,
	`dataset` text NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`applied` integer DEFAULT true NOT NULL,
	PRIMARY KEY(`a_id`, `b_id`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `links_compact` SELECT `a_id`, `b_id`, `dataset`, `first_seen`, `last_seen`, `applied` FROM `links`;--> statement-breakpoint
DROP TABLE `links`;--> statement-breakpoint
ALTER TABLE `links_compact` RENAME TO `links`;--> statement-breakpoint
CREATE INDEX `links_b_idx` ON `links` (`b_id`);
