-- Supplies (物资保障): items, warehouses, the balance of each item (and batch) in each warehouse,
-- every change of stock as a movement, requests with their lines, and deliveries to a door or a
-- site with who received them (or the proof of a contactless drop).
-- Logically identical to the other dialect's 0048_supplies.sql.

CREATE TABLE supply_items (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    category        TEXT NOT NULL,
    unit            TEXT NOT NULL,
    tracks_batches  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX supply_items_name ON supply_items (name);

CREATE TABLE warehouses (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL,
    area_code       TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX warehouses_name ON warehouses (area_code, name);

-- The books: what each warehouse holds of each item and batch ('' for an item without batches),
-- kept by every movement in the movement's transaction.
CREATE TABLE stock_balances (
    warehouse_id    BIGINT NOT NULL REFERENCES warehouses (id),
    item_id         BIGINT NOT NULL REFERENCES supply_items (id),
    batch           TEXT NOT NULL DEFAULT '',
    expires_on      DATE,
    quantity        BIGINT NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (warehouse_id, item_id, batch)
);
CREATE INDEX stock_balances_item ON stock_balances (item_id, warehouse_id);

CREATE TABLE supply_requests (
    id              INTEGER PRIMARY KEY,
    area_code       TEXT NOT NULL,
    requester_kind  TEXT NOT NULL,
    -- the quarantine site, sampling site, zone or household asking, by its own id
    requester_id    BIGINT,
    place           TEXT NOT NULL,
    contact         TEXT NOT NULL DEFAULT '',
    priority        TEXT NOT NULL,
    needed_by       TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    warehouse_id    BIGINT REFERENCES warehouses (id),
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL,
    decided_at      TIMESTAMPTZ,
    decided_by      TEXT
);
CREATE INDEX supply_requests_board ON supply_requests (status, area_code, needed_by);
CREATE INDEX supply_requests_area ON supply_requests (area_code, id);

CREATE TABLE supply_request_lines (
    request_id      BIGINT NOT NULL REFERENCES supply_requests (id),
    item_id         BIGINT NOT NULL REFERENCES supply_items (id),
    requested       BIGINT NOT NULL CHECK (requested > 0),
    approved        BIGINT NOT NULL DEFAULT 0 CHECK (approved >= 0 AND approved <= requested),
    issued          BIGINT NOT NULL DEFAULT 0 CHECK (issued >= 0 AND issued <= approved),
    PRIMARY KEY (request_id, item_id)
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    request_id      BIGINT NOT NULL REFERENCES supply_requests (id),
    warehouse_id    BIGINT NOT NULL REFERENCES warehouses (id),
    area_code       TEXT NOT NULL,
    place           TEXT NOT NULL,
    status          TEXT NOT NULL,
    courier         TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL,
    out_at          TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    received_by     TEXT NOT NULL DEFAULT '',
    contactless     BOOLEAN NOT NULL DEFAULT FALSE,
    proof           TEXT NOT NULL DEFAULT '',
    delivered_by    TEXT
);
CREATE INDEX deliveries_request ON deliveries (request_id);
CREATE INDEX deliveries_board ON deliveries (status, area_code, created_at);

-- Every change of stock. A receipt puts into `to_warehouse`, an issue takes out of
-- `from_warehouse`, a transfer does both, a stock-take books `delta` (the count less the books,
-- `counted` beside it) against `from_warehouse`.
CREATE TABLE stock_movements (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    item_id         BIGINT NOT NULL REFERENCES supply_items (id),
    batch           TEXT NOT NULL DEFAULT '',
    expires_on      DATE,
    from_warehouse  BIGINT REFERENCES warehouses (id),
    to_warehouse    BIGINT REFERENCES warehouses (id),
    quantity        BIGINT NOT NULL,
    counted         BIGINT,
    source          TEXT,
    reference       TEXT NOT NULL DEFAULT '',
    request_id      BIGINT REFERENCES supply_requests (id),
    delivery_id     BIGINT REFERENCES deliveries (id),
    note            TEXT NOT NULL DEFAULT '',
    moved_at        TIMESTAMPTZ NOT NULL,
    recorded_by     TEXT NOT NULL,
    client_id       TEXT
);
CREATE UNIQUE INDEX stock_movements_client ON stock_movements (client_id) WHERE client_id IS NOT NULL;
-- days of cover: the issues out of a warehouse over the last days
CREATE INDEX stock_movements_out ON stock_movements (from_warehouse, kind, moved_at, item_id, quantity);
CREATE INDEX stock_movements_in ON stock_movements (to_warehouse, moved_at);
CREATE INDEX stock_movements_request ON stock_movements (request_id) WHERE request_id IS NOT NULL;
