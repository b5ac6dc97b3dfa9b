-- A supply request rejected says why: the reason kept beside who decided and when.
-- Logically identical to the other dialect's 0049_supply_decisions.sql.

ALTER TABLE supply_requests ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
