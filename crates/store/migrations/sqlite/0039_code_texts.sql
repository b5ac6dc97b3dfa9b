-- A zone act changes the colour of everyone inside for the same reason: the code it writes is the
-- same text for them all. Each change of colour kept a copy of it (100,000 residents: 100,000
-- copies, a third of the act's writes); the refresh now writes the text once per group and the
-- changes name it. A change derived one by one keeps its own text. Logically identical to the
-- other dialect's 0039_code_texts.sql (a test compares them); SQLite cannot drop a NOT NULL, so
-- the table is rebuilt with its rows.

CREATE TABLE code_texts (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL
);

CREATE TABLE health_code_changes_new (
    id          INTEGER PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    colour_from TEXT NOT NULL,
    colour_to   TEXT NOT NULL,
    code        TEXT,
    changed_at  TIMESTAMPTZ NOT NULL,
    code_id     BIGINT REFERENCES code_texts (id)
);
INSERT INTO health_code_changes_new (id, person_id, colour_from, colour_to, code, changed_at)
    SELECT id, person_id, colour_from, colour_to, code, changed_at FROM health_code_changes;
DROP TABLE health_code_changes;
ALTER TABLE health_code_changes_new RENAME TO health_code_changes;
CREATE INDEX health_code_changes_person ON health_code_changes (person_id, id);
