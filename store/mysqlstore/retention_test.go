package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// dbRow is one row of a table dump: its visit (0 when the table has no
// idvisit column) and all its values.
type dbRow struct {
	Visit  int64
	Values string
}

// dumpAll returns the content of every table of the store's database.
func dumpAll(t testing.TB, s *Store) map[string][]dbRow {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]dbRow{}
	for _, tb := range tables {
		q := "SELECT 0, t.* FROM " + tb + " t"
		if slices.Contains([]string{"log_visit", "log_link_visit_action", "log_conversion", "log_conversion_item"}, tb) {
			q = "SELECT idvisit, t.* FROM " + tb + " t"
		}
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("dump %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		var list []dbRow
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			var r dbRow
			fmt.Sscan(string(vals[0]), &r.Visit)
			var b strings.Builder
			for _, v := range vals[1:] {
				fmt.Fprintf(&b, "%q|", v)
			}
			r.Values = b.String()
			list = append(list, r)
		}
		rows.Close()
		slices.SortFunc(list, func(a, b dbRow) int { return strings.Compare(a.Values, b.Values) })
		out[tb] = list
	}
	return out
}

// without returns dump minus the rows of the given visits.
func without(dump map[string][]dbRow, visits map[int64]bool) map[string][]dbRow {
	out := map[string][]dbRow{}
	for tb, rows := range dump {
		out[tb] = slices.DeleteFunc(slices.Clone(rows), func(r dbRow) bool { return visits[r.Visit] })
	}
	return out
}

// countRows counts, per log table, the rows of the given visits.
func countRows(dump map[string][]dbRow, visits map[int64]bool) analytics.Deleted {
	var d analytics.Deleted
	for tb, n := range map[string]*int64{"log_visit": &d.Visits, "log_link_visit_action": &d.Actions,
		"log_conversion": &d.Conversions, "log_conversion_item": &d.Items} {
		for _, r := range dump[tb] {
			if visits[r.Visit] {
				*n++
			}
		}
	}
	return d
}

// fillTwoSites writes traffic over three days on two sites (some batches
// with carts and goals too) and returns the sites.
func fillTwoSites(t testing.TB, s *Store) (a, b int) {
	t.Helper()
	a, b = newSite(t, s), newSite(t, s)
	for i, site := range []int{a, b} {
		g := newTraffic(t, s, site, fmt.Sprintf("fill:%d", i), uint64(40+i))
		for day := 0; day < 3; day++ {
			g.clock = time.Date(2024, 5, 1+day, 9, 0, 0, 0, time.UTC)
			for j := 0; j < 3; j++ {
				bt := g.batch(80)
				if len(bt.Visits) > 0 {
					v := bt.Visits[0]
					bt.Conversions = append(bt.Conversions,
						analytics.Conversion{VisitID: v.ID, SiteID: site, Time: v.LastActionTime, GoalID: 1, Revenue: 1},
						analytics.Conversion{VisitID: v.ID, SiteID: site, Time: v.LastActionTime, GoalID: analytics.GoalCart,
							Items: []analytics.Item{{SKU: "cart-sku", Quantity: 1}}})
				}
				g.write(bt)
			}
			g.open = nil // visits end with the day
		}
	}
	return a, b
}

// visitsWhere returns the ids of the visits the query selects.
func visitsWhere(t testing.TB, s *Store, where string, args ...any) map[int64]bool {
	t.Helper()
	rows, err := s.db.Query("SELECT idvisit FROM log_visit WHERE "+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		out[id] = true
	}
	return out
}

func TestDeleteLogsBefore(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	a, b := fillTwoSites(t, s)
	cutoff := time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)
	before := dumpAll(t, s)
	gone := visitsWhere(t, s, "idsite = ? AND visit_last_action_time < ?", a, cutoff)
	if len(gone) < 20 || len(visitsWhere(t, s, "idsite = ?", a)) == len(gone) {
		t.Fatalf("fixture: %d visits to delete; want many, and some kept", len(gone))
	}
	want := countRows(before, gone)

	got, err := s.DeleteLogsBefore(ctx, a, cutoff, 7)
	if err != nil {
		t.Fatalf("DeleteLogsBefore: %v", err)
	}
	if got != want {
		t.Errorf("DeleteLogsBefore = %+v, want %+v", got, want)
	}
	if d := cmp.Diff(without(before, gone), dumpAll(t, s)); d != "" {
		t.Errorf("tables after retention (-want +got):\n%s", d)
	}
	// Nothing left to do; site b untouched by a later run on a.
	if again, err := s.DeleteLogsBefore(ctx, a, cutoff, 7); err != nil || again != (analytics.Deleted{}) {
		t.Errorf("second run = %+v, %v; want nothing", again, err)
	}
	if n := len(visitsWhere(t, s, "idsite = ? AND visit_last_action_time < ?", b, cutoff)); n == 0 {
		t.Error("site b lost its old visits")
	}

	for _, tc := range []struct {
		name   string
		site   int
		before time.Time
		chunk  int
	}{{"site 0", 0, cutoff, 10}, {"chunk 0", a, cutoff, 0}, {"zero time", a, time.Time{}, 10}} {
		if _, err := s.DeleteLogsBefore(ctx, tc.site, tc.before, tc.chunk); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("DeleteLogsBefore with %s = %v, want ErrInvalid", tc.name, err)
		}
	}
}

// TestDeleteLogsBeforeWhileWriting runs retention while a worker writes
// new traffic: both finish, the new data is whole.
func TestDeleteLogsBeforeWhileWriting(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	a, _ := fillTwoSites(t, s)
	g := newTraffic(t, s, a, "live", 77)
	g.clock = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var written []*analytics.LogBatch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 15; i++ {
			b := g.batch(60)
			if err := s.WriteBatch(ctx, b); err != nil {
				t.Errorf("WriteBatch during retention: %v", err)
				return
			}
			written = append(written, b)
		}
	}()
	if _, err := s.DeleteLogsBefore(ctx, a, time.Date(2024, 5, 30, 0, 0, 0, 0, time.UTC), 3); err != nil {
		t.Errorf("DeleteLogsBefore during writes: %v", err)
	}
	<-done
	ids := map[int64]bool{}
	for _, b := range written {
		for _, x := range b.Actions {
			ids[x.ID] = true
		}
	}
	n := 0
	s.Visits(ctx, analytics.VisitQuery{SiteID: a, WithActions: true}, func(d *analytics.VisitDetails) error {
		for _, x := range d.ActionList {
			if ids[x.ID] {
				n++
			}
		}
		return nil
	})
	if n != len(ids) {
		t.Errorf("%d of the %d actions written during retention are stored", n, len(ids))
	}
}

func TestVisitorExportAndDelete(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	a, b := fillTwoSites(t, s)
	// One visitor with a user id on both sites, and visits of others that
	// share its user id or its visitor id.
	var raw []byte
	if err := s.db.QueryRow("SELECT idvisitor FROM log_visit WHERE idsite = ? ORDER BY idvisit LIMIT 1", a).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	target := storeutil.VisitorID(raw)
	s.db.Exec("UPDATE log_visit SET user_id = 'alice' WHERE idvisitor = ?", target[:])
	s.db.Exec("UPDATE log_visit SET user_id = 'alice' WHERE idsite = ? ORDER BY idvisit DESC LIMIT 2", b)
	s.db.Exec("UPDATE log_visit SET idvisitor = ? WHERE idsite = ? ORDER BY idvisit LIMIT 1", target[:], b)
	s.db.Exec("UPDATE log_visit SET user_id = 'bob' WHERE idsite = ? AND user_id = '' ORDER BY idvisit DESC LIMIT 3", a)

	for _, tc := range []struct {
		name  string
		site  int
		f     analytics.VisitorFilter
		where string
		args  []any
	}{
		{"visitor id on a", a, analytics.VisitorFilter{VisitorID: target}, "idsite = ? AND idvisitor = ?", []any{a, target[:]}},
		{"user id on b", b, analytics.VisitorFilter{UserID: "alice"}, "idsite = ? AND user_id = 'alice'", []any{b}},
		{"either, every site", 0, analytics.VisitorFilter{VisitorID: target, UserID: "alice"}, "idvisitor = ? OR user_id = 'alice'", []any{target[:]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := visitsWhere(t, s, tc.where, tc.args...)
			if len(want) == 0 {
				t.Fatal("fixture: no visits")
			}
			got, err := s.ExportVisitor(ctx, tc.site, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[int64]bool{}
			for i, d := range got {
				ids[d.ID] = true
				if i > 0 && d.SiteID == got[i-1].SiteID && d.FirstActionTime.Before(got[i-1].FirstActionTime) {
					t.Errorf("export not oldest first at %d", i)
				}
				var full *analytics.VisitDetails
				s.Visits(ctx, analytics.VisitQuery{SiteID: d.SiteID, VisitorID: d.VisitorID, WithActions: true}, func(x *analytics.VisitDetails) error {
					if x.ID == d.ID {
						full = x
					}
					return nil
				})
				if full == nil {
					t.Errorf("exported visit %d is not among the visitor's visits", d.ID)
				} else if diff := cmp.Diff(*full, d, stateOpts); diff != "" {
					t.Errorf("exported visit %d differs from Visits (-Visits +export):\n%s", d.ID, diff)
				}
			}
			if !maps.Equal(ids, want) {
				t.Fatalf("ExportVisitor returned visits %v, want %v", slices.Sorted(maps.Keys(ids)), slices.Sorted(maps.Keys(want)))
			}
			before := dumpAll(t, s)
			n, err := s.DeleteVisitor(ctx, tc.site, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if wantN := countRows(before, want); n != wantN {
				t.Errorf("DeleteVisitor = %+v, want %+v", n, wantN)
			}
			if d := cmp.Diff(without(before, want), dumpAll(t, s)); d != "" {
				t.Errorf("tables after DeleteVisitor (-want +got):\n%s", d)
			}
			if again, err := s.ExportVisitor(ctx, tc.site, tc.f); err != nil || len(again) != 0 {
				t.Errorf("export after delete = %d visits, %v", len(again), err)
			}
		})
	}
	if _, err := s.ExportVisitor(ctx, a, analytics.VisitorFilter{}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("ExportVisitor with an empty filter = %v, want ErrInvalid", err)
	}
	if _, err := s.DeleteVisitor(ctx, -1, analytics.VisitorFilter{UserID: "x"}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeleteVisitor of site -1 = %v, want ErrInvalid", err)
	}
	if got, err := s.DeleteVisitor(ctx, a, analytics.VisitorFilter{UserID: "nobody"}); err != nil || got != (analytics.Deleted{}) {
		t.Errorf("DeleteVisitor of an unknown visitor = %+v, %v", got, err)
	}
}

// readActions reads every action of a site by ID.
func readActions(t testing.TB, s *Store, site int) map[int64]analytics.Action {
	t.Helper()
	got := map[int64]analytics.Action{}
	err := s.Visits(context.Background(), analytics.VisitQuery{SiteID: site, WithActions: true}, func(d *analytics.VisitDetails) error {
		for _, a := range d.ActionList {
			got[a.ID] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDeleteUnusedNames(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	a, b := fillTwoSites(t, s)
	if _, err := s.DeleteLogsBefore(ctx, a, time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC), 50); err != nil {
		t.Fatal(err)
	}
	beforeA, beforeB := readActions(t, s, a), readActions(t, s, b)
	var dictBefore int64
	s.db.QueryRow("SELECT COUNT(*) FROM log_action").Scan(&dictBefore)
	n, err := s.DeleteUnusedNames(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("DeleteUnusedNames deleted nothing after retention")
	}
	var dictAfter int64
	s.db.QueryRow("SELECT COUNT(*) FROM log_action").Scan(&dictAfter)
	if dictBefore-dictAfter != n {
		t.Errorf("DeleteUnusedNames = %d, but the dictionary shrank by %d", n, dictBefore-dictAfter)
	}
	if d := cmp.Diff(beforeA, readActions(t, s, a), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("site a's actions changed (-before +after):\n%s", d)
	}
	if d := cmp.Diff(beforeB, readActions(t, s, b), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("site b's actions changed (-before +after):\n%s", d)
	}
	if again, err := s.DeleteUnusedNames(ctx, 100); err != nil || again != 0 {
		t.Errorf("second DeleteUnusedNames = %d, %v; want 0", again, err)
	}
	// The store writes on (its cache was reset by the epoch change).
	g := newTraffic(t, s, a, "after-prune", 3)
	g.write(g.batch(100))
	if _, err := s.DeleteUnusedNames(ctx, 0); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeleteUnusedNames(0) = %v, want ErrInvalid", err)
	}
}

// TestDeleteUnusedNamesRace prunes the dictionary while writers (another
// Store, with its own cache, and this one) keep writing batches whose
// names were unused when the pruning began: every action reads back with
// its names.
func TestDeleteUnusedNamesRace(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	other, err := Open(ctx, Options{DSN: s.opts.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := newSite(t, s)
	// Names that exist but are unused: written, then deleted by retention.
	for i, st := range []*Store{s, other} {
		g := newTraffic(t, st, a, fmt.Sprintf("warm:%d", i), 50)
		g.clock = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for j := 0; j < 4; j++ {
			g.write(g.batch(200)) // caches the names in both stores
		}
	}
	if _, err := s.DeleteLogsBefore(ctx, a, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), 100); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	written := make([]map[int64]analytics.Action, 2)
	stop := make(chan struct{})
	for i, st := range []*Store{s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newTraffic(t, st, a, fmt.Sprintf("race:%d", i), 50) // the same names
			written[i] = map[int64]analytics.Action{}
			for j := 0; ; j++ {
				select {
				case <-stop:
					if j > 3 {
						return
					}
				default:
				}
				b := g.batch(100)
				if err := st.WriteBatch(ctx, b); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
				for _, x := range b.Actions {
					written[i][x.ID] = x
				}
			}
		}()
	}
	n, err := s.DeleteUnusedNames(ctx, 50)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pruned %d names while writing", n)
	all := map[int64]analytics.Action{}
	for _, m := range written {
		maps.Copy(all, m)
	}
	got := readActions(t, s, a)
	for id, want := range all {
		g, ok := got[id]
		if !ok {
			t.Errorf("action %d missing", id)
			continue
		}
		if g.URL != want.URL || g.Title != want.Title || g.PrevURL != want.PrevURL || g.PrevTitle != want.PrevTitle {
			t.Errorf("action %d reads back %q %q %q %q, want %q %q %q %q (a referenced name was pruned)",
				id, g.URL, g.Title, g.PrevURL, g.PrevTitle, want.URL, want.Title, want.PrevURL, want.PrevTitle)
		}
	}
	var dangling int
	s.db.QueryRow(`SELECT COUNT(*) FROM log_link_visit_action a LEFT JOIN log_action n ON n.idaction = a.idaction_url
		WHERE a.idaction_url <> 0 AND n.idaction IS NULL`).Scan(&dangling)
	if dangling != 0 {
		t.Errorf("%d actions refer to a deleted url", dangling)
	}
}

// TestDeleteUnusedNamesOtherStore: a Store (a worker) caches dictionary
// ids; another Store on the same database (`footfall retention run`)
// deletes visits and the names only they used; the worker then writes
// those names again, from its cache's point of view. It must notice the
// epoch, drop its cache and store them again.
func TestDeleteUnusedNamesOtherStore(t *testing.T) {
	ctx := t.Context()
	worker := openTest(t, Options{})
	admin, err := Open(ctx, Options{DSN: worker.opts.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	site := newSite(t, worker)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var pos analytics.Position
	write := func(at time.Time) []analytics.Action {
		t.Helper()
		v, _ := worker.ReserveIDs(ctx, analytics.IDVisit, 1)
		a, _ := worker.ReserveIDs(ctx, analytics.IDAction, 3)
		b := &analytics.LogBatch{Shard: "w", From: pos, To: analytics.Position{Hi: pos.Hi + 1},
			Visits: []analytics.Visit{{ID: v, SiteID: site, FirstActionTime: at, LastActionTime: at, EntryURL: "https://x/entry"}}}
		for i := int64(0); i < 3; i++ {
			b.Actions = append(b.Actions, analytics.Action{ID: a + i, VisitID: v, SiteID: site, Time: at,
				Type: analytics.ActionPageview, URL: fmt.Sprintf("https://x/%d", i), Title: fmt.Sprintf("T%d", i),
				Event: &analytics.Event{Category: "c", Action: "a", Name: fmt.Sprintf("n%d", i)}})
		}
		if err := worker.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		pos = b.To
		return b.Actions
	}
	write(at)
	write(at) // the shard is known: the next write takes the fast path
	if _, err := admin.DeleteLogsBefore(ctx, site, at.Add(time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if n, err := admin.DeleteUnusedNames(ctx, 2); err != nil || n < 9 {
		t.Fatalf("DeleteUnusedNames = %d, %v; want at least the 9 names of the deleted visits", n, err)
	}
	want := write(at.Add(2 * time.Hour))
	got := readActions(t, admin, site)
	for _, w := range want {
		g := got[w.ID]
		if g.URL != w.URL || g.Title != w.Title || g.Event == nil || g.Event.Name != w.Event.Name {
			t.Errorf("action %d reads back %q %q %+v, want %q %q %q", w.ID, g.URL, g.Title, g.Event, w.URL, w.Title, w.Event.Name)
		}
	}
}
