-- A passage kept on an officer's phone while the network was down is logged with the time the
-- person passed (sent by the phone, bounded) and the time it reached the server, so that the log
-- says which decisions were made by hand at the booth and checked by the rules only later.
-- Rows before this have none. Logically identical to the other dialect's 0038_passage_received.sql.

ALTER TABLE passages ADD COLUMN received_at TIMESTAMPTZ;
