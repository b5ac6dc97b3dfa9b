-- The citizen hotline (热线 / 12345): tickets with their steps 受理 → 派单 → 签收 → 处置 → 回访 →
-- 结案, the clock of the step each waits for (`due_at`), the units added to one (加派), each
-- ticket's history, the clocks the headquarters configured, and the counts per day, township,
-- category and status kept by every write for the boards and the daily report.
-- Logically identical to the other dialect's 0050_hotline.sql.

CREATE TABLE hotline_tickets (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    caller          TEXT NOT NULL,
    phone           TEXT NOT NULL,
    address         TEXT NOT NULL,
    -- the area the address resolved to, and the unit (village or township) now answering it
    area_code       TEXT NOT NULL,
    unit_area       TEXT,
    content         TEXT NOT NULL,
    status          TEXT NOT NULL,
    -- when the current step began, and when it is due
    step_at         TIMESTAMPTZ NOT NULL,
    due_at          TIMESTAMPTZ,
    calls           BIGINT NOT NULL DEFAULT 1,
    last_call_at    TIMESTAMPTZ NOT NULL,
    accepted_at     TIMESTAMPTZ NOT NULL,
    accepted_by     TEXT NOT NULL,
    dispatched_at   TIMESTAMPTZ,
    signed_at       TIMESTAMPTZ,
    signed_by       TEXT,
    handled_at      TIMESTAMPTZ,
    handled_by      TEXT,
    result          TEXT NOT NULL DEFAULT '',
    called_back_at  TIMESTAMPTZ,
    called_back_by  TEXT,
    satisfaction    TEXT,
    callback_note   TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMPTZ,
    closed_by       TEXT,
    supervised_at   TIMESTAMPTZ,
    supervised_by   TEXT,
    supervise_note  TEXT NOT NULL DEFAULT '',
    return_reason   TEXT NOT NULL DEFAULT '',
    reopened        BIGINT NOT NULL DEFAULT 0,
    supply_request_id BIGINT REFERENCES supply_requests (id),
    transfer_id     BIGINT,
    client_id       TEXT
);
CREATE UNIQUE INDEX hotline_tickets_client ON hotline_tickets (client_id) WHERE client_id IS NOT NULL;
-- a unit's board and the centre's: the open tickets, the soonest due first
CREATE INDEX hotline_tickets_unit ON hotline_tickets (unit_area, due_at) WHERE status <> 'closed';
CREATE INDEX hotline_tickets_open ON hotline_tickets (due_at, area_code) WHERE status <> 'closed';
CREATE INDEX hotline_tickets_area ON hotline_tickets (area_code, id);
-- a repeat call: the same phone, category and area within a day
CREATE INDEX hotline_tickets_repeat ON hotline_tickets (phone, category, area_code, accepted_at);

-- A second unit added to a ticket (加派): it signs for and handles its part.
CREATE TABLE hotline_ticket_units (
    ticket_id       BIGINT NOT NULL REFERENCES hotline_tickets (id),
    unit_area       TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    added_at        TIMESTAMPTZ NOT NULL,
    added_by        TEXT NOT NULL,
    due_at          TIMESTAMPTZ,
    signed_at       TIMESTAMPTZ,
    signed_by       TEXT,
    handled_at      TIMESTAMPTZ,
    handled_by      TEXT,
    result          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, unit_area)
);
CREATE INDEX hotline_ticket_units_open ON hotline_ticket_units (unit_area, due_at) WHERE handled_at IS NULL;

-- A ticket's history: each act, by whom, when, for which unit, and what was said.
CREATE TABLE hotline_events (
    id              INTEGER PRIMARY KEY,
    ticket_id       BIGINT NOT NULL REFERENCES hotline_tickets (id),
    act             TEXT NOT NULL,
    status          TEXT NOT NULL,
    unit_area       TEXT,
    note            TEXT NOT NULL DEFAULT '',
    at              TIMESTAMPTZ NOT NULL,
    actor           TEXT NOT NULL,
    -- a repeat call's client id: the same call sent again joins once
    client_id       TEXT
);
CREATE INDEX hotline_events_ticket ON hotline_events (ticket_id, id);
CREATE UNIQUE INDEX hotline_events_client ON hotline_events (client_id) WHERE client_id IS NOT NULL;

-- The clocks the headquarters set for a category and urgency (the defaults otherwise).
CREATE TABLE hotline_limits (
    category        TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    sign_minutes    BIGINT NOT NULL CHECK (sign_minutes > 0),
    handle_minutes  BIGINT NOT NULL CHECK (handle_minutes > 0),
    callback_minutes BIGINT NOT NULL CHECK (callback_minutes > 0),
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (category, urgency)
);

-- Tickets accepted on a day (local) in a township, by category and where they stand now.
CREATE TABLE hotline_counts (
    day             DATE NOT NULL,
    township        TEXT NOT NULL,
    category        TEXT NOT NULL,
    status          TEXT NOT NULL,
    n               BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (day, township, category, status)
);

-- A supply request raised from a ticket names it.
ALTER TABLE supply_requests ADD COLUMN ticket_id BIGINT REFERENCES hotline_tickets (id);
