// Package sqlitestore is the embedded default analytics.Store: one SQLite
// file, pure Go (modernc.org/sqlite, driver name "sqlite"), no service to
// run. It passes store/storetest. What it does as mysqlstore does —
// validation, column codecs, the dictionary cache, migration discovery,
// row decoding — lives in store/internal/storeutil; the SQL is its own.
// Besides analytics.Store it implements analytics.BatchVisitFinder (the
// last visits of a delivery's visitors in one statement),
// analytics.Migrator, analytics.Pinger, analytics.Pruner and
// analytics.VisitorEraser.
//
//	s, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: "footfall.db", Migrate: true})
//
// # Connections
//
// The database runs in WAL mode with synchronous=NORMAL: readers never
// block the writer nor each other, and a commit does not wait for fsync.
// A committed batch survives a crash of the process; an operating-system
// crash or power loss may lose the last commits (never corrupt the file).
// SQLite has one writer, so the Store has one write connection (every
// BEGIN is IMMEDIATE) and a pool of read-only connections
// (Options.ReadConns). Another process on the same
// file (`footfall migrate`, a second worker) waits up to
// Options.BusyTimeout for the write lock, then gets ErrUnavailable.
//
// # Migrations
//
// The schema is versioned by numbered files embedded from migrations/
// (NNNN_what.sql), each applied in its own transaction and recorded in
// schema_migrations. Open applies pending ones only with Options.Migrate;
// otherwise it refuses (ErrSchema) a database that has no schema, an older
// one ("run footfall migrate") or a newer one ("upgrade footfall").
//
// # Schema
//
// The tables follow Matomo's (reference §7), with times as Unix
// milliseconds UTC in INTEGER columns (0 = no time), visitor and config
// ids as 8-byte BLOBs and IP addresses as 4- or 16-byte BLOBs (already
// anonymized; NULL when no IP is stored). Every table is STRICT.
//
//	site                   sites; list settings (URLs, exclusions, search
//	                       parameters) as JSON text, privacy settings as
//	                       columns
//	goal                   goals, primary key (idsite, idgoal): IDs count
//	                       1, 2, … per site
//	log_action             the name dictionary: (idaction, type, name),
//	                       unique (type, name); types as Matomo (1 URL,
//	                       2 outlink, 3 download, 4 title, 5–7 product
//	                       SKU/name/category, 8 search keyword, 10–12 event
//	                       category/action/name, 13–16 content
//	                       name/piece/target/interaction)
//	log_visit              one row per visit (idvisit = Visit.ID); entry and
//	                       exit URL/title as log_action ids; referrer,
//	                       client and location as columns; custom
//	                       dimensions as JSON. Indexes (idsite,
//	                       visit_last_action_time), (idsite, idvisitor,
//	                       visit_last_action_time), (idsite, config_id,
//	                       visit_last_action_time)
//	log_link_visit_action  one row per action (idlink_va = Action.ID, with
//	                       its HitID); URL, title, previous URL/title and
//	                       every event, search, content and product name as
//	                       log_action ids; parts is a bit set of the
//	                       optional groups present (1 event, 2 search,
//	                       4 content, 8 product, 16 timing). Index
//	                       (idvisit, server_time)
//	log_conversion         goal conversions, orders (idgoal 0, unique per
//	                       (idsite, idorder)) and the open cart of a visit
//	                       (idgoal -1, replaced on each update); others
//	                       unique per (idvisit, idgoal, buster)
//	log_conversion_item    the lines of an order or cart, in order
//	                       (idconversion, pos)
//	shard_checkpoint       the last applied queue Position per shard
//	id_sequence            the next free visit and action IDs (ReserveIDs)
//	salt                   daily salts of cookieless visitor hashes
//	archive_invalidation   site days to archive again (late data)
//	schema_migrations      applied migrations
//
// Names go through log_action, as in Matomo, and the Store keeps a bounded
// in-process cache of their ids (Options.DictionaryCacheSize), so a name
// seen recently costs no query. A name longer than MaxNameLen bytes fails
// its batch with ErrInvalid.
//
// Deleting old raw data and one visitor's data start from log_visit (by
// last action time or visitor id, both indexed) and reach actions and
// conversions through their idvisit indexes.
//
// # Writing
//
// WriteBatch is one IMMEDIATE transaction: it compares the shard
// checkpoint with LogBatch.From (ErrConflict, nothing written), validates
// every row and collects its names, resolves the names the cache lacks
// with a few multi-row statements, upserts visits (INSERT … ON CONFLICT
// DO UPDATE), inserts actions that are not there (ON CONFLICT DO NOTHING),
// conversions by the rules of LogBatch, invalidations and the new
// checkpoint, and commits. Statements are prepared once per connection
// and reused by every transaction. BenchmarkWriteBatch measures 500
// actions and 100 visits per batch.
//
// # Retention and GDPR
//
// The Store implements analytics.Pruner and analytics.VisitorEraser
// (retention.go, migration 0002). DeleteLogsBefore deletes a site's
// visits older than a cut-off, chunk visits per write transaction, with
// their actions, conversions and items; ExportVisitor and DeleteVisitor
// select a visitor's visits by visitor id or user id (site 0: every site).
// DeleteUnusedNames marks the unused dictionary entries and bumps the
// dictionary epoch in one write transaction (it scans the log tables while
// holding the write lock), then deletes the marked entries chunk by chunk;
// WriteBatch reads the epoch at the start of its transaction and empties
// the name cache when it moved — also when the pruning ran in another
// process — and clears the mark of an entry it looks up again.
//
// # Errors
//
// Errors wrap the analytics sentinels: ErrInvalid for invalid input and
// constraint violations, ErrUnavailable for a busy or failing database
// (SQLITE_BUSY, I/O), ErrNotFound, ErrConflict, ErrClosed after Close; a
// cancelled context's error stays reachable with errors.Is.
package sqlitestore
