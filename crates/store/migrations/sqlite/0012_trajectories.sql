-- Where a case was, when (活动轨迹): entered by the investigator or imported. Logically identical
-- to the other dialect's 0012_trajectories.sql (a test compares them).

CREATE TABLE trajectory_entries (
    id         INTEGER PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    from_at    TIMESTAMPTZ NOT NULL,
    until_at   TIMESTAMPTZ,
    -- home, work, shop, vehicle, venue, medical, other
    kind       TEXT NOT NULL,
    place      TEXT NOT NULL,
    venue_id   BIGINT REFERENCES venues (id),
    -- a vehicle's number, seat or row; a room
    detail     TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX trajectory_entries_case ON trajectory_entries (case_id, from_at);
