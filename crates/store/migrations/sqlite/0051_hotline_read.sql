-- Reading the hotline's tickets is a permission of its own: the operator, the community worker
-- (their village's tickets), the commander and the read-only observer hold it. A store whose
-- roles are already seeded gives it to those roles; a new store seeds every role from its
-- defaults.
-- Logically identical to the other dialect's 0051_hotline_read.sql.
INSERT INTO role_permissions (role, permission)
SELECT r.role, 'hotline.read' FROM (
    SELECT 'hotline_operator' AS role UNION ALL SELECT 'community_worker' UNION ALL SELECT 'commander' UNION ALL SELECT 'viewer'
) r WHERE EXISTS (SELECT 1 FROM role_permissions p WHERE p.role = r.role)
ON CONFLICT DO NOTHING;
