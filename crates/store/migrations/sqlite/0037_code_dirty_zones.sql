-- A zone act marks its zone, not each of its residents: one row in the act's transaction however
-- many live inside (a county's 100,000 people were 100,000 marks). The refresh takes a zone's
-- residents from the register with the zone already known, and a look-up reads a person as marked
-- while a zone they live in is. code_work keeps the zone that marked each person (0 for one marked
-- by a change of their own), so that only zones stricter than it are matched again. Logically
-- identical to the other dialect's 0037_code_dirty_zones.sql (a test compares them).

CREATE TABLE code_dirty_zones (
    seq     INTEGER PRIMARY KEY,
    zone_id BIGINT NOT NULL
);

ALTER TABLE code_work ADD COLUMN marked_zone BIGINT NOT NULL DEFAULT 0;
