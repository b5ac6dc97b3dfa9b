-- The entries the headquarters types into the incident's timeline (大事记), beside the events
-- every module records in its own tables. Logically identical to the other dialect's
-- 0044_timeline.sql.

CREATE TABLE timeline_entries (
    id           INTEGER PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents (id),
    at           TIMESTAMPTZ NOT NULL,
    text         TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    recorded_by  TEXT NOT NULL
);
CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, at);
CREATE INDEX instructions_issued ON instructions (incident_id, issued_at);
CREATE INDEX task_forces_incident ON task_forces (incident_id, created_at);
CREATE INDEX cases_incident_created ON cases (incident_id, created_at);
CREATE INDEX transfers_incident_arrived ON transfers (incident_id, arrived_at);
