-- Transport batches (转运箱): sealed tubes moved from a site to a lab, checked at receipt; and the
-- per-tube times that give turnaround (sealed → departed → received → resulted).
-- Logically identical to the other dialect's 0006_transport.sql (a test compares them).

CREATE TABLE transport_batches (
    id          INTEGER PRIMARY KEY,
    round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
    site_id     BIGINT NOT NULL REFERENCES sampling_sites (id),
    lab_id      BIGINT NOT NULL REFERENCES labs (id),
    -- the site's area, for scoping
    area_code   TEXT NOT NULL,
    -- the box's label as written or printed on it
    label       TEXT NOT NULL,
    tubes       INTEGER NOT NULL,
    departed_at TIMESTAMPTZ NOT NULL,
    departed_by TEXT NOT NULL,
    received_at TIMESTAMPTZ,
    received_by TEXT
);
CREATE UNIQUE INDEX transport_batches_round_label ON transport_batches (round_id, label);
CREATE INDEX transport_batches_area ON transport_batches (area_code, departed_at);

-- Barcodes scanned at receipt that were not in the batch.
CREATE TABLE transport_extras (
    batch_id    BIGINT NOT NULL REFERENCES transport_batches (id),
    barcode     TEXT NOT NULL,
    scanned_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, barcode)
);

ALTER TABLE tubes ADD COLUMN batch_id BIGINT REFERENCES transport_batches (id);
ALTER TABLE tubes ADD COLUMN departed_at TIMESTAMPTZ;
ALTER TABLE tubes ADD COLUMN received_at TIMESTAMPTZ;
CREATE INDEX tubes_batch ON tubes (batch_id);
