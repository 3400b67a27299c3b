CREATE TABLE `consent_records` (
	`identity_id` integer NOT NULL,
	`purpose` text NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`recorded_at` integer NOT NULL,
	PRIMARY KEY(`identity_id`, `purpose`, `at`, `recorded_at`)
);
