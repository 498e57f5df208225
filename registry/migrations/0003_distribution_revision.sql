-- 0003: a revision for each version's distribution (its target regions), so that two clients
-- changing the regions at once cannot silently overwrite each other (If-Match on the API).
ALTER TABLE versions ADD COLUMN distribution_revision BIGINT NOT NULL DEFAULT 0;
