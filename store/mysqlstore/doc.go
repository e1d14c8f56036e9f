// Package mysqlstore is the production analytics.Store, on MySQL 8 or
// MariaDB 10.6+ through github.com/go-sql-driver/mysql.
//
//	s, err := mysqlstore.Open(ctx, mysqlstore.Options{
//		DSN: "footfall:secret@tcp(db.internal:3306)/footfall?tls=true",
//	})
//
// Besides analytics.Store it implements the optional
// analytics.BatchVisitFinder (the last visits of a delivery's visitors in
// one statement), analytics.Migrator, analytics.Pinger, analytics.Pruner (raw-log retention, unused dictionary
// entries) and analytics.VisitorEraser (GDPR export and erasure), and
// Invalidations (storetest.InvalidationLister).
//
// # Schema and migrations
//
// The tables follow Matomo's log tables (log_visit, log_link_visit_action,
// log_action, log_conversion, log_conversion_item) and sqlitestore's
// schema, so both stores behave the same (what they do alike — validation,
// column codecs, the dictionary cache, migration discovery, row decoding —
// is one copy in store/internal/storeutil); SCHEMA.md explains every table,
// column convention and index. Migrations are embedded, versioned
// (migrations/NNNN_what.sql) and applied only by Migrate — `footfall
// migrate`, or Open with Options.Migrate in the all-in-one role. Open
// without Migrate refuses a database with no schema or a newer one than
// the build knows ("schema version 7 is newer than this build (5): upgrade
// footfall", ErrSchema), and logs a warning for an older one: migrations
// are expand/contract (SCHEMA.md), so that old and new instances run
// together during a rolling deploy. Concurrent Migrate calls, from any
// number of processes, are serialized with GET_LOCK.
//
// # Writing
//
// WriteBatch writes a queue Delivery's LogBatch in one transaction with
// the shard checkpoint (compare-and-set on the checkpoint row, ErrConflict
// when it moved). New dictionary names (URLs, titles, event fields…) are
// inserted before the transaction, in autocommit, and their ids cached in
// the Store (bounded by Options.DictionaryCacheSize). The transaction
// itself is one multi-statement round trip (multi-row INSERT … ON
// DUPLICATE KEY UPDATE for visits, multi-row INSERTs for actions,
// conversions, items and invalidations) and a COMMIT; the first batch of
// a shard, a batch with a duplicate conversion and an over-large batch
// take a statement-by-statement path. Deadlocks and lock-wait timeouts are
// retried (Options.MaxRetries, with jitter); a lost connection fails with
// ErrUnavailable and nothing written, the server rolling the transaction
// back.
//
// # Connection settings
//
// Open forces the driver settings the store relies on, whatever the DSN
// says: parseTime, loc=UTC, interpolateParams (no server-side prepared
// statements: one round trip per statement), clientFoundRows,
// multiStatements (every statement is built by the store; every value is
// escaped by the driver or, on the write path, written as a literal that
// needs no escaping — digits, X'…' hex, text without quotes, backslashes or
// control characters; do not run SQL from untrusted input on DB()), the
// utf8mb4 character set, millisecond time truncation, and per session
// sql_mode=STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION, time_zone=+00:00,
// READ COMMITTED and innodb_lock_wait_timeout=Options.LockWaitTimeout.
// TLS, timeouts and pool sizes are Options.
//
// # Server settings
//
// The store changes no server setting. It relies on InnoDB (the default
// engine) and works with the defaults of MySQL 8 and MariaDB 10.6+.
// SCHEMA.md lists the settings that matter for throughput and durability:
// innodb_flush_log_at_trx_commit (1 = every committed batch is durable;
// 2 trades the last second on an OS crash for fewer fsyncs),
// innodb_buffer_pool_size, innodb_log_file_size (innodb_redo_log_capacity
// on MySQL 8.0.30+), max_allowed_packet (≥ 16 MiB) and max_connections
// (each Store opens up to Options.MaxOpenConns).
//
// # Tests
//
// The tests need a server: internal/testenv finds it (FOOTFALL_TEST_MYSQL_DSN,
// else root@tcp(127.0.0.1:3306)/test), skips without one, and fails
// without one when FOOTFALL_REQUIRE_SERVICES=1. Each test creates its own
// database (ff_t…) and drops it.
package mysqlstore
