-- The slices of a rollout's caps each replica holds: it may make `granted - used` more offers
-- until `expires_at` (milliseconds). `used` grows in the transaction that writes its offers.
CREATE TABLE rollout_leases (
    rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
    replica    TEXT NOT NULL,
    granted    INTEGER NOT NULL,
    used       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (rollout_id, replica)
);
