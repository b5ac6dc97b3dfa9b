-- The investigation of each case (流调任务) with its two clocks, and who works on it.
-- Logically identical to the other dialect's 0009_investigations.sql (a test compares them).

CREATE TABLE investigations (
    id               INTEGER PRIMARY KEY,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    area_code        TEXT NOT NULL,
    opened_at        TIMESTAMPTZ NOT NULL,
    core_due_at      TIMESTAMPTZ NOT NULL,
    report_due_at    TIMESTAMPTZ NOT NULL,
    core_done_at     TIMESTAMPTZ,
    report_done_at   TIMESTAMPTZ,
    -- the investigators' hypothesis of where the case was infected, in the report
    source_hypothesis TEXT
);
CREATE UNIQUE INDEX investigations_case ON investigations (case_id);
CREATE INDEX investigations_open ON investigations (report_done_at, area_code);

CREATE TABLE investigation_assignments (
    id               INTEGER PRIMARY KEY,
    investigation_id BIGINT NOT NULL REFERENCES investigations (id),
    user_id          BIGINT NOT NULL REFERENCES users (id),
    -- phone, site
    part             TEXT NOT NULL,
    assigned_at      TIMESTAMPTZ NOT NULL,
    assigned_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX investigation_assignments_part ON investigation_assignments (investigation_id, part);
CREATE INDEX investigation_assignments_user ON investigation_assignments (user_id, assigned_at);
