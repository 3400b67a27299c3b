CREATE TABLE `maintenance_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`cursor` text,
	`events_expired` integer DEFAULT 0 NOT NULL,
	`events_archived` integer DEFAULT 0 NOT NULL,
	`profiles_expired` integer DEFAULT 0 NOT NULL,
	`parts` text DEFAULT '[]' NOT NULL,
	`error` text,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
ALTER TABLE `datasets` ADD `ttl_days` integer;--> statement-breakpoint
ALTER TABLE `destination_runs` ADD `rows` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `destination_runs` ADD `manifest` text;--> statement-breakpoint
ALTER TABLE `namespaces` ADD `pseudonymous` integer DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE `namespaces` SET `pseudonymous` = 1 WHERE `code` = 'device';--> statement-breakpoint
UPDATE `destination_runs` SET `rows` = `profiles`;
