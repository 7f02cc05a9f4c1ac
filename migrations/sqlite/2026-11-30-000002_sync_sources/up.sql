-- The instant that places a shift inside or outside a sync window: a one-off shift's start, a
-- recurring shift's start_local in its zone. Written by the service for every shift.
ALTER TABLE shifts ADD COLUMN first_start_at BIGINT;
UPDATE shifts SET first_start_at = starts_at WHERE starts_at IS NOT NULL;
CREATE INDEX shifts_by_source_and_start ON shifts (source, first_start_at);
CREATE INDEX time_off_by_source_and_start ON time_off (source, starts_at);
