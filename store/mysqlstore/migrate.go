package mysqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change, migrations/NNNN_what.sql, split
// into statements.
type migration struct {
	version    int
	name       string
	statements []string
}

// loadMigrations reads the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func loadMigrations() ([]migration, error) {
	return parseMigrations(migrationFS, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	files, err := storeutil.ParseMigrations(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: %w", err)
	}
	migs := make([]migration, len(files))
	for i, f := range files {
		stmts, err := splitStatements(f.SQL)
		if err != nil {
			return nil, fmt.Errorf("mysqlstore: migration %q: %w", f.Name, err)
		}
		migs[i] = migration{version: f.Version, name: f.Name, statements: stmts}
	}
	return migs, nil
}

// splitStatements splits a migration into statements: lines that are
// whole-line comments ("--") are dropped, and a statement ends with a line
// ending in ';'.
func splitStatements(src string) ([]string, error) {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			if st := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(cur.String()), ";")); st != "" {
				stmts = append(stmts, st)
			}
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		return nil, errors.New("the last statement does not end with ';'")
	}
	if len(stmts) == 0 {
		return nil, errors.New("no statements")
	}
	return stmts, nil
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version         INT          NOT NULL,
	name            VARCHAR(255) NOT NULL,
	statements      INT          NOT NULL,
	statements_done INT          NOT NULL,
	started_at      DATETIME(3)  NOT NULL,
	applied_at      DATETIME(3)  NULL,
	PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// Errors a re-run DDL statement gives when its first run succeeded before
// an interruption: the table, column, key or constraint exists already.
const (
	errTableExists   = 1050
	errDupFieldName  = 1060
	errDupKeyName    = 1061
	errCantDropField = 1091
	errDupConstraint = 1826
	errDupIndexMySQL = 1831
)

// lockName is the GET_LOCK name that serializes migrations of one
// database (GET_LOCK names are server-wide and at most 64 characters).
func (s *Store) lockName() string {
	n := "footfall_migrate:" + s.dbName
	if len(n) > 64 {
		sum := sha256.Sum256([]byte(s.dbName))
		n = "footfall_migrate:" + hex.EncodeToString(sum[:16])
	}
	return n
}

// Migrate applies the migrations the database lacks, in order, statement
// by statement, recording progress in schema_migrations so that a run
// interrupted between two statements resumes where it stopped. Concurrent
// runs, even from other processes and hosts, are serialized with
// GET_LOCK('footfall_migrate:<database>'); a later run finds the work done
// and does nothing. It refuses (ErrSchema) a database whose schema is newer
// than this build knows, and fails with ErrUnavailable when it cannot get
// the lock within Options.MigrateLockTimeout.
//
// MySQL commits every DDL statement on its own, so a migration is not
// atomic: SCHEMA.md's expand/contract rule keeps every intermediate state
// usable by the builds that run during a rolling deploy.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.enter("migrate"); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	defer conn.Close()
	name := s.lockName()
	var got sql.NullInt64
	secs := int64(s.opts.MigrateLockTimeout / time.Second)
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, secs).Scan(&got); err != nil {
		return s.wrap(ctx, "migrate: lock", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("mysqlstore: migrate: another migration holds lock %q after %v: %w", name, s.opts.MigrateLockTimeout, analytics.ErrUnavailable)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", name); err != nil {
			// The server releases the lock with the session: drop it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, createSchemaMigrations); err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	type state struct {
		done    int
		applied bool
	}
	have := map[int]state{}
	newest := 0
	rows, err := conn.QueryContext(ctx, "SELECT version, statements_done, applied_at IS NOT NULL FROM schema_migrations")
	if err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	for rows.Next() {
		var v int
		var st state
		if err := rows.Scan(&v, &st.done, &st.applied); err != nil {
			rows.Close()
			return s.wrap(ctx, "migrate", err)
		}
		have[v] = st
		newest = max(newest, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	if newest > s.known {
		return fmt.Errorf("mysqlstore: migrate %s: schema version %d is newer than this build (%d): upgrade footfall: %w", s.dbName, newest, s.known, ErrSchema)
	}
	for _, m := range s.migrations {
		st, ok := have[m.version]
		if ok && st.applied {
			continue
		}
		if err := s.apply(ctx, conn, m, st.done, ok); err != nil {
			return err
		}
	}
	return nil
}

// apply runs migration m from statement done on, on conn, which holds the
// migrate lock.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration, done int, resumed bool) error {
	op := "migrate " + m.name
	now := s.now().UTC()
	if !resumed {
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, statements, statements_done, started_at)
			VALUES (?, ?, ?, 0, ?)`, m.version, m.name, len(m.statements), now); err != nil {
			return s.wrap(ctx, op, err)
		}
	} else {
		s.log.Warn("resuming an interrupted schema migration", "version", m.version, "name", m.name, "statements_done", done)
	}
	for i := done; i < len(m.statements); i++ {
		if _, err := conn.ExecContext(ctx, m.statements[i]); err != nil {
			// The first statement of a resumed migration may have run
			// before the interruption, its progress unrecorded.
			switch n := mysqlErr(err); {
			case resumed && i == done && (n == errTableExists || n == errDupFieldName || n == errDupKeyName ||
				n == errCantDropField || n == errDupConstraint || n == errDupIndexMySQL):
				s.log.Warn("statement of an interrupted migration had run already", "version", m.version, "statement", i+1, "error", err)
			default:
				return s.wrap(ctx, fmt.Sprintf("%s: statement %d", op, i+1), err)
			}
		}
		if _, err := conn.ExecContext(ctx, "UPDATE schema_migrations SET statements_done = ? WHERE version = ?", i+1, m.version); err != nil {
			return s.wrap(ctx, op, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "UPDATE schema_migrations SET applied_at = ? WHERE version = ?", s.now().UTC(), m.version); err != nil {
		return s.wrap(ctx, op, err)
	}
	s.log.Info("applied schema migration", "database", s.dbName, "version", m.version, "name", m.name, "statements", len(m.statements))
	return nil
}

// SchemaVersion reports the newest completely applied migration (0 for an
// empty database) and the newest one this build knows. A migration that
// started but did not finish counts as applied when it is newer than this
// build knows (so that an old build refuses it).
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	if err := s.enter("schema version"); err != nil {
		return 0, 0, err
	}
	known = s.known
	var done, started sql.NullInt64
	err = s.db.QueryRowContext(ctx,
		"SELECT MAX(CASE WHEN applied_at IS NOT NULL THEN version END), MAX(version) FROM schema_migrations").Scan(&done, &started)
	if mysqlErr(err) == errNoSuchTable {
		return 0, known, nil
	}
	if err != nil {
		return 0, known, s.wrap(ctx, "schema version", err)
	}
	applied = int(done.Int64)
	if int(started.Int64) > known {
		applied = int(started.Int64)
	}
	return applied, known, nil
}
