-- 0003: the site's consent requirement (Privacy.Consent). Expand-only: the
-- column has a default, so a build that knows only version 2 still inserts
-- and updates sites (leaving it at 0, "instance default"); a build that knows
-- version 3 reads and writes it only once the schema has it (Store.applied).
ALTER TABLE site ADD COLUMN privacy_consent TINYINT NOT NULL DEFAULT 0;
