-- The refresh's scratch keyed by the row id itself: SQLite keeps a BIGINT PRIMARY KEY as a second
-- b-tree beside the rows, and a zone act writes 100,000 rows into this table (and probes the key
-- for each). INTEGER PRIMARY KEY is the row id: one b-tree. The table is empty between passes.
-- The other dialect's 0040_code_work_rowid.sql changes nothing (PostgreSQL has no row id; the
-- logical schema is the same).

DROP TABLE code_work;
CREATE TABLE code_work (
    person_id    INTEGER PRIMARY KEY,
    area_code    TEXT NOT NULL,
    zone_id      BIGINT NOT NULL DEFAULT 0,
    missed_round BIGINT NOT NULL DEFAULT 0,
    special      BOOLEAN NOT NULL DEFAULT FALSE,
    marked_zone  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX code_work_group ON code_work (special, zone_id, missed_round);
