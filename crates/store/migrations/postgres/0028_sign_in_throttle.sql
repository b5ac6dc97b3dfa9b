-- Failed sign-ins, counted per account and address, per address, and per account from unfamiliar
-- addresses (cordon_domain::throttle), kept across restarts.
CREATE TABLE login_failures (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    since        TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    PRIMARY KEY (scope, key)
);

-- The addresses each account has signed in from: a lock on the account spares them.
CREATE TABLE login_addresses (
    user_id BIGINT NOT NULL REFERENCES users (id),
    addr    TEXT NOT NULL,
    last_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, addr)
);
