-- Treatment: hospital stays with their severity over time, the tests that decide discharge,
-- post-discharge health monitoring and deaths.
-- Logically identical to the other dialect's 0017_hospital_stays.sql (a test compares them).

CREATE TABLE hospital_stays (
    id               INTEGER PRIMARY KEY,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    hospital_id      BIGINT NOT NULL REFERENCES hospitals (id),
    -- the case's area, for scoping
    area_code        TEXT NOT NULL,
    admitted_at      TIMESTAMPTZ NOT NULL,
    -- mild, moderate, severe, critical
    severity         TEXT NOT NULL,
    -- admitted, discharged, died
    status           TEXT NOT NULL,
    discharged_at    TIMESTAMPTZ,
    monitoring_until DATE,
    died_at          TIMESTAMPTZ
);
CREATE INDEX hospital_stays_case ON hospital_stays (case_id);
CREATE INDEX hospital_stays_status ON hospital_stays (status, area_code);

CREATE TABLE severity_changes (
    id          INTEGER PRIMARY KEY,
    stay_id     BIGINT NOT NULL REFERENCES hospital_stays (id),
    at          TIMESTAMPTZ NOT NULL,
    severity    TEXT NOT NULL,
    note        TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX severity_changes_stay ON severity_changes (stay_id, at);

CREATE TABLE hospital_tests (
    id          INTEGER PRIMARY KEY,
    stay_id     BIGINT NOT NULL REFERENCES hospital_stays (id),
    at          TIMESTAMPTZ NOT NULL,
    ct_orf1ab   REAL,
    ct_n        REAL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX hospital_tests_stay ON hospital_tests (stay_id, at);
