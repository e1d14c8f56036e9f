package main

import (
	"context"
	"strings"
	"testing"

	"github.com/footfall/analytics/internal/testenv"
)

// TestWorkerStoppedWhileStarting: a worker told to stop (SIGTERM) while
// it is still connecting to its store exits 0, not 1 with "context
// canceled" (the fault tests stop workers at any moment).
func TestWorkerStoppedWhileStarting(t *testing.T) {
	dsn := testenv.MySQLDatabase(t, "w")
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_LOG_LEVEL=warn",
		"FOOTFALL_STORE_DRIVER=mysql", "FOOTFALL_STORE_MYSQL_DSN=" + dsn,
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
