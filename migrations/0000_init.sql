CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`origins` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_uq` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `attribute_index` (
	`path` text NOT NULL,
	`value` text NOT NULL,
	`identity_id` integer NOT NULL,
	`dataset` text NOT NULL,
	PRIMARY KEY(`path`, `value`, `identity_id`, `dataset`)
);
--> statement-breakpoint
CREATE INDEX `attribute_index_identity_idx` ON `attribute_index` (`identity_id`,`dataset`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`key_id` text NOT NULL,
	`action` text NOT NULL,
	`profile_id` text,
	`fields` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_key_idx` ON `audit_log` (`key_id`,`at`);--> statement-breakpoint
CREATE TABLE `batch_chunks` (
	`batch_id` text NOT NULL,
	`chunk` integer NOT NULL,
	`rows` integer NOT NULL,
	`ingested` integer NOT NULL,
	`failed` integer NOT NULL,
	`done_at` integer NOT NULL,
	PRIMARY KEY(`batch_id`, `chunk`)
);
--> statement-breakpoint
CREATE TABLE `batch_errors` (
	`batch_id` text NOT NULL,
	`line` integer NOT NULL,
	`error` text NOT NULL,
	PRIMARY KEY(`batch_id`, `line`)
);
--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`dataset` text NOT NULL,
	`format` text NOT NULL,
	`status` text NOT NULL,
	`object_key` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`rows_total` integer DEFAULT 0 NOT NULL,
	`rows_ingested` integer DEFAULT 0 NOT NULL,
	`rows_failed` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `datasets` (
	`name` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`description` text,
	`schema` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `destination_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`destination` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`profiles` integer DEFAULT 0 NOT NULL,
	`parts` text DEFAULT '[]' NOT NULL,
	`cursor` text,
	`error` text,
	`started_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `destination_runs_dest_idx` ON `destination_runs` (`destination`,`started_at`);--> statement-breakpoint
CREATE TABLE `destinations` (
	`name` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`config` text NOT NULL,
	`schedule` text NOT NULL,
	`last_run_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`dataset` text NOT NULL,
	`identity_id` integer NOT NULL,
	`data` text,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_identity_at_idx` ON `events` (`identity_id`,`at`);--> statement-breakpoint
CREATE INDEX `events_type_at_idx` ON `events` (`type`,`at`);--> statement-breakpoint
CREATE INDEX `events_at_idx` ON `events` (`at`);--> statement-breakpoint
CREATE TABLE `fragments` (
	`dataset` text NOT NULL,
	`identity_id` integer NOT NULL,
	`attributes` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`dataset`, `identity_id`)
);
--> statement-breakpoint
CREATE INDEX `fragments_identity_idx` ON `fragments` (`identity_id`);--> statement-breakpoint
CREATE TABLE `graph_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`cause` text NOT NULL,
	`identities` text NOT NULL,
	`profiles` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `graph_history_at_idx` ON `graph_history` (`at`);--> statement-breakpoint
CREATE TABLE `graph_history_profiles` (
	`history_id` integer NOT NULL,
	`profile_id` text NOT NULL,
	PRIMARY KEY(`profile_id`, `history_id`)
);
--> statement-breakpoint
CREATE TABLE `identities` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`value` text NOT NULL,
	`profile_id` text NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `identities_ns_value_uq` ON `identities` (`namespace`,`value`);--> statement-breakpoint
CREATE INDEX `identities_profile_idx` ON `identities` (`profile_id`);--> statement-breakpoint
CREATE INDEX `identities_value_nocase_idx` ON `identities` ("value" COLLATE NOCASE);--> statement-breakpoint
CREATE TABLE `links` (
	`a_id` integer NOT NULL,
	`b_id` integer NOT NULL,
	`dataset` text NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`applied` integer DEFAULT true NOT NULL,
	PRIMARY KEY(`a_id`, `b_id`)
);
--> statement-breakpoint
CREATE INDEX `links_b_idx` ON `links` (`b_id`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`segment_id` text NOT NULL,
	`profile_id` text NOT NULL,
	`status` text NOT NULL,
	`since` integer NOT NULL,
	`recheck_at` integer,
	PRIMARY KEY(`segment_id`, `profile_id`)
);
--> statement-breakpoint
CREATE INDEX `memberships_profile_idx` ON `memberships` (`profile_id`);--> statement-breakpoint
CREATE INDEX `memberships_segment_status_idx` ON `memberships` (`segment_id`,`status`,`profile_id`);--> statement-breakpoint
CREATE INDEX `memberships_recheck_idx` ON `memberships` (`recheck_at`);--> statement-breakpoint
CREATE TABLE `merge_policies` (
	`name` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`datasets` text DEFAULT '[]' NOT NULL,
	`id_stitching` text DEFAULT 'graph' NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `namespaces` (
	`code` text PRIMARY KEY NOT NULL,
	`description` text,
	`normalize` text DEFAULT 'trim' NOT NULL,
	`is_unique` integer DEFAULT false NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`max_per_graph` integer,
	`blocked_values` text DEFAULT '[]' NOT NULL,
	`built_in` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `profiles` (
	`id` text PRIMARY KEY NOT NULL,
	`primary_namespace` text NOT NULL,
	`primary_value` text NOT NULL,
	`display_name` text,
	`search_name` text,
	`identity_count` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `profiles_updated_idx` ON `profiles` (`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `profiles_created_idx` ON `profiles` (`created_at`);--> statement-breakpoint
CREATE INDEX `profiles_search_name_idx` ON `profiles` (`search_name`);--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`rule` text NOT NULL,
	`public` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'ready' NOT NULL,
	`evaluated_profiles` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `suppressions` (
	`hash` text PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`profile_id` text,
	`created_at` integer NOT NULL
);
