package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/sqlitestore"
)

// Open a database file, creating and migrating it, then record one visit
// with one page view and read it back.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "footfall-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := sqlitestore.Open(ctx, sqlitestore.Options{
		Path:    filepath.Join(dir, "footfall.db"),
		Migrate: true, // the all-in-one binary migrates; production runs `footfall migrate`
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	site := analytics.Site{Name: "Example", URLs: []string{"https://example.com"}, Timezone: "Europe/Paris"}
	if err := s.CreateSite(ctx, &site); err != nil {
		log.Fatal(err)
	}
	visitID, _ := s.ReserveIDs(ctx, analytics.IDVisit, 1)
	actionID, _ := s.ReserveIDs(ctx, analytics.IDAction, 1)
	at := time.Date(2024, 3, 10, 9, 30, 0, 0, time.UTC)
	err = s.WriteBatch(ctx, &analytics.LogBatch{
		Shard: "mem:0",
		To:    analytics.Position{Hi: 1, Lo: 1},
		Visits: []analytics.Visit{{ID: visitID, SiteID: site.ID, VisitorID: analytics.VisitorID{1, 2, 3, 4, 5, 6, 7, 8},
			FirstActionTime: at, LastActionTime: at, Actions: 1, Pageviews: 1, VisitCount: 1,
			EntryURL: "https://example.com/", EntryTitle: "Home"}},
		Actions: []analytics.Action{{ID: actionID, VisitID: visitID, SiteID: site.ID, Time: at,
			Type: analytics.ActionPageview, URL: "https://example.com/", Title: "Home"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(d *analytics.VisitDetails) error {
		fmt.Println(d.VisitorID, d.EntryTitle, len(d.ActionList), d.ActionList[0].URL)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	cp, _ := s.Checkpoint(ctx, "mem:0")
	fmt.Println("checkpoint", cp)
	// Output:
	// 0102030405060708 Home 1 https://example.com/
	// checkpoint 1-1
}

// A database without a schema is refused unless Migrate is set.
func ExampleOpen_unmigrated() {
	dir, err := os.MkdirTemp("", "footfall-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_, err = sqlitestore.Open(context.Background(), sqlitestore.Options{Path: filepath.Join(dir, "new.db")})
	fmt.Println(errors.Is(err, sqlitestore.ErrSchema))
	// Output: true
}
