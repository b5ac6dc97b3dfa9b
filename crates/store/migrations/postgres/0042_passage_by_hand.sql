-- What the officer did at the booth with a passage the phone kept while the network was down
-- (checked by hand: 'pass', 'register' or 'refuse'), beside what the rules decided once it
-- arrived, so that the log shows where the two part. Null for a passage decided as it happened.
-- Logically identical to the other dialect's 0042_passage_by_hand.sql.

ALTER TABLE passages ADD COLUMN by_hand TEXT;
