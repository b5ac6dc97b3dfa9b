-- Closed-loop transfers: vehicles, hospitals as destinations, transfer orders and who rides.
-- Logically identical to the other dialect's 0016_transfers.sql (a test compares them).

CREATE TABLE vehicles (
    id        INTEGER PRIMARY KEY,
    plate     TEXT NOT NULL,
    -- bus, ambulance, car
    kind      TEXT NOT NULL,
    seats     INTEGER NOT NULL,
    area_code TEXT NOT NULL REFERENCES areas (code),
    driver    TEXT,
    phone     TEXT
);
CREATE UNIQUE INDEX vehicles_plate ON vehicles (plate);

CREATE TABLE hospitals (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    -- designated, shelter
    kind      TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES areas (code),
    beds      INTEGER NOT NULL
);
CREATE UNIQUE INDEX hospitals_name ON hospitals (name);

CREATE TABLE transfers (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    -- positive_to_hospital, contact_to_site, release_home
    kind          TEXT NOT NULL,
    vehicle_id    BIGINT REFERENCES vehicles (id),
    escort        TEXT,
    from_place    TEXT NOT NULL,
    to_place      TEXT NOT NULL,
    to_site_id    BIGINT REFERENCES quarantine_sites (id),
    to_hospital_id BIGINT REFERENCES hospitals (id),
    -- the area whose dispatchers see it
    area_code     TEXT NOT NULL,
    -- planned, dispatched, picked_up, arrived, cancelled
    status        TEXT NOT NULL,
    deadline      TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL,
    dispatched_at TIMESTAMPTZ,
    picked_up_at  TIMESTAMPTZ,
    arrived_at    TIMESTAMPTZ
);
CREATE INDEX transfers_status ON transfers (status, deadline);
CREATE INDEX transfers_vehicle ON transfers (vehicle_id, status);

CREATE TABLE transfer_people (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id),
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    order_id    BIGINT REFERENCES observation_orders (id),
    case_id     BIGINT REFERENCES cases (id),
    PRIMARY KEY (transfer_id, person_id)
);
CREATE INDEX transfer_people_order ON transfer_people (order_id);
CREATE INDEX transfer_people_case ON transfer_people (case_id);
