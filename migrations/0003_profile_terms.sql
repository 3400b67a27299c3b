CREATE TABLE `profile_terms` (
	`term` text NOT NULL,
	`profile_id` text NOT NULL,
	PRIMARY KEY(`term`, `profile_id`)
);
--> statement-breakpoint
CREATE INDEX `profile_terms_profile_idx` ON `profile_terms` (`profile_id`);