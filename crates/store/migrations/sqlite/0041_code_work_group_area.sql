-- The refresh's scratch indexed for what it asks: the special people (special = TRUE), the groups
-- of everyone else (special = FALSE, by zone and missed round) and each group's people by area
-- for the counts — read from the index in order, where a scan and a sort of 100,000 rows took
-- a tenth of a zone act. Logically identical to the other dialect's 0041_code_work_group_area.sql
-- (a test compares them).

DROP INDEX code_work_group;
CREATE INDEX code_work_group ON code_work (special, zone_id, missed_round, area_code);
