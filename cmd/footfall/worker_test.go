package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/footfall/analytics/internal/testenv"
)

// TestWorkerStoppedWhileStarting: a worker told to stop (SIGTERM) while
// it is still connecting to its store exits 0, not 1 with "context
// canceled" (the fault tests stop workers at any moment).
func TestWorkerStoppedWhileStarting(t *testing.T) {
	base := testenv.MySQLDSN(t)
	admin, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := testenv.Name("w")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP DATABASE " + name)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_LOG_LEVEL=warn",
		"FOOTFALL_STORE_DRIVER=mysql", "FOOTFALL_STORE_MYSQL_DSN=" + cfg.FormatDSN(),
		"FOOTFALL_QUEUE_DRIVER=redis", "FOOTFALL_QUEUE_REDIS_URL=" + testenv.RedisURL(t)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if r := runCmd(ctx, env, "worker"); r.code != 0 {
		t.Errorf("worker stopped while opening its store: exit %d\n%s", r.code, r.stderr)
	}
	// Not stopped: the same failure is an error (the schema is missing).
	r := runCmd(t.Context(), env, "worker")
	if r.code != 1 || !strings.Contains(r.stderr, "footfall worker:") {
		t.Errorf("worker on a database without schema: %+v", r)
	}
}
