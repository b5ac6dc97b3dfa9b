-- A person's page reads their cases and observation orders across incidents: by person.
CREATE INDEX cases_by_person ON cases (person_id);
CREATE INDEX observation_orders_by_person ON observation_orders (person_id);
