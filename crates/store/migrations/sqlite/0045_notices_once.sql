-- An account has at most one unread notice of a kind for an instruction: a fan-out to two
-- hundred villages tells its issuer once that completions wait or that some are overdue, and two
-- completions at one moment cannot tell them twice. Older unread repeats are marked read.
-- Logically identical to the other dialect's 0045_notices_once.sql.

UPDATE notices SET read_at = created_at
    WHERE read_at IS NULL AND id NOT IN (SELECT MIN(id) FROM notices WHERE read_at IS NULL GROUP BY user_id, kind, instruction_id);
CREATE UNIQUE INDEX notices_unread ON notices (user_id, kind, instruction_id) WHERE read_at IS NULL;
