-- An order whose plan starts at home waits on the community's home list (awaiting_home), not
-- for a transfer. Orders written before waited as awaiting_transfer; those with no centralized
-- stage to serve, and no room held for them, start at home.
UPDATE observation_orders SET status = 'awaiting_home' WHERE status = 'awaiting_transfer' AND centralized_until IS NULL AND room_id IS NULL;
