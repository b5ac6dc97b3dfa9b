-- The coverage counts kept in slots. On PostgreSQL each connection's scans add to their own row
-- of an area and hour (its slot), so that scans in one village at several stations do not queue
-- on one row's lock until each other's commit; readers sum the slots. Every other writer, and
-- SQLite's one writer, uses slot 0.
-- Logically identical to the other dialect's 0029_count_slots.sql (a test compares them).
CREATE TABLE round_area_counts_slotted (
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL,
    sampled   BIGINT NOT NULL DEFAULT 0,
    exempted  BIGINT NOT NULL DEFAULT 0,
    slot      SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, area_code, slot)
);
INSERT INTO round_area_counts_slotted (round_id, area_code, sampled, exempted, slot)
    SELECT round_id, area_code, sampled, exempted, 0 FROM round_area_counts;
DROP TABLE round_area_counts;
ALTER TABLE round_area_counts_slotted RENAME TO round_area_counts;

CREATE TABLE round_hour_counts_slotted (
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL,
    hour      TIMESTAMPTZ NOT NULL,
    sampled   BIGINT NOT NULL DEFAULT 0,
    slot      SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, area_code, hour, slot)
);
INSERT INTO round_hour_counts_slotted (round_id, area_code, hour, sampled, slot)
    SELECT round_id, area_code, hour, sampled, 0 FROM round_hour_counts;
DROP TABLE round_hour_counts;
ALTER TABLE round_hour_counts_slotted RENAME TO round_hour_counts;
