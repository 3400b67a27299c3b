-- Built-in rows every Tessera starts with (SPEC §1): namespaces, default datasets,
-- the default merge policy and the default settings. Admins change them through the API.
INSERT INTO `namespaces` (`code`, `description`, `normalize`, `is_unique`, `priority`, `max_per_graph`, `blocked_values`, `built_in`, `created_at`, `updated_at`) VALUES
  ('crm', 'CRM customer id', 'trim', 1, 100, 1, '[]', 1, 0, 0),
  ('loyalty', 'Loyalty program member id', 'trim', 1, 90, 1, '[]', 1, 0, 0),
  ('email', 'E-mail address', 'email', 0, 80, 5, '[]', 1, 0, 0),
  ('phone', 'Phone number (E.164)', 'phone', 0, 70, 5, '[]', 1, 0, 0),
  ('device', 'First-party device id minted by the widget', 'trim', 0, 10, NULL, '[]', 1, 0, 0);
--> statement-breakpoint
INSERT INTO `datasets` (`name`, `kind`, `description`, `schema`, `created_at`, `updated_at`) VALUES
  ('default', 'any', 'Records and events written without a dataset', NULL, 0, 0),
  ('web', 'events', 'Browser events collected by the widget', NULL, 0, 0);
--> statement-breakpoint
INSERT INTO `merge_policies` (`name`, `type`, `datasets`, `id_stitching`, `is_default`, `created_at`, `updated_at`) VALUES
  ('default', 'timestamp', '[]', 'graph', 1, 0, 0);
--> statement-breakpoint
INSERT INTO `settings` (`key`, `value`, `updated_at`) VALUES
  ('graph', '{"maxIdentities":50}', 0),
  ('personalization', '{"attributes":[]}', 0),
  ('collect', '{"types":["page.view","click","form.submit"]}', 0);
