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

-- People whose facts changed since their code was derived: appended by the triggers below and
-- by the zone acts, never updated, so that marking takes no lock; the refresh deletes the marks it
-- took (up to a seq), and a mark made meanwhile stays for the next.
CREATE TABLE code_dirty (
    seq       INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL
);
CREATE INDEX code_dirty_person ON code_dirty (person_id);

-- The refresh's scratch: the people being derived, their area, their strictest zone and latest
-- missed round (0 for none), and whether they have more to their name (derived one by one).
CREATE TABLE code_work (
    person_id    BIGINT PRIMARY KEY,
    -- their area now (the code's counts move with them)
    area_code    TEXT NOT NULL,
    zone_id      BIGINT NOT NULL DEFAULT 0,
    missed_round BIGINT NOT NULL DEFAULT 0,
    special      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX code_work_group ON code_work (special, zone_id, missed_round);

-- Progress marks of the refresh: the highest person id whose first code has been derived, and
-- the instant up to which ended rounds have been marked.
CREATE TABLE code_marks (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- What a code is derived from: a case (its number and dates), a hospital stay, an observation
-- order, a recall, a fever, a round's exemption or sample (a sample only for someone whose code
-- is not green: it may clear a missed round), an override, a move.
CREATE TRIGGER cases_code_insert AFTER INSERT ON cases WHEN NEW.person_id IS NOT NULL
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER cases_code_update AFTER UPDATE OF person_id, external_id, sample_date, report_date ON cases WHEN NEW.person_id IS NOT NULL
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER hospital_stays_code_insert AFTER INSERT ON hospital_stays
BEGIN INSERT INTO code_dirty (person_id) SELECT person_id FROM cases WHERE id = NEW.case_id AND person_id IS NOT NULL; END;
CREATE TRIGGER hospital_stays_code_update AFTER UPDATE OF status, discharged_at, monitoring_until, died_at ON hospital_stays
BEGIN INSERT INTO code_dirty (person_id) SELECT person_id FROM cases WHERE id = NEW.case_id AND person_id IS NOT NULL; END;
CREATE TRIGGER observation_orders_code_insert AFTER INSERT ON observation_orders
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER observation_orders_code_update AFTER UPDATE OF person_id, category, status, found_on, release_on, centralized_until ON observation_orders
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER recalls_code_insert AFTER INSERT ON recalls
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER recalls_code_update AFTER UPDATE OF status, deadline ON recalls
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
-- a fever (37.3 °C; a little lower here, a mark too many costs one derivation)
CREATE TRIGGER health_checks_code_insert AFTER INSERT ON health_checks WHEN NEW.temperature >= 37.0
BEGIN INSERT INTO code_dirty (person_id) SELECT person_id FROM observation_orders WHERE id = NEW.order_id; END;
CREATE TRIGGER round_exemptions_code_insert AFTER INSERT ON round_exemptions
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER round_exemptions_code_delete AFTER DELETE ON round_exemptions
BEGIN INSERT INTO code_dirty (person_id) VALUES (OLD.person_id); END;
CREATE TRIGGER samples_code_insert AFTER INSERT ON samples
WHEN EXISTS (SELECT 1 FROM health_codes h WHERE h.person_id = NEW.person_id AND h.colour <> 'green')
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER code_overrides_code_insert AFTER INSERT ON code_overrides
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.person_id); END;
-- a move: another zone may hold them
CREATE TRIGGER persons_code_update AFTER UPDATE OF area_code, household_id ON persons
WHEN OLD.area_code IS NOT NEW.area_code OR OLD.household_id IS NOT NEW.household_id
BEGIN INSERT INTO code_dirty (person_id) VALUES (NEW.id); END;
