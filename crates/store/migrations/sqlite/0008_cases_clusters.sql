-- Cases, the infector links between them, and clusters (transmission chains) kept up to date by
-- every write that adds a case or a link. Logically identical to the other dialect's
-- 0008_cases_clusters.sql (a test compares them).

CREATE TABLE clusters (
    id            INTEGER PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    -- the smallest area holding every member
    area_code     TEXT NOT NULL,
    -- the label most members carry from their source (e.g. 'mall'), if any
    label         TEXT,
    index_case_id BIGINT,
    size          BIGINT NOT NULL,
    generations   INTEGER NOT NULL,
    first_date    DATE,
    last_date     DATE,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX clusters_incident_size ON clusters (incident_id, size);
CREATE INDEX clusters_area ON clusters (area_code);

CREATE TABLE cases (
    id             INTEGER PRIMARY KEY,
    incident_id    BIGINT NOT NULL REFERENCES incidents (id),
    -- the number people call the case by (e.g. 'TJ5', '清徐-1')
    external_id    TEXT NOT NULL,
    person_id      BIGINT REFERENCES persons (id),
    positive_id    BIGINT REFERENCES positive_persons (id),
    area_code      TEXT NOT NULL,
    -- confirmed, asymptomatic, suspected
    classification TEXT NOT NULL,
    severity       TEXT,
    how_found      TEXT NOT NULL,
    -- local, imported
    origin         TEXT NOT NULL,
    onset_date     DATE,
    sample_date    DATE,
    report_date    DATE,
    -- home, in_transfer, quarantine_site, hospital, shelter_hospital
    place          TEXT NOT NULL,
    -- the source's own cluster label, kept as given
    label          TEXT,
    cluster_id     BIGINT REFERENCES clusters (id),
    generation     INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_incident_external ON cases (incident_id, external_id);
CREATE UNIQUE INDEX cases_incident_person ON cases (incident_id, person_id);
CREATE INDEX cases_cluster ON cases (cluster_id, generation);
CREATE INDEX cases_area ON cases (area_code, id);

CREATE TABLE case_links (
    infector_id BIGINT NOT NULL REFERENCES cases (id),
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    -- linelist, investigation, contact
    source      TEXT NOT NULL,
    PRIMARY KEY (infector_id, case_id)
);
CREATE INDEX case_links_case ON case_links (case_id);

-- Each change of classification (an asymptomatic case converted to confirmed, …), oldest first.
CREATE TABLE case_class_changes (
    case_id        BIGINT NOT NULL REFERENCES cases (id),
    changed_at     TIMESTAMPTZ NOT NULL,
    from_class     TEXT,
    to_class       TEXT NOT NULL,
    changed_by     TEXT NOT NULL
);
CREATE INDEX case_class_changes_case ON case_class_changes (case_id, changed_at);
