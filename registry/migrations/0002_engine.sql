-- 0002: what the distribution engine needs to copy durably.
-- A region copy row is also the engine's job: leases let several registries share the work,
-- `copy_key` + `copy_serial` make the cloud's idempotency token, `copy_requested` records that a
-- CopyImage may have reached the cloud (so the copy must be found and deleted, never forgotten).

ALTER TABLE versions ADD COLUMN source_region TEXT NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN source_image_id TEXT NOT NULL DEFAULT '';
-- Size of the source image, learnt by the engine; larger images are copied first.
ALTER TABLE versions ADD COLUMN source_size_gib BIGINT NOT NULL DEFAULT 0;

ALTER TABLE region_copies ADD COLUMN target BIGINT NOT NULL DEFAULT 1;
ALTER TABLE region_copies ADD COLUMN copy_key TEXT NOT NULL DEFAULT '';
ALTER TABLE region_copies ADD COLUMN copy_serial BIGINT NOT NULL DEFAULT 0;
ALTER TABLE region_copies ADD COLUMN copy_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE region_copies ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE region_copies ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE region_copies ADD COLUMN lease_owner TEXT;
ALTER TABLE region_copies ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE region_copies ADD COLUMN share_dirty BIGINT NOT NULL DEFAULT 1;
CREATE INDEX region_copies_work ON region_copies (status, next_attempt_at);
CREATE INDEX region_copies_region ON region_copies (region, status);

-- Cloud images no region copy points at any more (a deleted version, a re-added region):
-- the engine deletes them, re-issuing the recorded CopyImage token when the ID was never learnt.
CREATE TABLE cleanup (
    id              TEXT PRIMARY KEY,
    region          TEXT NOT NULL,
    image_id        TEXT,
    client_token    TEXT NOT NULL,
    image_name      TEXT NOT NULL,
    source_region   TEXT NOT NULL,
    source_image_id TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
