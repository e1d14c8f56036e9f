package mysqlstore

import (
	"context"
	"database/sql"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/store/storetest"
)

// testDSN creates a database of its own for t, dropped at cleanup, and
// returns its DSN.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn, drop := newTestDB(t)
	t.Cleanup(drop)
	return dsn
}

// newTestDB creates a database and returns its DSN and a func that drops
// it (idempotent).
func newTestDB(t testing.TB) (dsn string, drop func()) {
	t.Helper()
	return testenv.NewMySQLDatabase(t, "t")
}

// openTest opens a migrated store on a fresh database, closed at cleanup.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.DSN == "" && opts.Config == nil {
		opts.DSN = testDSN(t)
	}
	opts.Migrate = true
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type harness struct{}

func (harness) MakeStore(ctx context.Context, t *testing.T) (analytics.Store, error) {
	return Open(ctx, Options{DSN: testDSN(t), Migrate: true})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return harness{} }, storetest.Features{MaxNameLen: analytics.MaxNameLen})
}

// slowHarness makes stores that write every batch on the slow path
// (statement by statement), which the fast path falls back to.
type slowHarness struct{}

func (slowHarness) MakeStore(ctx context.Context, t *testing.T) (analytics.Store, error) {
	s, err := Open(ctx, Options{DSN: testDSN(t), Migrate: true})
	if err != nil {
		return nil, err
	}
	s.hook = func(context.Context, string, *sql.Tx) error { return nil }
	return s, nil
}

func TestConformanceSlowPath(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return slowHarness{} }, storetest.Features{MaxNameLen: analytics.MaxNameLen})
}
