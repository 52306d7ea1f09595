-- Dists, mirrors, builds and their files, channel publications, devices and their reports.

CREATE TABLE dists (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL UNIQUE,
    version_scheme      TEXT NOT NULL,
    stable_channel      TEXT NOT NULL,
    stable_branch       TEXT NOT NULL,
    legacy_version_file TEXT,
    created_at          INTEGER NOT NULL
);

CREATE TABLE mirrors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dist_id      INTEGER NOT NULL REFERENCES dists (id),
    url_template TEXT NOT NULL,
    weight       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE builds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dist_id       INTEGER NOT NULL REFERENCES dists (id),
    branch        TEXT NOT NULL,
    version       TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    notes         TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    withdrawn_at  INTEGER,
    UNIQUE (dist_id, branch, version)
);

CREATE TABLE build_files (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds (id),
    board    TEXT NOT NULL,
    name     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    sha256   TEXT NOT NULL
);
CREATE INDEX build_files_build ON build_files (build_id);

-- Every build ever published to a channel; the channel offers the freshest one not withdrawn.
CREATE TABLE channel_builds (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dist_id      INTEGER NOT NULL REFERENCES dists (id),
    channel      TEXT NOT NULL,
    build_id     INTEGER NOT NULL REFERENCES builds (id),
    published_by TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    UNIQUE (dist_id, channel, build_id)
);

CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dist_id            INTEGER NOT NULL REFERENCES dists (id),
    uuid               TEXT NOT NULL,
    board              TEXT NOT NULL,
    branch             TEXT NOT NULL,
    user_name          TEXT NOT NULL,
    current_version    TEXT NOT NULL,
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    last_offer_version TEXT,
    last_offer_at      INTEGER,
    last_report_status TEXT,
    last_report_at     INTEGER,
    UNIQUE (dist_id, uuid)
);
CREATE INDEX devices_version ON devices (dist_id, board, current_version);

CREATE TABLE device_reports (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    dist_id             INTEGER NOT NULL REFERENCES dists (id),
    uuid                TEXT NOT NULL,
    board               TEXT NOT NULL,
    branch              TEXT NOT NULL,
    user_name           TEXT NOT NULL,
    version             TEXT NOT NULL,
    status              TEXT NOT NULL,
    error               TEXT,
    update_time_seconds INTEGER,
    received_at         INTEGER NOT NULL,
    address             TEXT NOT NULL
);
CREATE INDEX device_reports_uuid ON device_reports (dist_id, uuid, id);
CREATE INDEX device_reports_version ON device_reports (dist_id, version, status);
