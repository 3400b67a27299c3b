CREATE TABLE `projection_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`applied_seq` integer NOT NULL,
	`updated_at` integer NOT NULL
);
