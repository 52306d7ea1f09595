-- Sign-in throttling by counters reserved before the password is checked (one row per key:
-- an address, or a username from an address), replacing the failure log that was read before
-- and written after the check.
DROP TABLE login_failures;

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
