CREATE TABLE `computed_attributes` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`definition` text NOT NULL,
	`status` text DEFAULT 'backfilling' NOT NULL,
	`computed_identities` integer DEFAULT 0 NOT NULL,
	`compute_after` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `computed_rechecks` (
	`identity_id` integer PRIMARY KEY NOT NULL,
	`recheck_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `computed_rechecks_at_idx` ON `computed_rechecks` (`recheck_at`);--> statement-breakpoint
ALTER TABLE `fragments` ADD `meta` text;--> statement-breakpoint
CREATE INDEX `fragments_computed_idx` ON `fragments` (`identity_id`) WHERE "fragments"."dataset" = 'computed';