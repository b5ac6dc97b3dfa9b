-- The daily report's signed versions (日报): each signature freezes the figures of an area and
-- its townships as JSON; a correction is the next version. Indexes for the day's reads (tubes opened,
-- orders released). Logically identical to the other dialect's 0046_daily_reports.sql.

CREATE TABLE daily_reports (
    id           INTEGER PRIMARY KEY,
    area_code    TEXT NOT NULL REFERENCES areas (code),
    day          DATE NOT NULL,
    version      INTEGER NOT NULL,
    cutoff       INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end   TIMESTAMPTZ NOT NULL,
    figures      TEXT NOT NULL,
    reason       TEXT,
    signed_at    TIMESTAMPTZ NOT NULL,
    signed_by    TEXT NOT NULL
);
CREATE UNIQUE INDEX daily_reports_version ON daily_reports (area_code, day, version);
CREATE INDEX daily_reports_signed ON daily_reports (signed_at);
CREATE INDEX tubes_opened ON tubes (opened_at);
CREATE INDEX observation_orders_released ON observation_orders (released_at);
