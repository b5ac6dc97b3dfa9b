-- Incidents, testing rounds over areas with their pool-size policy, and sampling sites.
-- Logically identical to the other dialect's 0003_testing_rounds.sql (a test compares them).

CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    area_code      TEXT NOT NULL REFERENCES areas (code),
    started_at     TIMESTAMPTZ NOT NULL,
    response_level TEXT,
    rule_set       TEXT NOT NULL
);
CREATE INDEX incidents_area ON incidents (area_code);

CREATE TABLE testing_rounds (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    name          TEXT NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    target_end_at TIMESTAMPTZ NOT NULL,
    -- JSON of domain::testing::pooling::PoolPolicy
    pool_policy   TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX testing_rounds_incident ON testing_rounds (incident_id);

CREATE TABLE round_areas (
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    -- sealed, controlled, precaution, or NULL outside any zone
    zone_kind TEXT,
    PRIMARY KEY (round_id, area_code)
);

CREATE TABLE sampling_sites (
    id        INTEGER PRIMARY KEY,
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    name      TEXT NOT NULL,
    address   TEXT NOT NULL,
    stations  INTEGER NOT NULL,
    opens_at  TIMESTAMPTZ,
    closes_at TIMESTAMPTZ
);
CREATE INDEX sampling_sites_round_area ON sampling_sites (round_id, area_code);
