-- Venues with their place codes (场所码) and the scans of them. Logically identical to the other
-- dialect's 0010_venues_checkins.sql (a test compares them).

CREATE TABLE venues (
    id        INTEGER PRIMARY KEY,
    -- the code printed on the venue's QR poster
    code      TEXT NOT NULL,
    name      TEXT NOT NULL,
    area_code TEXT NOT NULL,
    address   TEXT
);
CREATE UNIQUE INDEX venues_code ON venues (code);

-- Tens of millions of rows: times are whole seconds since 1970 (UTC) in a BIGINT, the narrowest
-- portable form; no surrogate key. A scan is unique by person, time and venue, so loading a file
-- again changes nothing.
CREATE TABLE checkins (
    person_id BIGINT NOT NULL,
    venue_id  BIGINT NOT NULL,
    at_s      BIGINT NOT NULL,
    -- the exit scan, when there was one
    left_s    BIGINT
);
CREATE UNIQUE INDEX checkins_person ON checkins (person_id, at_s, venue_id);
CREATE INDEX checkins_venue ON checkins (venue_id, at_s);
