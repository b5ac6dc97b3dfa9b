-- Zones: sealed, controlled and precaution zones (high-, medium- and low-risk areas under the
-- later schemes), their extent as areas, buildings or households, the cases behind them and
-- every act on them. Logically identical to the other dialect's 0031_zones.sql (a test compares
-- them).

CREATE TABLE zones (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    -- the smallest area holding the whole extent, for scoping
    area_code     TEXT NOT NULL REFERENCES areas (code),
    name          TEXT NOT NULL,
    -- sealed, controlled, precaution (named as the incident's scheme names them)
    kind          TEXT NOT NULL,
    -- whether it came to its kind by a downgrade rather than being drawn so
    downgraded    BOOLEAN NOT NULL DEFAULT FALSE,
    -- the local day its count starts
    since         DATE NOT NULL,
    reason        TEXT NOT NULL,
    -- the people living inside when it was drawn or last extended
    residents     BIGINT NOT NULL DEFAULT 0,
    designated_at TIMESTAMPTZ NOT NULL,
    designated_by TEXT NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL,
    lifted_at     TIMESTAMPTZ,
    lifted_by     TEXT
);
CREATE INDEX zones_area ON zones (area_code, id);
CREATE INDEX zones_incident ON zones (incident_id, kind);

CREATE TABLE zone_areas (
    zone_id   BIGINT NOT NULL REFERENCES zones (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    PRIMARY KEY (zone_id, area_code)
);
CREATE INDEX zone_areas_area ON zone_areas (area_code);

CREATE TABLE zone_buildings (
    zone_id     BIGINT NOT NULL REFERENCES zones (id),
    building_id BIGINT NOT NULL REFERENCES buildings (id),
    PRIMARY KEY (zone_id, building_id)
);
CREATE INDEX zone_buildings_building ON zone_buildings (building_id);

CREATE TABLE zone_households (
    zone_id      BIGINT NOT NULL REFERENCES zones (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    PRIMARY KEY (zone_id, household_id)
);
CREATE INDEX zone_households_household ON zone_households (household_id);

-- The cases a zone was drawn or extended for.
CREATE TABLE zone_cases (
    zone_id BIGINT NOT NULL REFERENCES zones (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (zone_id, case_id)
);

-- Every act on a zone, in order: what it became and who did it.
CREATE TABLE zone_changes (
    id         INTEGER PRIMARY KEY,
    zone_id    BIGINT NOT NULL REFERENCES zones (id),
    -- designate, extend, downgrade, tighten, lift
    act        TEXT NOT NULL,
    -- the kind after the act
    kind       TEXT NOT NULL,
    note       TEXT,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE INDEX zone_changes_zone ON zone_changes (zone_id, id);

-- The people of a building, for a zone drawn by building.
CREATE INDEX households_building ON households (building_id);
