-- Area boundaries for the zone map, as imported from a civil-affairs GeoJSON file (or drawn by
-- the demo): one outline per area, its GeoJSON geometry as text, and the box it lies in. An
-- import again replaces an area's outline. Logically identical to the other dialect's
-- 0036_area_boundaries.sql (a test compares them).

CREATE TABLE area_boundaries (
    area_code   TEXT COLLATE "C" PRIMARY KEY REFERENCES areas (code),
    -- the GeoJSON geometry (Polygon or MultiPolygon), longitude and latitude in degrees
    geometry    TEXT NOT NULL,
    min_lon     DOUBLE PRECISION NOT NULL,
    min_lat     DOUBLE PRECISION NOT NULL,
    max_lon     DOUBLE PRECISION NOT NULL,
    max_lat     DOUBLE PRECISION NOT NULL,
    -- the file it came from, and when
    source      TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
