package mysqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

func knownVersion(t testing.TB) int {
	t.Helper()
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return len(migs)
}

// state is everything a store holds, read through its API.
type state struct {
	Sites         []analytics.Site
	Goals         map[int][]analytics.Goal
	Visits        []analytics.VisitDetails
	Checkpoints   map[string]analytics.Position
	Invalidations []analytics.SiteDay
	Salt          []byte
}

func readState(t testing.TB, s *Store, shards ...string) state {
	t.Helper()
	ctx := context.Background()
	var st state
	var err error
	if st.Sites, err = s.Sites(ctx); err != nil {
		t.Fatalf("Sites: %v", err)
	}
	st.Goals = map[int][]analytics.Goal{}
	for _, site := range st.Sites {
		if st.Goals[site.ID], err = s.Goals(ctx, site.ID); err != nil {
			t.Fatalf("Goals: %v", err)
		}
		err := s.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(d *analytics.VisitDetails) error {
			st.Visits = append(st.Visits, *d)
			return nil
		})
		if err != nil {
			t.Fatalf("Visits: %v", err)
		}
	}
	st.Checkpoints = map[string]analytics.Position{}
	for _, sh := range shards {
		if st.Checkpoints[sh], err = s.Checkpoint(ctx, sh); err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
	}
	if st.Invalidations, err = s.Invalidations(ctx); err != nil {
		t.Fatalf("Invalidations: %v", err)
	}
	if st.Salt, err = s.DailySalt(ctx, 1, "2024-05-01"); err != nil {
		t.Fatalf("DailySalt: %v", err)
	}
	return st
}

var stateOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

// fillStore writes a bit of everything: a site, goals, batches with
// conversions and invalidations, a salt.
func fillStore(t testing.TB, s *Store, shard string) {
	t.Helper()
	ctx := context.Background()
	site := analytics.Site{Name: "migrated", URLs: []string{"https://a.example"}, Timezone: "Europe/Paris", Currency: "EUR",
		Privacy: analytics.Privacy{RetentionDays: 30, HashUserID: analytics.On}}
	if err := s.CreateSite(ctx, &site); err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	g := analytics.Goal{SiteID: site.ID, Name: "signup", Match: "url", Pattern: "/welcome", PatternType: "contains", Revenue: 2}
	if err := s.CreateGoal(ctx, &g); err != nil {
		t.Fatalf("CreateGoal: %v", err)
	}
	tr := newTraffic(t, s, site.ID, shard, 21)
	for i := 0; i < 4; i++ {
		b := tr.batch(120)
		b.Invalidated = []analytics.SiteDay{{SiteID: site.ID, Day: fmt.Sprintf("2024-04-%02d", 29+i%2)}}
		tr.write(b)
	}
	if _, err := s.DailySalt(ctx, 1, "2024-05-01"); err != nil {
		t.Fatalf("DailySalt: %v", err)
	}
}

func TestMigrateFromEmpty(t *testing.T) {
	ctx := t.Context()
	dsn := testDSN(t)
	s, err := Open(ctx, Options{DSN: dsn, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	applied, known, err := s.SchemaVersion(ctx)
	if err != nil || applied != known || known != knownVersion(t) {
		t.Fatalf("SchemaVersion = %d, %d, %v; want %d, %d", applied, known, err, knownVersion(t), knownVersion(t))
	}
	var n, incomplete int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(applied_at IS NULL OR statements_done <> statements) FROM schema_migrations").Scan(&n, &incomplete); err != nil {
		t.Fatal(err)
	}
	if n != known || incomplete != 0 {
		t.Errorf("schema_migrations has %d rows, %d incomplete; want %d complete", n, incomplete, known)
	}
	fillStore(t, s, "empty")
	// A second Migrate finds nothing to do.
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
}

// TestMigrateFromEachVersion builds a database at every earlier schema
// version with that version's store, fills it, migrates it to the newest,
// and reads everything back unchanged; then writes more.
func TestMigrateFromEachVersion(t *testing.T) {
	known := knownVersion(t)
	for v := 1; v < known; v++ {
		t.Run(fmt.Sprintf("from %d", v), func(t *testing.T) {
			ctx := t.Context()
			dsn := testDSN(t)
			old, err := Open(ctx, Options{DSN: dsn, Migrate: true, maxVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			if applied, k, _ := old.SchemaVersion(ctx); applied != v || k != v {
				t.Fatalf("old store: SchemaVersion = %d, %d; want %d, %d", applied, k, v, v)
			}
			fillStore(t, old, "m")
			before := readState(t, old, "m")
			old.Close()

			s, err := Open(ctx, Options{DSN: dsn, Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if applied, k, _ := s.SchemaVersion(ctx); applied != known || k != known {
				t.Fatalf("after Migrate: SchemaVersion = %d, %d; want %d", applied, k, known)
			}
			after := readState(t, s, "m")
			if d := cmp.Diff(before, after, stateOpts); d != "" {
				t.Fatalf("data changed across the migration from version %d (-before +after):\n%s", v, d)
			}
			// The new store writes on: the old shard, and new settings.
			tr := newTraffic(t, s, before.Sites[0].ID, "m", 99)
			tr.pos = after.Checkpoints["m"]
			tr.clock = time.UnixMilli(int64(tr.pos.Hi)).UTC().Add(time.Hour)
			tr.write(tr.batch(50))
			site := before.Sites[0]
			site.Privacy.Consent = analytics.ConsentTracking
			if err := s.UpdateSite(ctx, site); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Site(ctx, site.ID); got.Privacy.Consent != analytics.ConsentTracking {
				t.Errorf("Consent after UpdateSite = %v, want %v", got.Privacy.Consent, analytics.ConsentTracking)
			}
		})
	}
}

// TestOlderSchemaWarns: a build opened (without Migrate) on a database one
// version behind warns and works (the expand rule), without the newer
// columns.
func TestOlderSchemaWarns(t *testing.T) {
	ctx := t.Context()
	known := knownVersion(t)
	dsn := testDSN(t)
	old, err := Open(ctx, Options{DSN: dsn, Migrate: true, maxVersion: known - 1})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	var logs strings.Builder
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: lineFunc(func(l string) { mu.Lock(); logs.WriteString(l); mu.Unlock() })})
	s, err := Open(ctx, Options{DSN: dsn, Logger: logger})
	if err != nil {
		t.Fatalf("Open on an older schema: %v", err)
	}
	defer s.Close()
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	if !strings.Contains(got, "older than this build") {
		t.Errorf("no warning about the older schema; log:\n%s", got)
	}
	fillStore(t, s, "old")
	site := analytics.Site{Name: "consent", Privacy: analytics.Privacy{Consent: analytics.ConsentCookies}}
	if err := s.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Site(ctx, site.ID); got.Privacy.Consent != analytics.ConsentDefault {
		t.Errorf("Consent on a schema without the column = %v, want the default", got.Privacy.Consent)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer build (a version
// this build does not know, finished or in progress) is refused, by Open
// and by Migrate, with a clear error.
func TestNewerSchemaRefused(t *testing.T) {
	known := knownVersion(t)
	for _, finished := range []bool{true, false} {
		ctx := t.Context()
		dsn := testDSN(t)
		s := openTest(t, Options{DSN: dsn})
		appliedAt := "NOW(3)"
		if !finished {
			appliedAt = "NULL"
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, statements, statements_done, started_at, applied_at)
			VALUES (?, 'future.sql', 1, 1, NOW(3), `+appliedAt+`)`, known+1); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("schema version %d is newer than this build (%d): upgrade footfall", known+1, known)
		for _, migrate := range []bool{false, true} {
			_, err := Open(ctx, Options{DSN: dsn, Migrate: migrate})
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), want) {
				t.Errorf("Open(Migrate: %v) on a newer schema (finished: %v) = %v, want ErrSchema saying %q", migrate, finished, err, want)
			}
		}
		if err := s.Migrate(ctx); !errors.Is(err, ErrSchema) {
			t.Errorf("Migrate on a newer schema = %v, want ErrSchema", err)
		}
	}
}

func TestNoSchema(t *testing.T) {
	_, err := Open(t.Context(), Options{DSN: testDSN(t)})
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "footfall migrate") {
		t.Errorf("Open on an empty database = %v, want ErrSchema telling to run footfall migrate", err)
	}
}

// TestConcurrentMigrate runs four migrations of one empty database at once,
// each from its own store and connection pool: all succeed, and every
// migration is applied once.
func TestConcurrentMigrate(t *testing.T) {
	ctx := t.Context()
	dsn := testDSN(t)
	var mu sync.Mutex
	applied := 0
	logger := hclog.New(&hclog.LoggerOptions{Output: lineFunc(func(l string) {
		if strings.Contains(l, "applied schema migration") {
			mu.Lock()
			applied++
			mu.Unlock()
		}
	})})
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, Options{DSN: dsn, Migrate: true, Logger: logger, MaxOpenConns: 2})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migration %d: %v", i, err)
		}
	}
	if known := knownVersion(t); applied != known {
		t.Errorf("%d migrations were applied, want %d (each once)", applied, known)
	}
}

// TestMigrateLockTimeout: a migration waits for the lock held by another
// and gives up with ErrUnavailable after MigrateLockTimeout.
func TestMigrateLockTimeout(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	holder, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var got int
	if err := holder.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", s.lockName()).Scan(&got); err != nil || got != 1 {
		t.Fatalf("GET_LOCK = %d, %v", got, err)
	}
	s2, err := Open(ctx, Options{DSN: s.opts.DSN, MigrateLockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Migrate(ctx); !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("Migrate while another holds the lock = %v, want ErrUnavailable", err)
	}
	holder.ExecContext(ctx, "DO RELEASE_LOCK(?)", s.lockName())
	if err := s2.Migrate(ctx); err != nil {
		t.Errorf("Migrate after the lock was released: %v", err)
	}
}

// TestMigrateResume: a migration interrupted between its DDL and the
// record of its progress resumes, and the re-run statement's "already
// there" error is tolerated.
func TestMigrateResume(t *testing.T) {
	ctx := t.Context()
	known := knownVersion(t)
	dsn := testDSN(t)
	old, err := Open(ctx, Options{DSN: dsn, Migrate: true, maxVersion: known - 1})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := loadMigrations()
	m := all[known-1]
	// The first statement of the last migration ran; its progress was not
	// recorded.
	if _, err := old.db.ExecContext(ctx, m.statements[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, statements, statements_done, started_at)
		VALUES (?, ?, ?, 0, NOW(3))`, m.version, m.name, len(m.statements)); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := Open(ctx, Options{DSN: dsn, Migrate: true})
	if err != nil {
		t.Fatalf("resuming: %v", err)
	}
	defer s.Close()
	if applied, k, _ := s.SchemaVersion(ctx); applied != known || k != known {
		t.Errorf("SchemaVersion after resume = %d, %d; want %d", applied, k, known)
	}
}

func TestParseMigrations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []int // statements per migration; nil = error
	}{
		{"ok", fstest.MapFS{
			"m/0001_a.sql": {Data: []byte("-- comment; not a statement\nCREATE TABLE a (x INT); \n\nINSERT INTO a VALUES (1);\n")},
			"m/0002_b.sql": {Data: []byte("ALTER TABLE a\n  ADD COLUMN y INT, -- trailing comment\n  ADD COLUMN z INT;\n")},
			"m/README":     {Data: []byte("ignored")},
		}, []int{2, 1}},
		{"gap", fstest.MapFS{"m/0001_a.sql": {Data: []byte("DO 1;")}, "m/0003_c.sql": {Data: []byte("DO 1;")}}, nil},
		{"bad name", fstest.MapFS{"m/first.sql": {Data: []byte("DO 1;")}}, nil},
		{"zero", fstest.MapFS{"m/0000_a.sql": {Data: []byte("DO 1;")}}, nil},
		{"unterminated", fstest.MapFS{"m/0001_a.sql": {Data: []byte("DO 1;\nDO 2")}}, nil},
		{"empty", fstest.MapFS{"m/0001_a.sql": {Data: []byte("-- nothing\n")}}, nil},
		{"none", fstest.MapFS{"m/x.txt": {Data: []byte("")}}, nil},
	} {
		migs, err := parseMigrations(tc.files, "m")
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: parseMigrations succeeded, want an error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []int
		for i, m := range migs {
			if m.version != i+1 {
				t.Errorf("%s: migration %d has version %d", tc.name, i, m.version)
			}
			got = append(got, len(m.statements))
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: statements per migration = %v, want %v", tc.name, got, tc.want)
		}
	}
	// The embedded migrations parse.
	if _, err := loadMigrations(); err != nil {
		t.Errorf("embedded migrations: %v", err)
	}
}
