-- A transfer's end that is the people's own place (their home, or where they are now) is stored
-- empty and named by each face in its language from the transfer's kind; rows written before
-- carried the Chinese label. Likewise the admission's entry in a stay's severity log, which the
-- page names. Same in crates/store/migrations/sqlite/0019_own_place.sql.
UPDATE transfers SET from_place = '' WHERE from_place IN ('居住地 / 所在地', '病例所在地');
UPDATE transfers SET to_place = '' WHERE to_place = '居住地';
UPDATE severity_changes SET note = '' WHERE note = '入院';
