-- 0002: an index for the GDPR tools (ExportVisitor and DeleteVisitor by
-- user id). An expand-only migration: builds that know only version 1 keep
-- working against it (the index only makes their lookups faster), and a
-- build that knows version 2 works against version 1 while the migration
-- has not run yet (the lookups scan the site's visits instead).
-- user_id is hashed (40 hex digits) or a site's own id: 64 bytes of prefix
-- tell them apart. ALGORITHM=INPLACE, LOCK=NONE: built online, writes go on
-- (the statement fails rather than lock the table on a server that cannot).
ALTER TABLE log_visit ADD KEY log_visit_site_user (idsite, user_id(64)), ALGORITHM=INPLACE, LOCK=NONE;
