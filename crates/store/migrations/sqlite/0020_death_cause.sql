-- A death is recorded with its cause (and its time, died_at). Same in
-- crates/store/migrations/postgres/0020_death_cause.sql.
ALTER TABLE hospital_stays ADD COLUMN death_cause TEXT;
