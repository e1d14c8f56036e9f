package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

func tempPath(t *testing.T) string { return filepath.Join(t.TempDir(), "footfall.db") }

// withExtra returns the embedded migrations plus a test-only next one.
func withExtra(t *testing.T) []storeutil.Migration {
	t.Helper()
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return append(migs, storeutil.Migration{Version: len(migs) + 1, Name: "9999_test.sql",
		SQL: "CREATE TABLE test_extra (x INTEGER) STRICT; INSERT INTO test_extra VALUES (42);"})
}

func TestMigrateFreshToLatest(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Options{Path: tempPath(t), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	applied, known, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	migs, _ := loadMigrations()
	if applied != len(migs) || known != len(migs) {
		t.Errorf("SchemaVersion = %d, %d; want %d, %d", applied, known, len(migs), len(migs))
	}
	// Every table of the schema overview exists.
	for _, table := range []string{"schema_migrations", "site", "goal", "log_visit", "log_link_visit_action", "log_action",
		"log_conversion", "log_conversion_item", "shard_checkpoint", "id_sequence", "salt", "archive_invalidation"} {
		var n int
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, %v", table, n, err)
		}
	}
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var syncMode int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != 1 {
		t.Errorf("synchronous = %d, %v; want 1 (NORMAL)", syncMode, err)
	}
}

func TestOpenSchemaChecks(t *testing.T) {
	ctx := t.Context()

	t.Run("missing schema", func(t *testing.T) {
		path := tempPath(t)
		_, err := Open(ctx, Options{Path: path})
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "footfall migrate") {
			t.Fatalf("Open of an empty database = %v, want ErrSchema asking to run footfall migrate", err)
		}
		s, err := Open(ctx, Options{Path: path, Migrate: true})
		if err != nil {
			t.Fatalf("Open with Migrate after the refusal: %v", err)
		}
		s.Close()
		s, err = Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatalf("Open without Migrate of a migrated database: %v", err)
		}
		s.Close()
	})

	t.Run("older schema", func(t *testing.T) {
		path := tempPath(t)
		s, err := Open(ctx, Options{Path: path, Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		site := analytics.Site{Name: "kept"}
		if err := s.CreateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// A newer build knows one more migration.
		newer := withExtra(t)
		_, err = open(ctx, Options{Path: path}, newer)
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "older") || !strings.Contains(err.Error(), "footfall migrate") {
			t.Fatalf("Open of an older schema = %v, want ErrSchema asking to migrate", err)
		}
		s, err = open(ctx, Options{Path: path, Migrate: true}, newer)
		if err != nil {
			t.Fatalf("Open with Migrate: %v", err)
		}
		applied, known, err := s.SchemaVersion(ctx)
		if err != nil || applied != len(newer) || known != len(newer) {
			t.Errorf("SchemaVersion = %d, %d, %v; want %d, %d", applied, known, err, len(newer), len(newer))
		}
		var x int
		if err := s.rdb.QueryRowContext(ctx, "SELECT x FROM test_extra").Scan(&x); err != nil || x != 42 {
			t.Errorf("the extra migration did not run: %d, %v", x, err)
		}
		if _, err := s.Site(ctx, site.ID); err != nil {
			t.Errorf("data lost by migrating: %v", err)
		}
		s.Close()

		// This build does not know the newest migration: it refuses the
		// database, with or without Migrate.
		for _, migrate := range []bool{false, true} {
			_, err = Open(ctx, Options{Path: path, Migrate: migrate})
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "newer") {
				t.Errorf("Open(Migrate: %v) of a newer schema = %v, want ErrSchema saying it is newer", migrate, err)
			}
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s, err := Open(ctx, Options{Path: path, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	migs := withExtra(t)
	migs[len(migs)-1].SQL = "CREATE TABLE half_done (x INTEGER); SELECT no_such_function();"
	if _, err := open(ctx, Options{Path: path, Migrate: true}, migs); err == nil {
		t.Fatal("a failing migration succeeded")
	}
	s, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("Open after a failed migration: %v", err)
	}
	defer s.Close()
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'").Scan(&n); err != nil || n != 0 {
		t.Errorf("a failed migration left its table behind (%d, %v)", n, err)
	}
}

func TestMigrateConcurrentOpens(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, Options{Path: path, Migrate: true})
			if err != nil {
				t.Errorf("concurrent Open with Migrate: %v", err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(s.migrations) {
		t.Errorf("schema_migrations has %d rows, %v; want %d", n, err, len(s.migrations))
	}
}

func TestParseMigrations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []int // versions; nil = error
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}, "m/README": {}}, []int{1, 2}},
		{"gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, nil},
		{"not starting at 1", fstest.MapFS{"m/0002_a.sql": {}}, nil},
		{"bad name", fstest.MapFS{"m/0001_a.sql": {}, "m/second.sql": {}}, nil},
		{"zero", fstest.MapFS{"m/0000_a.sql": {}}, nil},
		{"empty", fstest.MapFS{"m/README": {}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := parseMigrations(tc.files, "m")
			if tc.want == nil {
				if err == nil {
					t.Fatalf("parseMigrations = %v, want an error", migs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range migs {
				got = append(got, m.Version)
			}
			if len(got) != len(tc.want) || got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1] {
				t.Errorf("versions %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults", Options{Path: "x.db"}, true},
		{"memory", Options{Path: ":memory:"}, true},
		{"no path", Options{}, false},
		{"query in path", Options{Path: "x.db?mode=ro"}, false},
		{"negative busy timeout", Options{Path: "x.db", BusyTimeout: -time.Second}, false},
		{"negative read conns", Options{Path: "x.db", ReadConns: -1}, false},
		{"negative cache", Options{Path: "x.db", CacheSizeKiB: -1}, false},
		{"negative dictionary cache", Options{Path: "x.db", DictionaryCacheSize: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.setDefaults()
			err := o.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, analytics.ErrInvalid) {
				t.Errorf("Validate error %v does not wrap ErrInvalid", err)
			}
		})
	}
	if _, err := Open(t.Context(), Options{}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("Open without a path = %v, want ErrInvalid", err)
	}
}

// TestBusyIsUnavailable holds the write lock from another connection (as
// another process would) and expects ErrUnavailable, retryable.
func TestBusyIsUnavailable(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s, err := Open(ctx, Options{Path: path, Migrate: true, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	_, err = s.ReserveIDs(ctx, analytics.IDVisit, 1)
	if !errors.Is(err, analytics.ErrUnavailable) || !analytics.IsRetryable(err) {
		t.Errorf("ReserveIDs while another process writes = %v, want retryable ErrUnavailable", err)
	}
	err = s.WriteBatch(ctx, &analytics.LogBatch{Shard: "s", To: analytics.Position{Lo: 1}})
	if !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("WriteBatch while another process writes = %v, want ErrUnavailable", err)
	}
	// Reads go on (WAL).
	if _, err := s.Checkpoint(ctx, "s"); err != nil {
		t.Errorf("Checkpoint while another process writes: %v", err)
	}
	tx.Rollback()
	if _, err := s.ReserveIDs(ctx, analytics.IDVisit, 1); err != nil {
		t.Errorf("ReserveIDs after the lock is gone: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s, err := Open(ctx, Options{Path: path, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.ReserveIDs(ctx, analytics.IDVisit, 10)
	if err != nil {
		t.Fatal(err)
	}
	v := analytics.Visit{ID: id, SiteID: 1, VisitorID: analytics.VisitorID{1}, FirstActionTime: time.UnixMilli(1e12).UTC(), LastActionTime: time.UnixMilli(1e12).UTC()}
	if err := s.WriteBatch(ctx, &analytics.LogBatch{Shard: "s", To: analytics.Position{Lo: 1}, Visits: []analytics.Visit{v}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LastVisit(ctx, analytics.VisitorMatch{SiteID: 1, VisitorID: v.VisitorID})
	if err != nil || got.ID != id {
		t.Errorf("LastVisit after reopening = %d, %v; want %d", got.ID, err, id)
	}
	next, err := s.ReserveIDs(ctx, analytics.IDVisit, 1)
	if err != nil || next != id+10 {
		t.Errorf("ReserveIDs after reopening = %d, %v; want %d", next, err, id+10)
	}
	if p, err := s.Checkpoint(ctx, "s"); err != nil || p != (analytics.Position{Lo: 1}) {
		t.Errorf("Checkpoint after reopening = %v, %v", p, err)
	}
}

// TestDictionaryCached checks that a written batch leaves its names in the
// cache, mapped to the ids stored in log_action, so the next batch with the
// same names needs no dictionary query.
func TestDictionaryCached(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Options{Path: tempPath(t), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := analytics.Action{ID: 1, VisitID: 1, SiteID: 1, Type: analytics.ActionOutlink, URL: "https://out.example/", Title: "T",
		Event: &analytics.Event{Category: "c", Action: "a"}}
	if err := s.WriteBatch(ctx, &analytics.LogBatch{Shard: "s", To: analytics.Position{Lo: 1}, Actions: []analytics.Action{a}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []storeutil.DictKey{{Type: storeutil.DictOutlink, Name: a.URL}, {Type: storeutil.DictTitle, Name: "T"}, {Type: storeutil.DictEventCategory, Name: "c"}, {Type: storeutil.DictEventAction, Name: "a"}} {
		id, ok := s.dict.Get(k)
		if !ok {
			t.Errorf("%v not cached", k)
			continue
		}
		var name string
		var typ uint8
		if err := s.rdb.QueryRowContext(ctx, "SELECT type, name FROM log_action WHERE idaction = ?", id).Scan(&typ, &name); err != nil || name != k.Name || typ != k.Type {
			t.Errorf("cached id %d of %v is (%d, %q) in log_action, %v", id, k, typ, name, err)
		}
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM log_action").Scan(&n); err != nil || n != 4 {
		t.Errorf("log_action has %d rows, %v; want 4", n, err)
	}
	// The same names in a new store's cache-less writer resolve to the
	// same ids (the dictionary is shared, not per process).
	s.dict = storeutil.NewNameCache[int64](10, false)
	a.ID = 2
	if err := s.WriteBatch(ctx, &analytics.LogBatch{Shard: "s", From: analytics.Position{Lo: 1}, To: analytics.Position{Lo: 2}, Actions: []analytics.Action{a}}); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM log_action").Scan(&n); err != nil || n != 4 {
		t.Errorf("log_action has %d rows after writing known names, %v; want 4", n, err)
	}
}

// TestCloseDuringUse closes the store while readers and writers run: they
// fail with ErrClosed or finish, never hang or panic.
func TestCloseDuringUse(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Options{Path: tempPath(t), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg, started sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i == 1 {
					started.Done()
				}
				var err error
				if g%2 == 0 {
					_, err = s.ReserveIDs(ctx, analytics.IDAction, 1)
				} else {
					_, err = s.Sites(ctx)
				}
				if err != nil {
					if !errors.Is(err, analytics.ErrClosed) {
						t.Errorf("call during Close = %v, want ErrClosed", err)
					}
					if i == 0 {
						started.Done()
					}
					return
				}
			}
		}()
	}
	started.Wait() // every goroutine has made a call
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
}
