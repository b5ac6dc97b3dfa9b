-- The read-only observer (viewer) reads the situation and the lists behind it: testing, tracing
-- and quarantine, read only. A store whose roles are already seeded gives the viewer those
-- permissions when it has viewer rows; a new store seeds every role from its defaults.
INSERT INTO role_permissions (role, permission)
SELECT 'viewer', p.permission FROM (
    SELECT 'testing.read' AS permission UNION ALL SELECT 'tracing.read' UNION ALL SELECT 'quarantine.read'
) p WHERE EXISTS (SELECT 1 FROM role_permissions WHERE role = 'viewer')
ON CONFLICT DO NOTHING;
