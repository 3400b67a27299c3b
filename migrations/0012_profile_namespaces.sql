ALTER TABLE `profiles` ADD `namespaces` text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE `profiles` SET `namespaces` = coalesce((SELECT group_concat(`namespace`, ',') FROM (SELECT DISTINCT `namespace` FROM `identities` WHERE `profile_id` = `profiles`.`id` ORDER BY `namespace`)), '');
