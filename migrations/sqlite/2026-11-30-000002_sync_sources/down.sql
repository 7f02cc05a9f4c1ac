DROP INDEX time_off_by_source_and_start;
DROP INDEX shifts_by_source_and_start;
ALTER TABLE shifts DROP COLUMN first_start_at;
