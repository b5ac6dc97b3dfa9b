-- The headquarters as a command: the incident's response level with its changes, its task forces
-- (专班) with a lead and members, and instructions (指令) to many recipients, each with its own
-- state and clock, the acts on it, and the notices they raise for the accounts concerned.
-- Logically identical to the other dialect's 0043_command.sql.

CREATE TABLE incident_levels (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    level         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL,
    changed_by    TEXT NOT NULL
);
CREATE INDEX incident_levels_incident ON incident_levels (incident_id, changed_at);

CREATE TABLE task_forces (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    lead_user_id  BIGINT REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE UNIQUE INDEX task_forces_name ON task_forces (incident_id, name);

CREATE TABLE task_force_members (
    task_force_id BIGINT NOT NULL REFERENCES task_forces (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    added_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (task_force_id, user_id)
);
CREATE INDEX task_force_members_user ON task_force_members (user_id);

CREATE TABLE instructions (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    -- the task force whose lead issued it; null for the headquarters itself
    task_force_id BIGINT REFERENCES task_forces (id),
    issued_by_id  BIGINT REFERENCES users (id),
    issued_by     TEXT NOT NULL,
    issued_at     TIMESTAMPTZ NOT NULL,
    deadline      TIMESTAMPTZ NOT NULL
);
CREATE INDEX instructions_incident ON instructions (incident_id, id);

CREATE TABLE instruction_recipients (
    id             INTEGER PRIMARY KEY,
    instruction_id BIGINT NOT NULL REFERENCES instructions (id),
    -- 'task_force', 'area' or 'user', with the one column it names
    kind           TEXT NOT NULL,
    task_force_id  BIGINT REFERENCES task_forces (id),
    area_code      TEXT REFERENCES areas (code),
    user_id        BIGINT REFERENCES users (id),
    state          TEXT NOT NULL,
    deadline       TIMESTAMPTZ NOT NULL,
    assigned_at    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ,
    done_at        TIMESTAMPTZ,
    closed_at      TIMESTAMPTZ,
    escalated_at   TIMESTAMPTZ,
    report         TEXT,
    -- the recipient this one took over from on a reassignment
    replaces_id    BIGINT REFERENCES instruction_recipients (id),
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX instruction_recipients_instruction ON instruction_recipients (instruction_id, id);
-- the open ones past their deadline, for the escalation pass
CREATE INDEX instruction_recipients_open ON instruction_recipients (state, deadline);
CREATE INDEX instruction_recipients_task_force ON instruction_recipients (task_force_id) WHERE task_force_id IS NOT NULL;
CREATE INDEX instruction_recipients_user ON instruction_recipients (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX instruction_recipients_area ON instruction_recipients (area_code) WHERE area_code IS NOT NULL;

CREATE TABLE instruction_events (
    id            INTEGER PRIMARY KEY,
    recipient_id  BIGINT NOT NULL REFERENCES instruction_recipients (id),
    act           TEXT NOT NULL,
    note          TEXT,
    at            TIMESTAMPTZ NOT NULL,
    by_name       TEXT NOT NULL
);
CREATE INDEX instruction_events_recipient ON instruction_events (recipient_id, id);

CREATE TABLE notices (
    id             INTEGER PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    kind           TEXT NOT NULL,
    instruction_id BIGINT NOT NULL REFERENCES instructions (id),
    recipient_id   BIGINT NOT NULL REFERENCES instruction_recipients (id),
    created_at     TIMESTAMPTZ NOT NULL,
    read_at        TIMESTAMPTZ
);
CREATE INDEX notices_user ON notices (user_id, id);
