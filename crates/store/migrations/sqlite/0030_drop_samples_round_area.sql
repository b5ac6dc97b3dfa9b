-- No query reads samples by round and area any more: coverage reads the maintained counts
-- (round_area_counts), and lookups go by person, by tube, or by round and person. The index
-- cost every sample a page of its own (a station scan, a batch, a result's recall), and
-- PostgreSQL's planner once picked it to read a whole round per person.
DROP INDEX samples_round_area;
