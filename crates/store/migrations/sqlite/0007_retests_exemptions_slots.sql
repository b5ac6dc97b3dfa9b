-- Re-tests inside the round they belong to, people accounted for otherwise, and the time slots
-- of each sampling site. Logically identical to the other dialect's file of the same name (a
-- test compares them).

-- 'round' for the round's own tubes and samples; 'retest' for the single tubes that re-sample
-- members of a positive pool. A person has at most one round sample per round, and any number
-- of re-test samples.
ALTER TABLE tubes ADD COLUMN purpose TEXT NOT NULL DEFAULT 'round';
ALTER TABLE samples ADD COLUMN kind TEXT NOT NULL DEFAULT 'round';
DROP INDEX samples_round_person;
CREATE UNIQUE INDEX samples_round_person ON samples (round_id, person_id) WHERE kind = 'round';
CREATE INDEX samples_person ON samples (person_id, round_id);

-- Residents the community accounts for without a sample in this round: away, in quarantine,
-- in hospital, sampled at home by another team.
CREATE TABLE round_exemptions (
    id          INTEGER PRIMARY KEY,
    round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    -- the person's area, for coverage and scoping
    area_code   TEXT NOT NULL,
    -- away, quarantine, hospital, home_sampled
    reason      TEXT NOT NULL,
    note        TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE UNIQUE INDEX round_exemptions_round_person ON round_exemptions (round_id, person_id);
CREATE INDEX round_exemptions_round_area ON round_exemptions (round_id, area_code);

-- Staggered time slots (错峰采样): which part of the area comes to a site when, and how many
-- people are expected.
CREATE TABLE site_slots (
    id        INTEGER PRIMARY KEY,
    site_id   BIGINT NOT NULL REFERENCES sampling_sites (id),
    -- the village, building or grid called in this slot
    area_code TEXT NOT NULL,
    label     TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at   TIMESTAMPTZ NOT NULL,
    expected  INTEGER NOT NULL
);
CREATE INDEX site_slots_site ON site_slots (site_id, starts_at);

-- Coverage counts per round and area, maintained in the transaction that samples or exempts a
-- person, so that a county's coverage reads a few thousand rows, not millions of samples.
CREATE TABLE round_area_counts (
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL,
    sampled   BIGINT NOT NULL DEFAULT 0,
    exempted  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, area_code)
);
INSERT INTO round_area_counts (round_id, area_code, sampled)
    SELECT round_id, area_code, COUNT(*) FROM samples WHERE kind = 'round' GROUP BY round_id, area_code;

-- People sampled per round, area and hour (by when the swab was taken), maintained with the
-- counts above: the progress chart reads a few rows per area and hour, not every sample.
CREATE TABLE round_hour_counts (
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL,
    hour      TIMESTAMPTZ NOT NULL,
    sampled   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, area_code, hour)
);

-- Lab results name a tube by its barcode alone (the lab rarely knows the round).
CREATE INDEX tubes_barcode ON tubes (barcode);
