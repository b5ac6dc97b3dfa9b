-- The audit trail is chained: each event carries the SHA-256 of its contents and of the event
-- before it (written by Cordon, checked by `cordon audit verify`). Events from before this
-- migration have none and are reported as from before the chain began.
ALTER TABLE audit_events ADD COLUMN hash TEXT;
