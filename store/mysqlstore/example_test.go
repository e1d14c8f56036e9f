package mysqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/mysqlstore"
)

// Open a store on a migrated database, as a worker or the admin role
// does; `footfall migrate` (or Options.Migrate) creates the schema. The
// example needs a server, so it is compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	s, err := mysqlstore.Open(ctx, mysqlstore.Options{
		DSN:             "footfall:secret@tcp(db.internal:3306)/footfall",
		MaxOpenConns:    8,
		ConnMaxLifetime: 10 * time.Minute,
	})
	switch {
	case errors.Is(err, mysqlstore.ErrSchema):
		log.Fatalf("run `footfall migrate` first, or upgrade: %v", err)
	case errors.Is(err, analytics.ErrUnavailable):
		log.Fatalf("database unreachable: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	defer s.Close()

	applied, known, err := s.SchemaVersion(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("schema %d of %d on %s\n", applied, known, s.ServerVersion())
}

// Retention and erasure are optional Store capabilities.
func ExampleStore_DeleteLogsBefore() {
	ctx := context.Background()
	s, err := mysqlstore.Open(ctx, mysqlstore.Options{DSN: "footfall:secret@tcp(db.internal:3306)/footfall"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var store analytics.Store = s
	if p, ok := store.(analytics.Pruner); ok {
		cutoff := time.Now().AddDate(0, 0, -180)
		n, err := p.DeleteLogsBefore(ctx, 1, cutoff, 1000)
		fmt.Println(n.Visits, n.Actions, err)
	}
}
