package sqlitestore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func loadMigrations() ([]migration, error) {
	return parseMigrations(migrationFS, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlitestore: migration %q: name must be NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: migration %q: %w", name, err)
		}
		migs = append(migs, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	for i, m := range migs {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlitestore: migration %q: version %d, want %d (versions start at 1 without gaps)", m.name, m.version, i+1)
		}
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("sqlitestore: no migrations in %s", dir)
	}
	return migs, nil
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies the migrations the database lacks, each in its own
// transaction. BEGIN IMMEDIATE serializes concurrent calls, even from
// other processes; a migration already applied by another caller is
// skipped. It refuses a database whose schema is newer than this build
// knows (ErrSchema).
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.enter("migrate"); err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, createSchemaMigrations); err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	known := len(s.migrations)
	for _, m := range s.migrations {
		if err := s.applyMigration(ctx, m, known); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration, known int) error {
	op := "migrate " + m.name
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return s.wrap(ctx, op, err)
	}
	if applied > known {
		return fmt.Errorf("sqlitestore: migrate: schema version %d is newer than %d, the newest this build knows: upgrade footfall: %w", applied, known, ErrSchema)
	}
	if applied >= m.version {
		return nil
	}
	if applied != m.version-1 {
		return fmt.Errorf("sqlitestore: %s: schema version is %d, want %d: %w", op, applied, m.version-1, ErrSchema)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return s.wrap(ctx, op, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, s.now().UnixMilli()); err != nil {
		return s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, op, err)
	}
	s.log.Info("applied schema migration", "version", m.version, "name", m.name)
	return nil
}

// SchemaVersion reports the newest applied migration (0 for an empty
// database) and the newest one this build knows.
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	if err := s.enter("schema version"); err != nil {
		return 0, 0, err
	}
	known = len(s.migrations)
	var n int
	if err := s.rdb.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n); err != nil {
		return 0, known, s.wrap(ctx, "schema version", err)
	}
	if n == 0 {
		return 0, known, nil
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return 0, known, s.wrap(ctx, "schema version", err)
	}
	return applied, known, nil
}
