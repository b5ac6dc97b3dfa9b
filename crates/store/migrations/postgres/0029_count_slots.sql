-- The coverage counts kept in slots. On PostgreSQL each connection's scans add to their own row
-- of an area and hour (its slot), so that scans in one village at several stations do not queue
-- on one row's lock until each other's commit; readers sum the slots. Every other writer, and
-- SQLite's one writer, uses slot 0.
-- Logically identical to the other dialect's 0029_count_slots.sql (a test compares them).
ALTER TABLE round_area_counts ADD COLUMN slot SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE round_area_counts DROP CONSTRAINT round_area_counts_pkey;
ALTER TABLE round_area_counts ADD PRIMARY KEY (round_id, area_code, slot);

ALTER TABLE round_hour_counts ADD COLUMN slot SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE round_hour_counts DROP CONSTRAINT round_hour_counts_pkey;
ALTER TABLE round_hour_counts ADD PRIMARY KEY (round_id, area_code, hour, slot);
