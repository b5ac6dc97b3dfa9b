-- A health code set by hand over the derived one: its colour, reason and expiry, who set it.
-- Logically identical to the other dialect's 0033_code_overrides.sql (a test compares them).

CREATE TABLE code_overrides (
    id        INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    -- green, yellow, red
    colour    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    until     TIMESTAMPTZ NOT NULL,
    set_at    TIMESTAMPTZ NOT NULL,
    set_by    TEXT NOT NULL
);
CREATE INDEX code_overrides_person ON code_overrides (person_id, id);
