CREATE TABLE `graph_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`change` text NOT NULL,
	`scope` text NOT NULL,
	`blocked` text NOT NULL,
	`after` text DEFAULT '' NOT NULL,
	`graphs_checked` integer DEFAULT 0 NOT NULL,
	`merges` integer DEFAULT 0 NOT NULL,
	`splits` integer DEFAULT 0 NOT NULL,
	`moves` integer DEFAULT 0 NOT NULL,
	`evictions` integer DEFAULT 0 NOT NULL,
	`reverts` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
