-- Medical observation: edited rule sets, each order's computed schedule, quarantine sites with
-- rooms, room stays, twice-daily health checks and the tests taken under observation.
-- Logically identical to the other dialect's 0015_observation_sites.sql (a test compares them).

-- Rule sets an admin copied and edited; the built-in ones live in domain::observation.
CREATE TABLE rule_sets (
    name        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    -- JSON of domain::observation::RuleSet
    body        TEXT NOT NULL,
    copied_from TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL
);

-- The local day observation began (a contact found late serves only the remaining days).
ALTER TABLE observation_orders ADD COLUMN found_on DATE;
-- The schedule, as computed by domain::observation::Schedule: its last day, the last day of
-- centralized quarantine, and the planned test days ('YYYY-MM-DD' joined by ','; a test day
-- with 双采双检 ends in '*').
ALTER TABLE observation_orders ADD COLUMN release_on DATE;
ALTER TABLE observation_orders ADD COLUMN centralized_until DATE;
ALTER TABLE observation_orders ADD COLUMN test_dates TEXT NOT NULL DEFAULT '';
-- A secondary contact's close contact, whose first tests their release waits for.
ALTER TABLE observation_orders ADD COLUMN via_person_id BIGINT REFERENCES persons (id);
-- Where a centralized stage is served.
ALTER TABLE observation_orders ADD COLUMN site_id BIGINT;
ALTER TABLE observation_orders ADD COLUMN room_id BIGINT;
ALTER TABLE observation_orders ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE observation_orders ADD COLUMN released_at TIMESTAMPTZ;
CREATE INDEX observation_orders_release ON observation_orders (release_on, status);
CREATE INDEX observation_orders_site ON observation_orders (site_id, status);
CREATE INDEX observation_orders_via ON observation_orders (via_person_id);

CREATE TABLE quarantine_sites (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    -- hotel, dormitory, purpose_built, other
    kind       TEXT NOT NULL,
    area_code  TEXT NOT NULL REFERENCES areas (code),
    address    TEXT NOT NULL,
    head_name  TEXT NOT NULL,
    head_phone TEXT,
    staff      INTEGER NOT NULL,
    -- whether people of one household may share a room (the rule set allows it)
    households_share BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX quarantine_sites_name ON quarantine_sites (area_code, name);

CREATE TABLE rooms (
    id        INTEGER PRIMARY KEY,
    site_id   BIGINT NOT NULL REFERENCES quarantine_sites (id),
    building  TEXT NOT NULL,
    floor     INTEGER NOT NULL,
    number    TEXT NOT NULL,
    beds      INTEGER NOT NULL,
    occupants INTEGER NOT NULL DEFAULT 0,
    -- free, occupied, cleaning, out_of_use
    status    TEXT NOT NULL
);
CREATE UNIQUE INDEX rooms_site_number ON rooms (site_id, building, number);
CREATE INDEX rooms_site_status ON rooms (site_id, status, floor);

CREATE TABLE room_stays (
    id             INTEGER PRIMARY KEY,
    room_id        BIGINT NOT NULL REFERENCES rooms (id),
    site_id        BIGINT NOT NULL REFERENCES quarantine_sites (id),
    order_id       BIGINT NOT NULL REFERENCES observation_orders (id),
    person_id      BIGINT NOT NULL REFERENCES persons (id),
    assigned_at    TIMESTAMPTZ NOT NULL,
    checked_in_at  TIMESTAMPTZ,
    checked_out_at TIMESTAMPTZ
);
CREATE INDEX room_stays_room ON room_stays (room_id, checked_out_at);
CREATE INDEX room_stays_order ON room_stays (order_id);
CREATE INDEX room_stays_site ON room_stays (site_id, checked_out_at);

CREATE TABLE health_checks (
    id          INTEGER PRIMARY KEY,
    order_id    BIGINT NOT NULL REFERENCES observation_orders (id),
    checked_on  DATE NOT NULL,
    -- morning, evening
    slot        TEXT NOT NULL,
    temperature REAL NOT NULL,
    symptoms    TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE UNIQUE INDEX health_checks_order_slot ON health_checks (order_id, checked_on, slot);

CREATE TABLE observation_tests (
    id          INTEGER PRIMARY KEY,
    order_id    BIGINT NOT NULL REFERENCES observation_orders (id),
    taken_on    DATE NOT NULL,
    taken_at    TIMESTAMPTZ NOT NULL,
    tube_id     BIGINT REFERENCES tubes (id),
    -- pending, negative, positive
    outcome     TEXT NOT NULL,
    resulted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX observation_tests_order_day ON observation_tests (order_id, taken_on);
CREATE INDEX observation_tests_tube ON observation_tests (tube_id);
