-- Canary rollouts: the policy and state of each, what happened to it, and every device offered
-- its build with where that device stands.

CREATE TABLE rollouts (
    id              BIGSERIAL PRIMARY KEY,
    dist_id         BIGINT NOT NULL REFERENCES dists (id),
    channel         TEXT NOT NULL,
    build_id        BIGINT NOT NULL REFERENCES builds (id),
    -- The request as accepted (steps, lists, health, timeout, caps), as JSON.
    policy          TEXT NOT NULL,
    cohort_salt     TEXT NOT NULL,
    state           TEXT NOT NULL,
    current_step    BIGINT NOT NULL,
    percent         DOUBLE PRECISION NOT NULL,
    step_started_at BIGINT NOT NULL,
    halt_reason     TEXT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX rollouts_channel ON rollouts (dist_id, channel, state);

CREATE TABLE rollout_history (
    id         BIGSERIAL PRIMARY KEY,
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    state      TEXT NOT NULL,
    step       BIGINT NOT NULL,
    percent    DOUBLE PRECISION NOT NULL
);
CREATE INDEX rollout_history_rollout ON rollout_history (rollout_id, id);

CREATE TABLE rollout_devices (
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
    uuid       TEXT NOT NULL,
    step       BIGINT NOT NULL,
    status     TEXT NOT NULL,
    offered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (rollout_id, uuid)
);
