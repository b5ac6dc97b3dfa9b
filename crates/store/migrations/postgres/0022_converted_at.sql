-- When an asymptomatic infection was converted to a confirmed case (无症状感染者转为确诊病例):
-- the daily report counts conversions by day.
ALTER TABLE cases ADD COLUMN converted_at TIMESTAMPTZ;
