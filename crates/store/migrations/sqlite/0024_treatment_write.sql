-- The ward's acts (admission, clinical type, hospital tests, discharge, death) are the
-- hospital staff's (`treatment.write`), no longer the quarantine-site head's. A store whose roles
-- are already seeded gives the new permission to its administrators; a new store seeds every
-- role from its defaults at start-up.
INSERT INTO role_permissions (role, permission)
SELECT 'admin', 'treatment.write' WHERE EXISTS (SELECT 1 FROM role_permissions WHERE role = 'admin')
ON CONFLICT DO NOTHING;
