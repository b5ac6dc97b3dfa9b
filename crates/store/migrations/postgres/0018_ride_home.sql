-- A person checked out of a site rides home before the home stage starts: the status their
-- order takes when the ride arrives (home_quarantine, home_monitoring); NULL on other rides.
-- Logically identical to the other dialect's 0018_ride_home.sql (a test compares them).

ALTER TABLE transfer_people ADD COLUMN then_status TEXT;
