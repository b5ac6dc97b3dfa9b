-- One row per stored batch of scans, written in the batch's transaction. Logically identical to
-- the other dialect's 0013_checkin_writes.sql (a test compares them). A process that holds the
-- contact graph in memory counts the rows past its snapshot to tell whether another process
-- has stored scans it has not seen.

CREATE TABLE checkin_writes (
    id   INTEGER PRIMARY KEY,
    rows BIGINT NOT NULL
);
