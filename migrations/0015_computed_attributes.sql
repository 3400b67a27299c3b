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
CREATE TABLE `computed_states` (
	`identity_id` integer PRIMARY KEY NOT NULL,
	`states` text NOT NULL,
	`recheck_at` integer
);
--> statement-breakpoint
CREATE INDEX `computed_states_recheck_idx` ON `computed_states` (`recheck_at`);--> statement-breakpoint
ALTER TABLE `fragments` ADD `meta` text;