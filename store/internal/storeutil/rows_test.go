package storeutil

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/footfall/analytics"
)

// testDB is a private in-memory SQLite database with a site table.
func testDB(t *testing.T, sites ...int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE site (idsite INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for _, id := range sites {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO site VALUES (?)", id); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestQueryAll(t *testing.T) {
	ctx := t.Context()
	db := testDB(t, 3, 1, 2)
	ids, err := QueryIDs(ctx, db, "SELECT idsite FROM site WHERE idsite > ? ORDER BY idsite", 1)
	if err != nil || !cmp.Equal(ids, []int64{2, 3}) {
		t.Errorf("QueryIDs = %v, %v", ids, err)
	}
	none, err := QueryIDs(ctx, db, "SELECT idsite FROM site WHERE idsite > 10")
	if err != nil || none != nil {
		t.Errorf("QueryIDs of no rows = %#v, %v; want nil", none, err)
	}
	if _, err := QueryIDs(ctx, db, "SELECT nope FROM site"); err == nil {
		t.Error("a bad query succeeded")
	}
	errScan := errors.New("bad row")
	_, err = QueryAll(ctx, db, func(sc Scanner, v *int) error {
		if err := sc.Scan(v); err != nil {
			return err
		}
		if *v == 2 {
			return errScan
		}
		return nil
	}, "SELECT idsite FROM site ORDER BY idsite")
	if !errors.Is(err, errScan) {
		t.Errorf("QueryAll with a failing scan = %v", err)
	}
	// A transaction is a Querier too.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if ids, err := QueryIDs(ctx, tx, "SELECT count(*) FROM site"); err != nil || !cmp.Equal(ids, []int64{3}) {
		t.Errorf("QueryIDs in a transaction = %v, %v", ids, err)
	}
}

func TestVisitorSites(t *testing.T) {
	db := testDB(t, 5, 2, 9)
	x := analytics.VisitorFilter{VisitorID: analytics.VisitorID{1}}
	for _, tc := range []struct {
		name    string
		site    int
		f       analytics.VisitorFilter
		want    []int
		invalid bool
	}{
		{"one site", 5, x, []int{5}, false},
		{"unknown site is still asked for", 7, x, []int{7}, false},
		{"every site", 0, x, []int{2, 5, 9}, false},
		{"negative site", -1, x, nil, true},
		{"empty filter", 0, analytics.VisitorFilter{}, nil, true},
		{"long user id", 0, analytics.VisitorFilter{UserID: "abc"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VisitorSites(t.Context(), db, tc.site, tc.f, 2)
			if tc.invalid {
				if !errors.Is(err, analytics.ErrInvalid) {
					t.Errorf("VisitorSites = %v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("VisitorSites = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := VisitorSites(ctx, db, 0, x, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("VisitorSites with a cancelled context = %v", err)
	}
}

func TestSiteVisitIDs(t *testing.T) {
	got, err := SiteVisitIDs([]int{1, 2, 3}, func(site int) ([]int64, error) {
		return []int64{int64(site * 10), int64(site*10 + 1)}, nil
	})
	if err != nil || !cmp.Equal(got, []int64{10, 11, 20, 21, 30, 31}) {
		t.Errorf("SiteVisitIDs = %v, %v", got, err)
	}
	errQuery := errors.New("query failed")
	if _, err := SiteVisitIDs([]int{1, 2}, func(site int) ([]int64, error) { return nil, errQuery }); !errors.Is(err, errQuery) {
		t.Errorf("SiteVisitIDs with a failing query = %v", err)
	}
}

func TestExportVisits(t *testing.T) {
	// Site 1 has 600 visits (three chunks), site 2 none, site 3 one.
	visits := map[int][]int64{1: {}, 3: {9000}}
	for i := range 600 {
		visits[1] = append(visits[1], int64(i+1))
	}
	var loads []int
	load := func(ids []int64) ([]*analytics.VisitDetails, error) {
		loads = append(loads, len(ids))
		out := make([]*analytics.VisitDetails, len(ids))
		for i, id := range ids {
			out[i] = &analytics.VisitDetails{Visit: analytics.Visit{ID: id}}
		}
		return out, nil
	}
	got, err := ExportVisits([]int{1, 2, 3}, func(site int) ([]int64, error) { return visits[site], nil }, load)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 601 || got[0].ID != 1 || got[599].ID != 600 || got[600].ID != 9000 {
		t.Errorf("ExportVisits returned %d visits, wrong order or ids", len(got))
	}
	if !cmp.Equal(loads, []int{VisitChunk, VisitChunk, 600 - 2*VisitChunk, 1}) {
		t.Errorf("loads of %v visits, want chunks of at most %d", loads, VisitChunk)
	}
	none, err := ExportVisits([]int{2}, func(int) ([]int64, error) { return nil, nil }, load)
	if err != nil || none != nil {
		t.Errorf("ExportVisits of nothing = %v, %v", none, err)
	}
	errLoad := errors.New("load failed")
	_, err = ExportVisits([]int{3}, func(site int) ([]int64, error) { return visits[site], nil },
		func([]int64) ([]*analytics.VisitDetails, error) { return nil, errLoad })
	if !errors.Is(err, errLoad) {
		t.Errorf("ExportVisits with a failing load = %v", err)
	}
}

func TestDeleteInChunks(t *testing.T) {
	errDelete := errors.New("delete failed")
	for _, tc := range []struct {
		name   string
		chunks []int64 // visits deleted per call
		failAt int     // call that fails (after deleting its chunk's count); -1 never
		calls  int
		visits int64
	}{
		{"nothing", []int64{0}, -1, 1, 0},
		{"less than a chunk", []int64{3}, -1, 1, 3},
		{"exact chunks end with an empty one", []int64{10, 10, 0}, -1, 3, 20},
		{"chunks then a part", []int64{10, 10, 4}, -1, 3, 24},
		{"failure keeps what went before", []int64{10, 10, 10}, 1, 2, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got, err := DeleteInChunks(10, func() (analytics.Deleted, error) {
				n := tc.chunks[calls]
				calls++
				d := analytics.Deleted{Visits: n, Actions: 2 * n, Conversions: 3 * n, Items: 4 * n}
				if calls-1 == tc.failAt {
					return d, errDelete
				}
				return d, nil
			})
			if (tc.failAt >= 0) != errors.Is(err, errDelete) {
				t.Errorf("DeleteInChunks error = %v", err)
			}
			want := analytics.Deleted{Visits: tc.visits, Actions: 2 * tc.visits, Conversions: 3 * tc.visits, Items: 4 * tc.visits}
			if calls != tc.calls || got != want {
				t.Errorf("DeleteInChunks = %+v after %d calls; want %+v after %d", got, calls, want, tc.calls)
			}
		})
	}
}

func TestVisitsByID(t *testing.T) {
	ctx := t.Context()
	db := testDB(t)
	if _, err := db.ExecContext(ctx, "CREATE TABLE v (id INTEGER PRIMARY KEY, site INTEGER); INSERT INTO v VALUES (1, 10), (2, 20), (3, 30)"); err != nil {
		t.Fatal(err)
	}
	scan := func(sc Scanner, v *analytics.Visit) error { return sc.Scan(&v.ID, &v.SiteID) }
	ids := []int64{3, 9, 1}
	out, byID, err := VisitsByID(ctx, db, scan, ids, "SELECT id, site FROM v WHERE id IN (?, ?, ?)", 3, 9, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID != 3 || out[0].SiteID != 30 || out[1].ID != 1 {
		t.Errorf("VisitsByID = %v, want visits 3 and 1 in that order", out)
	}
	if len(byID) != 2 || byID[3] != out[0] || byID[1] != out[1] {
		t.Errorf("byID = %v does not hold the returned visits", byID)
	}
	if _, _, err := VisitsByID(ctx, db, scan, ids, "SELECT nope FROM v"); err == nil {
		t.Error("a bad query succeeded")
	}
	errScan := errors.New("bad row")
	if _, _, err := VisitsByID(ctx, db, func(Scanner, *analytics.Visit) error { return errScan }, ids, "SELECT id FROM v"); !errors.Is(err, errScan) {
		t.Errorf("VisitsByID with a failing scan = %v", err)
	}
}

func TestDeleteVisits(t *testing.T) {
	ctx := t.Context()
	db := testDB(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE visit (id INTEGER PRIMARY KEY);
		CREATE TABLE action (visit INTEGER); CREATE TABLE conv (visit INTEGER); CREATE TABLE item (visit INTEGER);
		INSERT INTO visit VALUES (1), (2), (3);
		INSERT INTO action VALUES (1), (1), (2), (3); INSERT INTO conv VALUES (1), (3); INSERT INTO item VALUES (1), (1), (1)`); err != nil {
		t.Fatal(err)
	}
	count := func(table string) (n int) {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	stmts := func(ids []int64) (items, convs, actions, visits Stmt) {
		in := []any{ids[0], ids[len(ids)-1]}
		return Stmt{"DELETE FROM item WHERE visit BETWEEN ? AND ?", in}, Stmt{"DELETE FROM conv WHERE visit BETWEEN ? AND ?", in},
			Stmt{"DELETE FROM action WHERE visit BETWEEN ? AND ?", in}, Stmt{"DELETE FROM visit WHERE id BETWEEN ? AND ?", in}
	}
	d, err := DeleteVisits(ctx, db, func(tx *sql.Tx) ([]int64, error) {
		return QueryIDs(ctx, tx, "SELECT id FROM visit WHERE id <= 2 ORDER BY id")
	}, stmts)
	if err != nil || d != (analytics.Deleted{Visits: 2, Actions: 3, Conversions: 1, Items: 3}) {
		t.Errorf("DeleteVisits = %+v, %v", d, err)
	}
	if count("visit") != 1 || count("action") != 1 || count("conv") != 1 || count("item") != 0 {
		t.Error("DeleteVisits left the wrong rows")
	}

	// No visits: nothing runs.
	d, err = DeleteVisits(ctx, db, func(*sql.Tx) ([]int64, error) { return nil, nil },
		func([]int64) (a, b, c, e Stmt) { t.Error("statements asked for no visits"); return })
	if err != nil || d != (analytics.Deleted{}) {
		t.Errorf("DeleteVisits of none = %+v, %v", d, err)
	}

	// A failing statement rolls back the ones before it.
	d, err = DeleteVisits(ctx, db, func(*sql.Tx) ([]int64, error) { return []int64{3}, nil },
		func(ids []int64) (items, convs, actions, visits Stmt) {
			items, convs, actions, _ = stmts(ids)
			return items, convs, actions, Stmt{Query: "DELETE FROM nope"}
		})
	if err == nil || d != (analytics.Deleted{}) {
		t.Errorf("DeleteVisits with a failing statement = %+v, %v", d, err)
	}
	if count("visit") != 1 || count("action") != 1 || count("conv") != 1 {
		t.Error("a failed DeleteVisits deleted rows")
	}
	errIDs := errors.New("ids failed")
	if _, err := DeleteVisits(ctx, db, func(*sql.Tx) ([]int64, error) { return nil, errIDs }, stmts); !errors.Is(err, errIDs) {
		t.Errorf("DeleteVisits with failing ids = %v", err)
	}
}
