-- The release stream (seed 004): append-only release events, the spans they make (one row per
-- stay of a release in a state, rebuilt from the events on every write so a view at any time is
-- one indexed query), and the outbox with its webhook deliveries.
-- Times are Unix milliseconds; flags are 0/1 integers (the same types on both engines).

-- A dist is created by its first release event; these say how the public sees it.
ALTER TABLE dists ADD COLUMN public BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dists ADD COLUMN stable_state TEXT NOT NULL DEFAULT 'stable';
ALTER TABLE dists ADD COLUMN branched_state TEXT NOT NULL DEFAULT 'branched';

CREATE TABLE release_events (
    id           BIGSERIAL PRIMARY KEY,
    dist_id      BIGINT NOT NULL REFERENCES dists (id),
    release_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    entered      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    note         TEXT NOT NULL,
    was_in_state BIGINT NOT NULL
);
CREATE INDEX release_events_pair ON release_events (dist_id, release_name, state, at, id);
CREATE INDEX release_events_dist ON release_events (dist_id, id);

CREATE TABLE release_state_spans (
    id           BIGSERIAL PRIMARY KEY,
    dist_id      BIGINT NOT NULL REFERENCES dists (id),
    release_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    entered_at   BIGINT NOT NULL,
    left_at      BIGINT
);
CREATE INDEX release_state_spans_pair ON release_state_spans (dist_id, release_name, state, entered_at);

-- Every (release, state) pair that ever had a stay: a view at time T probes each pair's last
-- stay entered by T (one index lookup per pair) instead of scanning every span before T.
CREATE TABLE release_pairs (
    dist_id      BIGINT NOT NULL REFERENCES dists (id),
    release_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    PRIMARY KEY (dist_id, release_name, state)
);
CREATE INDEX release_state_spans_entered ON release_state_spans (dist_id, entered_at);
CREATE INDEX release_state_spans_left ON release_state_spans (dist_id, left_at);

-- Every message Sluice emits, written in the same transaction as what it tells about.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    topic         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- Set once the webhook deliveries for this message have been queued.
    dispatched_at BIGINT
);
CREATE INDEX outbox_undispatched ON outbox (dispatched_at, id);

-- How far each consumer that reads the outbox in order (AMQP) has got.
CREATE TABLE outbox_cursors (
    name    TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks (id),
    outbox_id       BIGINT NOT NULL REFERENCES outbox (id),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    delivered_at    BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (delivered_at, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- Rules: "when a release of dist D enters (or leaves) state S, do A". Fired in the event's
-- transaction, only on a real change (0-1 or 1-0); the action is queued through the outbox.
CREATE TABLE release_rules (
    id          BIGSERIAL PRIMARY KEY,
    dist_id     BIGINT NOT NULL REFERENCES dists (id),
    state       TEXT NOT NULL,
    on_action   TEXT NOT NULL,
    action_kind TEXT NOT NULL,
    webhook_id  BIGINT REFERENCES webhooks (id),
    active      BIGINT NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX release_rules_match ON release_rules (dist_id, state);
