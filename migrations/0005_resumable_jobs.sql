ALTER TABLE `destination_runs` ADD `updated_at` integer;--> statement-breakpoint
ALTER TABLE `segments` ADD `evaluate_after` text;