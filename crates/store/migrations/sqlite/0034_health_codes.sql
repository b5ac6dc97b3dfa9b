-- Health codes stored and kept current: each person's code as last derived (its colour and
-- reasons as JSON), until when it holds unless the facts change (review_at), every change of
-- colour kept, and the counts by colour per area. A change of the facts marks the person in
-- code_dirty (the triggers below, and the zone acts for everyone inside); the store's refresh
-- derives the marked again, a zone's residents in a few statements (code_work is its scratch).
-- Logically identical to the other dialect's 0034_health_codes.sql (a test compares them).

CREATE TABLE health_codes (
    person_id   INTEGER PRIMARY KEY REFERENCES persons (id),
    -- the person's area when derived, for the counts and the lists by area
    area_code   TEXT NOT NULL,
    -- green, yellow, red
    colour      TEXT NOT NULL,
    -- the code as JSON: {"colour", "reasons": [{"code", "colour", "zh", "en", "since", "until"}]}
    code        TEXT NOT NULL,
    -- derive again from this instant on (a reason's end, an override's expiry), if ever
    review_at   TIMESTAMPTZ,
    -- when the colour last changed
    changed_at  TIMESTAMPTZ NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX health_codes_colour_area ON health_codes (colour, area_code, person_id);
CREATE INDEX health_codes_review ON health_codes (review_at) WHERE review_at IS NOT NULL;

CREATE TABLE health_code_changes (
    id          INTEGER PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    colour_from TEXT NOT NULL,
    colour_to   TEXT NOT NULL,
    code        TEXT NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX health_code_changes_person ON health_code_changes (person_id, id);

-- People by colour per area (the person's own area), kept by the refresh.
CREATE TABLE health_code_counts (
    area_code TEXT NOT NULL,
    colour    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (area_code, colour)
);

-- People whose facts changed since their code was derived.
CREATE TABLE code_dirty (
    person_id INTEGER PRIMARY KEY,
    n         BIGINT NOT NULL DEFAULT 1
);

-- The refresh's scratch: the people being derived, their strictest zone and latest missed round.
CREATE TABLE code_work (
    person_id    INTEGER PRIMARY KEY,
    zone_id      BIGINT,
    missed_round BIGINT,
    special      BOOLEAN NOT NULL DEFAULT FALSE
);

-- Progress marks of the refresh: the highest person id whose first code has been derived.
CREATE TABLE code_marks (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TRIGGER cases_code_insert AFTER INSERT ON cases WHEN NEW.person_id IS NOT NULL
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER cases_code_update AFTER UPDATE ON cases WHEN NEW.person_id IS NOT NULL
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER hospital_stays_code_insert AFTER INSERT ON hospital_stays
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) SELECT person_id FROM cases WHERE id = NEW.case_id AND person_id IS NOT NULL; END;
CREATE TRIGGER hospital_stays_code_update AFTER UPDATE ON hospital_stays
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) SELECT person_id FROM cases WHERE id = NEW.case_id AND person_id IS NOT NULL; END;
CREATE TRIGGER observation_orders_code_insert AFTER INSERT ON observation_orders
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER observation_orders_code_update AFTER UPDATE ON observation_orders
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER recalls_code_insert AFTER INSERT ON recalls
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER recalls_code_update AFTER UPDATE ON recalls
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
-- a fever (37.3 °C; a little lower here, a mark too many costs one derivation)
CREATE TRIGGER health_checks_code_insert AFTER INSERT ON health_checks WHEN NEW.temperature >= 37.0
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) SELECT person_id FROM observation_orders WHERE id = NEW.order_id; END;
CREATE TRIGGER round_exemptions_code_insert AFTER INSERT ON round_exemptions
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER code_overrides_code_insert AFTER INSERT ON code_overrides
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.person_id); END;
-- a move: another zone may hold them
CREATE TRIGGER persons_code_update AFTER UPDATE OF area_code, household_id ON persons
WHEN OLD.area_code IS NOT NEW.area_code OR OLD.household_id IS NOT NEW.household_id
BEGIN INSERT OR IGNORE INTO code_dirty (person_id) VALUES (NEW.id); END;
