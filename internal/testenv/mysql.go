package testenv

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MySQLDatabase creates a fresh database (utf8mb4, named Name(prefix))
// on the server of MySQLDSN, drops it when t ends, and returns its DSN.
// Without a server it skips or fails t like MySQLDSN.
func MySQLDatabase(t testing.TB, prefix string) string {
	t.Helper()
	dsn, drop := NewMySQLDatabase(t, prefix)
	t.Cleanup(drop)
	return dsn
}

// NewMySQLDatabase is MySQLDatabase for a caller that drops the database
// itself, earlier than the end of t: drop is idempotent.
func NewMySQLDatabase(t testing.TB, prefix string) (dsn string, drop func()) {
	t.Helper()
	base := MySQLDSN(t)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	admin, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	name := Name(prefix)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		Unavailable(t, "cannot create a test database on %s: %v", base, err)
	}
	var once sync.Once
	drop = func() {
		once.Do(func() {
			if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
				t.Logf("drop database %s: %v", name, err)
			}
			admin.Close()
		})
	}
	cfg.DBName = name
	return cfg.FormatDSN(), drop
}
