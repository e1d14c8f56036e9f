-- 0002: retention and GDPR (analytics.Pruner, analytics.VisitorEraser) and
-- Privacy.Consent.

-- DeleteUnusedNames marks the dictionary entries it found unused; a batch
-- that uses a marked entry clears the mark; the marked ones are deleted.
ALTER TABLE log_action ADD COLUMN prune_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX log_action_prune_pending ON log_action (idaction) WHERE prune_pending = 1;

-- The dictionary epoch, bumped by DeleteUnusedNames when it marks entries:
-- a writer (of any process) whose name cache is from an older epoch
-- empties it, so that no cached id of a marked entry is written.
CREATE TABLE dict_epoch (
	id    INTEGER PRIMARY KEY,
	epoch INTEGER NOT NULL
) STRICT;
INSERT INTO dict_epoch (id, epoch) VALUES (1, 1);

-- ExportVisitor and DeleteVisitor by user id.
CREATE INDEX log_visit_site_user ON log_visit (idsite, user_id);

-- Privacy.Consent.
ALTER TABLE site ADD COLUMN privacy_consent INTEGER NOT NULL DEFAULT 0;
