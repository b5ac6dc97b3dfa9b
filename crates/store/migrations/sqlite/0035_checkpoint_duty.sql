-- Checkpoints around the clock: duty shifts with who is on duty, arrivals from outside the county
-- registered on the spot (and, from a risk area, the observation order they were given), and a
-- passage's client id so that a passage queued on an offline phone is logged once however often
-- it is sent. Logically identical to the other dialect's 0035_checkpoint_duty.sql (a test
-- compares them).

CREATE TABLE checkpoint_shifts (
    id            INTEGER PRIMARY KEY,
    checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    -- who leads the shift, and a phone to reach the post
    lead          TEXT NOT NULL,
    phone         TEXT,
    -- everyone on duty, as typed (names separated by commas)
    staff         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX checkpoint_shifts_checkpoint ON checkpoint_shifts (checkpoint_id, starts_at);

ALTER TABLE passages ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX passages_client ON passages (checkpoint_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE arrivals (
    id            INTEGER PRIMARY KEY,
    passage_id    BIGINT NOT NULL REFERENCES passages (id),
    checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
    person_id     BIGINT NOT NULL REFERENCES persons (id),
    -- where they came from, as said at the booth
    from_place    TEXT NOT NULL,
    -- high, medium, low: the risk of the place they came from
    from_risk     TEXT NOT NULL,
    -- where they are going in the county
    area_code     TEXT NOT NULL REFERENCES areas (code),
    -- the observation order given for a risk area, if any
    order_id      BIGINT REFERENCES observation_orders (id),
    registered_at TIMESTAMPTZ NOT NULL,
    registered_by TEXT NOT NULL
);
CREATE UNIQUE INDEX arrivals_passage ON arrivals (passage_id);
CREATE INDEX arrivals_checkpoint ON arrivals (checkpoint_id, registered_at);
