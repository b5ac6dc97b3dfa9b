-- Tubes opened at sampling stations and the samples (person ↔ tube) scanned into them.
-- Logically identical to the other dialect's 0004_tubes_samples.sql (a test compares them).

CREATE TABLE tubes (
    id           INTEGER PRIMARY KEY,
    round_id     BIGINT NOT NULL REFERENCES testing_rounds (id),
    barcode      TEXT NOT NULL,
    site_id      BIGINT NOT NULL REFERENCES sampling_sites (id),
    -- the site's area, for scoping
    area_code    TEXT NOT NULL,
    -- people (pool_size swabs) or household (one household, pool_size set by its first member)
    pool_kind    TEXT NOT NULL,
    pool_size    INTEGER NOT NULL,
    members      INTEGER NOT NULL DEFAULT 0,
    household_id BIGINT,
    station      INTEGER,
    collector    TEXT,
    opened_at    TIMESTAMPTZ NOT NULL,
    sealed_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX tubes_round_barcode ON tubes (round_id, barcode);
CREATE INDEX tubes_site ON tubes (site_id, opened_at);

CREATE TABLE samples (
    id         INTEGER PRIMARY KEY,
    round_id   BIGINT NOT NULL REFERENCES testing_rounds (id),
    tube_id    BIGINT NOT NULL REFERENCES tubes (id),
    person_id  BIGINT NOT NULL REFERENCES persons (id),
    -- the person's area, for coverage
    area_code  TEXT NOT NULL,
    sampled_at TIMESTAMPTZ NOT NULL,
    -- the id the station generated for the scan, so that a retry is recognised
    client_id  TEXT
);
CREATE UNIQUE INDEX samples_round_person ON samples (round_id, person_id);
CREATE INDEX samples_tube ON samples (tube_id);
CREATE INDEX samples_round_area ON samples (round_id, area_code);
