package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/sqlitestore"
	"github.com/footfall/analytics/store/storetest"
)

// harness opens a fresh database file in a temporary directory per store.
type harness struct{ memory bool }

func (h harness) MakeStore(ctx context.Context, t *testing.T) (analytics.Store, error) {
	path := filepath.Join(t.TempDir(), "footfall.db")
	if h.memory {
		path = ":memory:"
	}
	return sqlitestore.Open(ctx, sqlitestore.Options{Path: path, Migrate: true})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return harness{} }, storetest.Features{})
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return harness{memory: true} }, storetest.Features{})
}
