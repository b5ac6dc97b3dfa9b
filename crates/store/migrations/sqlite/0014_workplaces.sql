-- Workplaces and their staff rosters (单位花名册), from which a case's co-workers are proposed as
-- candidates and a close contact's co-workers as secondary contacts. Logically identical to the
-- other dialect's 0014_workplaces.sql (a test compares them).

CREATE TABLE workplaces (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    area_code TEXT NOT NULL
);
CREATE UNIQUE INDEX workplaces_name ON workplaces (area_code, name);

CREATE TABLE workplace_members (
    workplace_id BIGINT NOT NULL REFERENCES workplaces (id),
    person_id    BIGINT NOT NULL REFERENCES persons (id),
    -- the team or shift (班组) the person works in; colleagues of one team count as having
    -- worked together, the whole workplace when no team is given
    unit         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workplace_id, person_id)
);
CREATE INDEX workplace_members_person ON workplace_members (person_id);
