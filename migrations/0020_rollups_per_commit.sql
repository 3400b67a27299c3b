-- Hourly event counts grow by one grouped statement per commit (eventInsertStatements), not
-- by a trigger per inserted event: a row write per hour, dataset and type instead of one per
-- event. Deletes still take counts off through `events_rollup_delete`.
DROP TRIGGER `events_rollup_insert`;
