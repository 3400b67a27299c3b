-- attribute_index rows are removed by their full key (recomputed from the fragment), so
-- its (identity_id, dataset) index goes; fragments are keyed by identity first, so their
-- identity index goes too (see README "Bytes per profile").
DROP INDEX `attribute_index_identity_idx`;--> statement-breakpoint
CREATE TABLE `__new_fragments` (
	`dataset` text NOT NULL,
	`identity_id` integer NOT NULL,
	`attributes` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`identity_id`, `dataset`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_fragments`(`dataset`, `identity_id`, `attributes`, `updated_at`) SELECT `dataset`, `identity_id`, `attributes`, `updated_at` FROM `fragments`;--> statement-breakpoint
DROP TABLE `fragments`;--> statement-breakpoint
ALTER TABLE `__new_fragments` RENAME TO `fragments`;
