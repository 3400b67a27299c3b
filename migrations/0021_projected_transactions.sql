CREATE TABLE `projected_transactions` (
	`tx` integer PRIMARY KEY NOT NULL,
	`applied_at` integer NOT NULL
);
