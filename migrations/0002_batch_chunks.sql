ALTER TABLE `batch_chunks` ADD `next_offset` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `batch_chunks` ADD `next_line` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `batch_chunks` ADD `final` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `batches` ADD `header` text;