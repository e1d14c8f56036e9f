package sqlitestore

import (
	"context"
	"embed"
	"fmt"
	"github.com/footfall/analytics/store/internal/storeutil"
	"io/fs"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// loadMigrations reads the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func loadMigrations() ([]storeutil.Migration, error) {
	return parseMigrations(migrationFS, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]storeutil.Migration, error) {
	migs, err := storeutil.ParseMigrations(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
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

func (s *Store) applyMigration(ctx context.Context, m storeutil.Migration, known int) error {
	op := "migrate " + m.Name
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
	if applied >= m.Version {
		return nil
	}
	if applied != m.Version-1 {
		return fmt.Errorf("sqlitestore: %s: schema version is %d, want %d: %w", op, applied, m.Version-1, ErrSchema)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return s.wrap(ctx, op, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, s.now().UnixMilli()); err != nil {
		return s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, op, err)
	}
	s.log.Info("applied schema migration", "version", m.Version, "name", m.Name)
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
