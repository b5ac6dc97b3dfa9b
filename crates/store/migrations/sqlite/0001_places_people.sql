-- Places and people. Logically identical to ../postgres/0001_places_people.sql (a test compares them).

CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT REFERENCES areas (code),
    population  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX areas_parent ON areas (parent_code);

CREATE TABLE grids (
    id        INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES areas (code),
    name      TEXT NOT NULL
);
CREATE UNIQUE INDEX grids_area_name ON grids (area_code, name);

CREATE TABLE buildings (
    id        INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES areas (code),
    grid_id   BIGINT REFERENCES grids (id),
    name      TEXT NOT NULL
);
CREATE UNIQUE INDEX buildings_area_name ON buildings (area_code, name);

CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    area_code   TEXT NOT NULL REFERENCES areas (code),
    grid_id     BIGINT REFERENCES grids (id),
    building_id BIGINT REFERENCES buildings (id),
    address     TEXT NOT NULL
);
CREATE UNIQUE INDEX households_area_address ON households (area_code, address);

CREATE TABLE persons (
    id           INTEGER PRIMARY KEY,
    id_kind      TEXT NOT NULL,
    id_number    TEXT NOT NULL,
    id_tail      TEXT NOT NULL,
    name         TEXT NOT NULL,
    sex          TEXT NOT NULL,
    birth_date   DATE NOT NULL,
    phone        TEXT,
    household_id BIGINT REFERENCES households (id),
    area_code    TEXT NOT NULL REFERENCES areas (code),
    tags         BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX persons_id_number ON persons (id_number);
CREATE INDEX persons_area ON persons (area_code, id);
CREATE INDEX persons_name ON persons (name);
CREATE INDEX persons_phone ON persons (phone);
CREATE INDEX persons_tail ON persons (id_tail);
CREATE INDEX persons_household ON persons (household_id);
