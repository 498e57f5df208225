-- 0001: accounts, tokens, packages, versions, region copies, services and associations.
-- Written in the SQL that SQLite and PostgreSQL share. Never edit once released: add a migration.

CREATE TABLE accounts (
    name             TEXT PRIMARY KEY,
    role             TEXT NOT NULL,
    cloud_account_id TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES accounts (name),
    kind        TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE packages (
    id             TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    tags           TEXT NOT NULL,
    revision       BIGINT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX packages_name ON packages (name);

CREATE TABLE versions (
    id            TEXT PRIMARY KEY,
    package_id    TEXT NOT NULL REFERENCES packages (id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    image         TEXT NOT NULL,
    status        TEXT NOT NULL,
    published_seq BIGINT NOT NULL,
    revision      BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    published_at  TEXT,
    UNIQUE (package_id, name)
);

CREATE TABLE region_copies (
    version_id TEXT NOT NULL REFERENCES versions (id),
    region     TEXT NOT NULL,
    status     TEXT NOT NULL,
    progress   BIGINT NOT NULL,
    image_id   TEXT,
    error      TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (version_id, region)
);

CREATE TABLE services (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    visibility TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, name)
);

CREATE TABLE service_whitelist (
    service_id TEXT NOT NULL REFERENCES services (id),
    account    TEXT NOT NULL,
    PRIMARY KEY (service_id, account)
);
CREATE INDEX service_whitelist_account ON service_whitelist (account);

CREATE TABLE associations (
    service_id TEXT NOT NULL REFERENCES services (id),
    literal    TEXT NOT NULL,
    package_id TEXT NOT NULL REFERENCES packages (id),
    version    TEXT NOT NULL,
    PRIMARY KEY (service_id, literal)
);
CREATE INDEX associations_package ON associations (package_id);
