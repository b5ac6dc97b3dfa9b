-- Exposures (who met whom, how, when, and what that makes them), assistance requests to other
-- jurisdictions (协查函), and the observation orders a confirmed batch of contacts becomes.
-- Logically identical to the other dialect's 0011_exposures_orders.sql (a test compares them).

CREATE TABLE exposures (
    id                INTEGER PRIMARY KEY,
    incident_id       BIGINT NOT NULL REFERENCES incidents (id),
    -- the case the exposure leads back to
    case_id           BIGINT NOT NULL REFERENCES cases (id),
    -- whom the contact met: the case's person, or (secondary) a close contact
    source_person_id  BIGINT NOT NULL REFERENCES persons (id),
    contact_person_id BIGINT NOT NULL REFERENCES persons (id),
    -- a secondary contact's: the close contact's own exposure
    via_exposure_id   BIGINT REFERENCES exposures (id),
    -- household, work, meal, vehicle, venue, care, other
    kind              TEXT NOT NULL,
    -- close, secondary, place_exposed, companion, general
    degree            TEXT NOT NULL,
    first_at          TIMESTAMPTZ,
    last_at           TIMESTAMPTZ,
    -- proposed, confirmed, dismissed, handed_over
    status            TEXT NOT NULL,
    -- the contact's area
    area_code         TEXT NOT NULL,
    note              TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    created_by        TEXT NOT NULL,
    decided_at        TIMESTAMPTZ,
    decided_by        TEXT
);
CREATE UNIQUE INDEX exposures_path ON exposures (case_id, source_person_id, contact_person_id, kind);
CREATE INDEX exposures_contact ON exposures (contact_person_id, status);
CREATE INDEX exposures_source ON exposures (source_person_id, degree);
CREATE INDEX exposures_area ON exposures (area_code, status);

CREATE TABLE assist_requests (
    id          INTEGER PRIMARY KEY,
    exposure_id BIGINT NOT NULL REFERENCES exposures (id),
    -- the county asked to find and control the person
    to_area     TEXT NOT NULL,
    from_area   TEXT NOT NULL,
    -- JSON: the facts the other jurisdiction needs
    facts       TEXT NOT NULL,
    -- open, answered
    status      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    answer      TEXT
);
CREATE UNIQUE INDEX assist_requests_exposure ON assist_requests (exposure_id);
CREATE INDEX assist_requests_to ON assist_requests (to_area, status);

CREATE TABLE observation_orders (
    id               INTEGER PRIMARY KEY,
    incident_id      BIGINT NOT NULL REFERENCES incidents (id),
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    -- close_contact, secondary_contact
    category         TEXT NOT NULL,
    last_exposure_at TIMESTAMPTZ NOT NULL,
    rule_set         TEXT NOT NULL,
    -- awaiting_transfer, in_transit, centralized, home_quarantine, home_monitoring, released, case
    status           TEXT NOT NULL,
    area_code        TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE UNIQUE INDEX observation_orders_person ON observation_orders (incident_id, person_id);
CREATE INDEX observation_orders_status ON observation_orders (status, area_code);
