package storetest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/sqlitestore"
	"github.com/footfall/analytics/store/storetest"
)

// sqliteHarness gives every subtest its own database file.
type sqliteHarness struct{}

func (sqliteHarness) MakeStore(ctx context.Context, t *testing.T) (analytics.Store, error) {
	return sqlitestore.Open(ctx, sqlitestore.Options{
		Path:    filepath.Join(t.TempDir(), "footfall.db"),
		Migrate: true,
	})
}

// A driver runs the suite from its own tests with a harness that makes a
// fresh store per subtest.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		storetest.Run(t, func(*testing.T) storetest.Harness { return sqliteHarness{} }, storetest.Features{
			TimePrecision: 0, // default: milliseconds
			MaxNameLen:    sqlitestore.MaxNameLen,
		})
	}
	_ = testConformance
}
