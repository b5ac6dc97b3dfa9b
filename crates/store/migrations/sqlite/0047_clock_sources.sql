-- The clocks board counts positives not yet in hospital by where they are, contacts not yet in
-- quarantine by their order's state and tubes without a result, each from an index holding the
-- area and the deadline's column (no row read; the tubes' index leads with `result`, so
-- that SQLite prefers it to tubes_result for `result IS NULL`). The daily report reads an area's
-- cases and orders from indexes holding every column its figures ask (a county's million orders
-- without their rows), and a window's hourly counts by the hour. Logically identical to the other dialect's 0047_clock_sources.sql.

CREATE INDEX cases_place ON cases (place, area_code, created_at, classification);
CREATE INDEX observation_orders_clock ON observation_orders (status, area_code, created_at);
CREATE INDEX tubes_open ON tubes (result, area_code, sealed_at) WHERE result IS NULL AND sealed_at IS NOT NULL;
CREATE INDEX cases_report ON cases (area_code, classification, origin, how_found, report_date, created_at, converted_at);
CREATE INDEX observation_orders_report ON observation_orders (area_code, category, created_at, released_at, status);
CREATE INDEX round_hour_counts_hour ON round_hour_counts (hour);
-- A window's tubes with their area, for the report's tubes sampled.
DROP INDEX tubes_opened;
CREATE INDEX tubes_opened ON tubes (opened_at, area_code);
