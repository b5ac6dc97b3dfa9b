-- Areas are found by name too: an administrator types 东关村 or 清源镇 for an account's areas.
CREATE INDEX areas_name ON areas (name);
