-- Labs, tube results, recalls of positive pools, and positive persons.
-- Logically identical to the other dialect's 0005_labs_results_recalls.sql (a test compares them).

CREATE TABLE labs (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    area_code      TEXT NOT NULL REFERENCES areas (code),
    daily_capacity INTEGER NOT NULL
);
CREATE UNIQUE INDEX labs_name ON labs (name);

ALTER TABLE tubes ADD COLUMN lab_id BIGINT REFERENCES labs (id);
-- negative, positive, pooled_suspect, invalid
ALTER TABLE tubes ADD COLUMN result TEXT;
ALTER TABLE tubes ADD COLUMN ct_orf1ab REAL;
ALTER TABLE tubes ADD COLUMN ct_n REAL;
ALTER TABLE tubes ADD COLUMN resulted_at TIMESTAMPTZ;
CREATE INDEX tubes_result ON tubes (result, resulted_at);

CREATE TABLE recalls (
    id             INTEGER PRIMARY KEY,
    round_id       BIGINT NOT NULL REFERENCES testing_rounds (id),
    tube_id        BIGINT NOT NULL REFERENCES tubes (id),
    person_id      BIGINT NOT NULL REFERENCES persons (id),
    -- the person's area, for the community and scoping
    area_code      TEXT NOT NULL,
    -- open, negative (released), positive (a positive person)
    status         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    deadline       TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    retest_tube_id BIGINT REFERENCES tubes (id)
);
CREATE UNIQUE INDEX recalls_tube_person ON recalls (tube_id, person_id);
CREATE INDEX recalls_person_status ON recalls (person_id, status);
CREATE INDEX recalls_status_area ON recalls (status, area_code);

CREATE TABLE positive_persons (
    id        INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
    tube_id   BIGINT NOT NULL REFERENCES tubes (id),
    area_code TEXT NOT NULL,
    found_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX positive_persons_person_round ON positive_persons (person_id, round_id);
CREATE INDEX positive_persons_area ON positive_persons (area_code, found_at);
