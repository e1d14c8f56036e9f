package sqlitestore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// TestDeleteUnusedNamesOtherProcess: a Store (a worker) caches dictionary
// ids; another Store on the same file (`footfall retention run`) deletes
// visits and the names only they used; the worker then writes those names
// again from its cache's point of view. It must notice the epoch, drop its
// cache and read them back whole.
func TestDeleteUnusedNamesOtherProcess(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "f.db")
	worker, err := Open(ctx, Options{Path: path, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	admin, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	site := analytics.Site{Name: "s"}
	if err := worker.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var pos analytics.Position
	write := func(at time.Time) []analytics.Action {
		t.Helper()
		v, _ := worker.ReserveIDs(ctx, analytics.IDVisit, 1)
		a, _ := worker.ReserveIDs(ctx, analytics.IDAction, 3)
		b := &analytics.LogBatch{Shard: "w", From: pos, To: analytics.Position{Hi: pos.Hi + 1},
			Visits: []analytics.Visit{{ID: v, SiteID: site.ID, FirstActionTime: at, LastActionTime: at, EntryURL: "https://x/entry"}}}
		for i := int64(0); i < 3; i++ {
			b.Actions = append(b.Actions, analytics.Action{ID: a + i, VisitID: v, SiteID: site.ID, Time: at,
				Type: analytics.ActionPageview, URL: fmt.Sprintf("https://x/%d", i), Title: fmt.Sprintf("T%d", i),
				Event: &analytics.Event{Category: "c", Action: "a", Name: fmt.Sprintf("n%d", i)}})
		}
		if err := worker.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		pos = b.To
		return b.Actions
	}
	write(at) // the worker caches every name
	if _, err := admin.DeleteLogsBefore(ctx, site.ID, at.Add(time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	n, err := admin.DeleteUnusedNames(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n < 9 {
		t.Errorf("DeleteUnusedNames = %d, want at least the 9 names of the deleted visit", n)
	}
	want := write(at.Add(2 * time.Hour)) // same names, cached ids now gone
	var got []analytics.Action
	err = admin.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(d *analytics.VisitDetails) error {
		got = append(got, d.ActionList...)
		if d.EntryURL != "https://x/entry" {
			t.Errorf("entry URL read back %q", d.EntryURL)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d actions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].URL != want[i].URL || got[i].Title != want[i].Title || got[i].Event.Name != want[i].Event.Name {
			t.Errorf("action %d reads back %q %q %q, want %q %q %q", i, got[i].URL, got[i].Title, got[i].Event.Name,
				want[i].URL, want[i].Title, want[i].Event.Name)
		}
	}
}
