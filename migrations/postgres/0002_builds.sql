-- Dists, mirrors, builds and their files, channel publications, devices and their reports.

CREATE TABLE dists (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    version_scheme      TEXT NOT NULL,
    stable_channel      TEXT NOT NULL,
    stable_branch       TEXT NOT NULL,
    legacy_version_file TEXT,
    created_at          BIGINT NOT NULL
);

CREATE TABLE mirrors (
    id           BIGSERIAL PRIMARY KEY,
    dist_id      BIGINT NOT NULL REFERENCES dists (id),
    url_template TEXT NOT NULL,
    weight       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE builds (
    id            BIGSERIAL PRIMARY KEY,
    dist_id       BIGINT NOT NULL REFERENCES dists (id),
    branch        TEXT NOT NULL,
    version       TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    notes         TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    withdrawn_at  BIGINT,
    UNIQUE (dist_id, branch, version)
);

CREATE TABLE build_files (
    id       BIGSERIAL PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds (id),
    board    TEXT NOT NULL,
    name     TEXT NOT NULL,
    size     BIGINT NOT NULL,
    sha256   TEXT NOT NULL
);
CREATE INDEX build_files_build ON build_files (build_id);

-- Every build ever published to a channel; the channel offers the freshest one not withdrawn.
CREATE TABLE channel_builds (
    id           BIGSERIAL PRIMARY KEY,
    dist_id      BIGINT NOT NULL REFERENCES dists (id),
    channel      TEXT NOT NULL,
    build_id     BIGINT NOT NULL REFERENCES builds (id),
    published_by TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    UNIQUE (dist_id, channel, build_id)
);

CREATE TABLE devices (
    id                 BIGSERIAL PRIMARY KEY,
    dist_id            BIGINT NOT NULL REFERENCES dists (id),
    uuid               TEXT NOT NULL,
    board              TEXT NOT NULL,
    branch             TEXT NOT NULL,
    user_name          TEXT NOT NULL,
    current_version    TEXT NOT NULL,
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    last_offer_version TEXT,
    last_offer_at      BIGINT,
    last_report_status TEXT,
    last_report_at     BIGINT,
    UNIQUE (dist_id, uuid)
);
CREATE INDEX devices_version ON devices (dist_id, board, current_version);

CREATE TABLE device_reports (
    id                  BIGSERIAL PRIMARY KEY,
    dist_id             BIGINT NOT NULL REFERENCES dists (id),
    uuid                TEXT NOT NULL,
    board               TEXT NOT NULL,
    branch              TEXT NOT NULL,
    user_name           TEXT NOT NULL,
    version             TEXT NOT NULL,
    status              TEXT NOT NULL,
    error               TEXT,
    update_time_seconds BIGINT,
    received_at         BIGINT NOT NULL,
    address             TEXT NOT NULL
);
CREATE INDEX device_reports_uuid ON device_reports (dist_id, uuid, id);
CREATE INDEX device_reports_version ON device_reports (dist_id, version, status);
