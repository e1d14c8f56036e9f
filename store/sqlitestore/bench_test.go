package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/sqlitestore"
)

const (
	benchVisits  = 100
	benchActions = 500
)

// benchWorkload builds realistic batches: page views with URLs and titles
// from a pool of known pages (about 80% of names hit the dictionary
// cache), the rest new URLs; some events and searches; every visit
// upserted with entry/exit names.
type benchWorkload struct {
	rng    *rand.Rand
	pages  []string
	titles []string
	nextID int64
	pos    analytics.Position
	newURL int
}

func newBenchWorkload() *benchWorkload {
	w := &benchWorkload{rng: rand.New(rand.NewPCG(1, 2)), nextID: 1}
	for i := 0; i < 2000; i++ {
		w.pages = append(w.pages, fmt.Sprintf("https://shop.example.com/category-%d/product-%d?ref=list", i%40, i))
		w.titles = append(w.titles, fmt.Sprintf("Product %d – Category %d – Example Shop", i, i%40))
	}
	return w
}

func (w *benchWorkload) url() (string, string) {
	if w.rng.IntN(10) < 8 {
		i := w.rng.IntN(len(w.pages))
		return w.pages[i], w.titles[i]
	}
	w.newURL++
	return fmt.Sprintf("https://shop.example.com/search?q=item-%d&page=%d", w.newURL, w.newURL%7),
		fmt.Sprintf("Search results for item %d", w.newURL)
}

func (w *benchWorkload) batch(t0 time.Time) *analytics.LogBatch {
	b := &analytics.LogBatch{Shard: "bench:0", From: w.pos}
	w.pos.Lo += benchActions
	b.To = w.pos
	for i := 0; i < benchVisits; i++ {
		id := w.nextID
		w.nextID++
		v := analytics.Visit{
			ID: id, SiteID: 1, VisitorID: analytics.VisitorID{byte(id), byte(id >> 8), byte(id >> 16), 1},
			ConfigID: analytics.VisitorID{byte(id), 2}, Profilable: true,
			FirstActionTime: t0, LastActionTime: t0.Add(time.Minute), TotalTime: 61, LocalTime: 3600,
			Actions: 5, Pageviews: 4, Events: 1, VisitCount: 1, SecondsSinceOrder: -1,
			Referrer: analytics.Referrer{Type: analytics.ReferrerSearch, Name: "Google", URL: "https://www.google.com/"},
			Client: analytics.Client{BrowserName: "Chrome", BrowserVersion: "124", OSName: "Windows", OSVersion: "11",
				DeviceType: analytics.DeviceDesktop, Resolution: "1920x1080", Lang: "en-us"},
			Location: analytics.Location{CountryCode: "us", RegionCode: "CA", City: "San Francisco"},
		}
		for j := 0; j < benchActions/benchVisits; j++ {
			u, title := w.url()
			a := analytics.Action{ID: w.nextID, HitID: analytics.NewHitID(t0), VisitID: id, SiteID: 1, VisitorID: v.VisitorID,
				Time: t0.Add(time.Duration(j) * 10 * time.Second), Type: analytics.ActionPageview, URL: u, Title: title,
				PageViewID: "abc123", Position: j + 1, TimeSpentRef: 10,
				Timing: &analytics.PageTiming{Network: 10, Server: 50, Transfer: 5, DOMProcessing: 200, DOMCompletion: 100, OnLoad: 3}}
			w.nextID++
			if j > 0 {
				prev := &b.Actions[len(b.Actions)-1]
				a.PrevURL, a.PrevTitle = prev.URL, prev.Title
			}
			if j == 3 {
				a.Type, a.Timing = analytics.ActionEvent, nil
				a.Event = &analytics.Event{Category: "Video", Action: []string{"play", "pause", "seek"}[w.rng.IntN(3)], Name: "intro", Value: 3, HasValue: true}
			}
			if j == 0 {
				v.EntryURL, v.EntryTitle = u, title
			}
			v.ExitURL, v.ExitTitle = u, title
			b.Actions = append(b.Actions, a)
		}
		b.Visits = append(b.Visits, v)
	}
	return b
}

func openBench(b *testing.B) *sqlitestore.Store {
	b.Helper()
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkWriteBatch writes batches of 500 actions and 100 visits, about
// 80% of their names already in the dictionary cache; actions/s is the
// figure the processor's 20 000 hits/s target depends on.
func BenchmarkWriteBatch(b *testing.B) {
	// The processor's context is cancellable, and that has a cost per
	// statement in some drivers: measure with one.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openBench(b)
	w := newBenchWorkload()
	t0 := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	// Warm the dictionary with the pool of known pages.
	for i := 0; i < 10; i++ {
		if err := s.WriteBatch(ctx, w.batch(t0)); err != nil {
			b.Fatal(err)
		}
	}
	batches := make([]*analytics.LogBatch, 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if len(batches) == 0 {
			b.StopTimer()
			gen := cpuTime()
			for j := 0; j < 64; j++ {
				batches = append(batches, w.batch(t0.Add(time.Duration(i+j)*time.Minute)))
			}
			cpu += cpuTime() - gen // not the store's work
			b.StartTimer()
		}
		if err := s.WriteBatch(ctx, batches[0]); err != nil {
			b.Fatal(err)
		}
		batches = batches[1:]
	}
	reportRates(b, cpu)
}

// BenchmarkRawInsert is the baseline of BenchmarkWriteBatch on the same
// machine and settings: 500 rows of 12 integer columns plus 100 rows in
// another table, in one transaction with prepared statements, no
// dictionary, no upsert.
func BenchmarkRawInsert(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var cols strings.Builder
	for c := 1; c <= 11; c++ {
		fmt.Fprintf(&cols, ", c%d INTEGER NOT NULL", c)
	}
	for _, q := range []string{
		"CREATE TABLE a (id INTEGER PRIMARY KEY" + cols.String() + ")",
		"CREATE TABLE v (id INTEGER PRIMARY KEY, x INTEGER NOT NULL, y INTEGER NOT NULL)",
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	insA, err := db.Prepare("INSERT INTO a VALUES (?" + strings.Repeat(", ?", 11) + ")")
	if err != nil {
		b.Fatal(err)
	}
	insV, err := db.Prepare("INSERT INTO v VALUES (?, ?, ?)")
	if err != nil {
		b.Fatal(err)
	}
	var id int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		a, v := tx.Stmt(insA), tx.Stmt(insV)
		for j := 0; j < benchActions; j++ {
			id++
			if _, err := a.Exec(id, id, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10); err != nil {
				b.Fatal(err)
			}
			if j%5 == 0 {
				if _, err := v.Exec(id, 1, 2); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, cpu)
}

// reportRates reports actions per second of wall time and the process
// CPU time per batch: on a shared machine the wall figure varies with the
// load of other processes, the CPU figure much less.
func reportRates(b *testing.B, cpuStart time.Duration) {
	b.ReportMetric(float64(b.N*benchActions)/b.Elapsed().Seconds(), "actions/s")
	b.ReportMetric(float64((cpuTime()-cpuStart).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLastVisit is the worker's lookup on an open-visit cache miss,
// one visitor at a time and 100 at a time (LastVisits).
func BenchmarkLastVisit(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	w := newBenchWorkload()
	t0 := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	var visitors []analytics.VisitorID
	for i := 0; i < 20; i++ {
		batch := w.batch(t0.Add(time.Duration(i) * time.Hour))
		for _, v := range batch.Visits {
			visitors = append(visitors, v.VisitorID)
		}
		if err := s.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("LastVisit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.LastVisit(ctx, analytics.VisitorMatch{SiteID: 1, VisitorID: visitors[i%len(visitors)]}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A delivery's uncached visitors at once: 100 matches, a quarter of
	// them without a visit; ns/op is per call of 100.
	b.Run("LastVisits-100", func(b *testing.B) {
		b.ReportAllocs()
		ms := make([]analytics.VisitorMatch, 100)
		for i := 0; i < b.N; i++ {
			for j := range ms {
				ms[j] = analytics.VisitorMatch{SiteID: 1, VisitorID: visitors[(i*100+j)%len(visitors)]}
				if j%4 == 0 {
					ms[j].VisitorID[7] ^= 0xff
				}
			}
			if _, err := s.LastVisits(ctx, ms); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVisits is the archiver's read: one day of a site, 2000 visits
// with their 10 000 actions, in one Visits scan with WithActions.
func BenchmarkVisits(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	w := newBenchWorkload()
	t0 := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20; i++ {
		if err := s.WriteBatch(ctx, w.batch(t0.Add(time.Duration(i)*time.Hour))); err != nil {
			b.Fatal(err)
		}
	}
	q := analytics.VisitQuery{SiteID: 1, From: t0, To: t0.Add(24 * time.Hour), WithActions: true}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	visits := 0
	for i := 0; i < b.N; i++ {
		err := s.Visits(ctx, q, func(d *analytics.VisitDetails) error {
			visits++
			if len(d.ActionList) != benchActions/benchVisits {
				return fmt.Errorf("visit %d has %d actions", d.ID, len(d.ActionList))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if visits != b.N*20*benchVisits {
		b.Fatalf("read %d visits, want %d", visits, b.N*20*benchVisits)
	}
	b.ReportMetric(float64(visits)/b.Elapsed().Seconds(), "visits/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
