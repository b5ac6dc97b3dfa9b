-- Checkpoints (卡口) and the passage log: who passed which way, and what the checkpoint decided
-- and why. Logically identical to the other dialect's 0032_checkpoints.sql (a test compares them).

CREATE TABLE checkpoints (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    -- road, highway_exit, village_entrance, zone_boundary, station
    kind          TEXT NOT NULL,
    area_code     TEXT NOT NULL REFERENCES areas (code),
    -- the zone it guards, if any
    zone_id       BIGINT REFERENCES zones (id),
    -- whether passing out here leaves the county
    leaves_county BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE UNIQUE INDEX checkpoints_area_name ON checkpoints (area_code, name);

CREATE TABLE passages (
    id            INTEGER PRIMARY KEY,
    checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
    -- the checkpoint's area, for scoping
    area_code     TEXT NOT NULL,
    -- the person, when the number is in the register
    person_id     BIGINT REFERENCES persons (id),
    -- the identity number as scanned (an arrival not in the register is known by it)
    id_number     TEXT NOT NULL,
    plate         TEXT,
    -- in, out
    direction     TEXT NOT NULL,
    medical_exit  BOOLEAN NOT NULL DEFAULT FALSE,
    -- the health code's colour at the moment, none when not in the register
    colour        TEXT,
    -- pass, register, refuse
    decision      TEXT NOT NULL,
    -- the decision's reasons, their codes joined by ','
    reasons       TEXT NOT NULL,
    passed_at     TIMESTAMPTZ NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX passages_checkpoint ON passages (checkpoint_id, passed_at);
CREATE INDEX passages_person ON passages (person_id, passed_at);
