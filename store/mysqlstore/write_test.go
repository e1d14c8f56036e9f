package mysqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

// logTables are the tables a batch writes (log_action aside: a failed
// batch may leave dictionary rows, which is harmless).
var logTables = []string{"log_visit", "log_link_visit_action", "log_conversion", "log_conversion_item",
	"archive_invalidation", "shard_checkpoint"}

// snapshot is the content of the log tables: a checksum and a count per
// table, and every checkpoint.
type snapshot struct {
	Counts      map[string]int64
	Checksums   map[string]int64
	Checkpoints map[string]analytics.Position
}

func takeSnapshot(t testing.TB, s *Store) snapshot {
	t.Helper()
	ctx := context.Background()
	snap := snapshot{Counts: map[string]int64{}, Checksums: map[string]int64{}, Checkpoints: map[string]analytics.Position{}}
	for _, tb := range logTables {
		var n int64
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tb).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		snap.Counts[tb] = n
		var name string
		var sum sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "CHECKSUM TABLE "+tb).Scan(&name, &sum); err != nil {
			t.Fatalf("checksum %s: %v", tb, err)
		}
		snap.Checksums[tb] = sum.Int64
	}
	rows, err := s.db.QueryContext(ctx, "SELECT shard, hi, lo FROM shard_checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sh string
		var p analytics.Position
		if err := rows.Scan(&sh, &p.Hi, &p.Lo); err != nil {
			t.Fatal(err)
		}
		snap.Checkpoints[sh] = p
	}
	return snap
}

// newSite creates a site for a test.
func newSite(t testing.TB, s *Store) int {
	t.Helper()
	site := analytics.Site{Name: "test", URLs: []string{"https://shop.example.com"}}
	if err := s.CreateSite(context.Background(), &site); err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	return site.ID
}

// connectionID returns the server thread of tx's connection.
func connectionID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id)
	return id, err
}

// TestKilledConnection kills the connection of a WriteBatch in the middle
// of its transaction, from another connection (KILL <id>), on both write
// paths: the batch must fail with ErrUnavailable, leave every log table
// and the checkpoint as they were, and the store must write the same batch
// afterwards.
func TestKilledConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		// arm makes the next WriteBatch wait at a point where the test
		// kills its connection; it returns a func that waits for that
		// point and returns the connection id, and a disarm func.
		arm func(t *testing.T, s *Store) (wait func() int64, disarm func())
	}{
		{"slow path, after the actions", func(t *testing.T, s *Store) (func() int64, func()) {
			ids := make(chan int64, 1)
			release := make(chan struct{})
			s.hook = func(ctx context.Context, stage string, tx *sql.Tx) error {
				if stage != "actions" {
					return nil
				}
				id, err := connectionID(ctx, tx)
				if err != nil {
					return err
				}
				ids <- id
				<-release
				return nil
			}
			return func() int64 { return <-ids }, func() { close(release); s.hook = nil }
		}},
		{"fast path, before the commit", func(t *testing.T, s *Store) (func() int64, func()) {
			token := fmt.Sprintf("SLEEP(%d.%d)", 30, time.Now().UnixNano()%1000)
			s.fastPause = "DO " + token
			return func() int64 {
					for {
						var id int64
						err := s.db.QueryRow(`SELECT ID FROM information_schema.PROCESSLIST
							WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%' AND ID <> CONNECTION_ID()`, "%"+token+"%").Scan(&id)
						if err == nil {
							return id
						}
						if !errors.Is(err, sql.ErrNoRows) {
							t.Errorf("processlist: %v", err)
							return 0
						}
						time.Sleep(10 * time.Millisecond)
					}
				}, func() {
					s.fastPause = ""
				}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openTest(t, Options{})
			g := newTraffic(t, s, newSite(t, s), "kill:1", 3)
			for i := 0; i < 3; i++ {
				g.write(g.batch(200))
			}
			before := takeSnapshot(t, s)
			b := g.batch(500)
			wait, disarm := tc.arm(t, s)
			done := make(chan error, 1)
			go func() { done <- s.WriteBatch(ctx, b) }()
			id := wait()
			if _, err := s.db.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
				t.Fatalf("KILL %d: %v", id, err)
			}
			disarm()
			err := <-done
			if !errors.Is(err, analytics.ErrUnavailable) || !analytics.IsRetryable(err) {
				t.Fatalf("WriteBatch on a killed connection = %v, want a retryable ErrUnavailable", err)
			}
			if d := cmp.Diff(before, takeSnapshot(t, s)); d != "" {
				t.Fatalf("the killed batch left rows behind (-before +after):\n%s", d)
			}
			// The same batch goes through now, on a fresh connection.
			g.write(b)
			after := takeSnapshot(t, s)
			if got := after.Counts["log_link_visit_action"] - before.Counts["log_link_visit_action"]; got != int64(len(b.Actions)) {
				t.Errorf("the retried batch stored %d actions, want %d", got, len(b.Actions))
			}
			if after.Checkpoints["kill:1"] != b.To {
				t.Errorf("checkpoint after the retry = %v, want %v", after.Checkpoints["kill:1"], b.To)
			}
			g.write(g.batch(100)) // and the next one
		})
	}
}

// cancelAfter is a context that cancels itself after the code under test
// looked at it (Done or Err) n times.
type cancelAfter struct {
	context.Context
	left atomic.Int64
	once sync.Once
	done chan struct{}
}

func newCancelAfter(n int64) *cancelAfter {
	c := &cancelAfter{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *cancelAfter) tick() {
	if c.left.Add(-1) <= 0 {
		c.once.Do(func() { close(c.done) })
	}
}

func (c *cancelAfter) Done() <-chan struct{} { c.tick(); return c.done }

func (c *cancelAfter) Err() error {
	c.tick()
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// TestCancelFastPath cancels batches of a known shard (the fast path) at
// every point: each is then written whole with its checkpoint, or not at
// all — also a moment later (a server finishing a multi-statement after
// the client went away must not commit it).
func TestCancelFastPath(t *testing.T) {
	s := openTest(t, Options{})
	g := newTraffic(t, s, newSite(t, s), "cancel", 4)
	g.write(g.batch(50))
	failed, written := 0, 0
	for n := int64(1); n < 2000; n = n*5/4 + 1 {
		before := takeSnapshot(t, s)
		b := g.batch(50)
		err := s.WriteBatch(newCancelAfter(n), b)
		time.Sleep(20 * time.Millisecond) // a late commit would show now
		after := takeSnapshot(t, s)
		switch {
		case cmp.Equal(before, after):
			if err == nil {
				t.Fatalf("cancel after %d looks: WriteBatch = nil but nothing was written", n)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancel after %d looks: WriteBatch = %v, want context.Canceled", n, err)
			}
			failed++
			g.pos = b.From // the generator's next batch starts from the checkpoint
		case after.Checkpoints["cancel"] == b.To &&
			after.Counts["log_link_visit_action"] == before.Counts["log_link_visit_action"]+int64(len(b.Actions)):
			written++
		default:
			t.Fatalf("cancel after %d looks: WriteBatch = %v and left a partial batch (-before +after):\n%s", n, err, cmp.Diff(before, after))
		}
	}
	if failed == 0 || written == 0 {
		t.Errorf("%d batches failed, %d were written: want some of each", failed, written)
	}
}

// TestLockWaitRetry holds the shard's checkpoint row locked from another
// transaction: WriteBatch waits, times out (1205) and retries until the
// lock is released; with retries off it fails with ErrUnavailable.
func TestLockWaitRetry(t *testing.T) {
	ctx := t.Context()
	retried := make(chan struct{}, 16)
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: lineFunc(func(line string) {
		if strings.Contains(line, "retrying batch") {
			retried <- struct{}{}
		}
	})})
	s := openTest(t, Options{LockWaitTimeout: time.Second, Logger: logger})
	g := newTraffic(t, s, newSite(t, s), "lock", 5)
	g.write(g.batch(20))

	lock := func() *sql.Tx {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT * FROM shard_checkpoint WHERE shard = 'lock' FOR UPDATE"); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	tx := lock()
	b := g.batch(20)
	done := make(chan error, 1)
	go func() { done <- s.WriteBatch(ctx, b) }()
	<-retried // the first attempt timed out waiting for the lock
	tx.Rollback()
	if err := <-done; err != nil {
		t.Fatalf("WriteBatch after the lock was released: %v", err)
	}
	if cp, _ := s.Checkpoint(ctx, "lock"); cp != b.To {
		t.Errorf("checkpoint = %v, want %v", cp, b.To)
	}

	s.opts.MaxRetries = -1
	tx = lock()
	defer tx.Rollback()
	err := s.WriteBatch(ctx, g.batch(20))
	if !errors.Is(err, analytics.ErrUnavailable) || !analytics.IsRetryable(err) || mysqlErr(err) != errLockWaitTimeout {
		t.Errorf("WriteBatch against a held lock without retries = %v, want a retryable ErrUnavailable wrapping error 1205", err)
	}
}

// lineFunc is an io.Writer calling f per write (hclog writes whole lines).
type lineFunc func(string)

func (f lineFunc) Write(p []byte) (int, error) { f(string(p)); return len(p), nil }

// TestConcurrentShardsSharedNames runs writers of different shards at once
// on traffic that shares most names, so that they race to insert the same
// dictionary entries, and then reads every action back by name.
func TestConcurrentShardsSharedNames(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{DictionaryCacheSize: 500}) // small: many misses
	site := newSite(t, s)
	const writers, batches = 6, 12
	want := make([]map[int64]analytics.Action, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newTraffic(t, s, site, fmt.Sprintf("shared:%d", w), uint64(100+w))
			want[w] = map[int64]analytics.Action{}
			for i := 0; i < batches; i++ {
				b := g.batch(150)
				if err := s.WriteBatch(ctx, b); err != nil {
					t.Errorf("writer %d batch %d: %v", w, i, err)
					return
				}
				for _, a := range b.Actions {
					want[w][a.ID] = a
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := map[int64]analytics.Action{}
	for _, m := range want {
		maps.Copy(all, m)
	}
	got := map[int64]analytics.Action{}
	err := s.Visits(ctx, analytics.VisitQuery{SiteID: site, WithActions: true}, func(d *analytics.VisitDetails) error {
		for _, a := range d.ActionList {
			got[a.ID] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, got, cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(0)); d != "" {
		t.Errorf("actions read back differ (-written +read):\n%s", d)
	}
	var dups int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) - COUNT(DISTINCT type, name) FROM log_action").Scan(&dups); err != nil {
		t.Fatal(err)
	}
	if dups != 0 {
		t.Errorf("the dictionary holds %d duplicate names", dups)
	}
}

// TestBytesKept writes text that is not valid UTF-8, quotes, backslashes,
// NULs and other control characters, placeholders and comment markers, in
// names and in plain columns, on the slow path (the shard's first batch)
// and the fast path (its second): it reads back byte for byte.
func TestBytesKept(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	site := newSite(t, s)
	odd := []string{"caf\xe9 latin-1", "a\x00b", `back\slash 'quote' "dq"`, "\xff\xfe\xfd", "emoji 🎉 ✓", "%_ like",
		"tab\tnew\nline\r", "del\x7f", "? ?? -- x /* y */ # z", "''", `\`, "x'00'", "é\xe9", "é'quote\\"}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var pos analytics.Position
	for round, path := range []string{"slow", "fast"} {
		vid, err := s.ReserveIDs(ctx, analytics.IDVisit, len(odd))
		if err != nil {
			t.Fatal(err)
		}
		aid, err := s.ReserveIDs(ctx, analytics.IDAction, len(odd))
		if err != nil {
			t.Fatal(err)
		}
		b := &analytics.LogBatch{Shard: "bytes", From: pos, To: analytics.Position{Lo: pos.Lo + 1}}
		pos = b.To
		for i, x := range odd {
			v := analytics.Visit{ID: vid + int64(i), SiteID: site, VisitorID: analytics.VisitorID{byte(i + 1), byte(round)},
				FirstActionTime: at, LastActionTime: at, UserID: x, EntryURL: x, ExitTitle: x, Referrer: analytics.Referrer{Name: x, URL: x},
				Client: analytics.Client{BrowserName: x}, Location: analytics.Location{City: x},
				Dimensions: []analytics.Dimension{{ID: 1, Value: "valid"}}}
			b.Visits = append(b.Visits, v)
			b.Actions = append(b.Actions, analytics.Action{ID: aid + int64(i), VisitID: v.ID, SiteID: site, Time: at,
				Type: analytics.ActionSiteSearch, URL: x, Title: x, PageViewID: x, Search: &analytics.Search{Keyword: x, Category: x, Count: 1}})
			b.Conversions = append(b.Conversions, analytics.Conversion{VisitID: v.ID, SiteID: site, Time: at,
				OrderID: fmt.Sprint(round, i, x), Referrer: analytics.Referrer{Keyword: x},
				Items: []analytics.Item{{SKU: x, Name: x, Categories: []string{x}, Price: 1, Quantity: 1}}})
		}
		if err := s.WriteBatch(ctx, b); err != nil {
			t.Fatalf("%s path: %v", path, err)
		}
		i := 0
		err = s.Visits(ctx, analytics.VisitQuery{SiteID: site, WithActions: true}, func(d *analytics.VisitDetails) error {
			if d.ID < vid {
				return nil // the previous round's
			}
			x := odd[i]
			a := d.ActionList[0]
			c := d.Conversions[0]
			for _, got := range []string{d.UserID, d.EntryURL, d.ExitTitle, d.Referrer.Name, d.Referrer.URL, d.Client.BrowserName,
				d.Location.City, a.URL, a.Title, a.PageViewID, a.Search.Keyword, a.Search.Category,
				c.Referrer.Keyword, c.Items[0].SKU, c.Items[0].Name, c.Items[0].Categories[0], strings.TrimPrefix(c.OrderID, fmt.Sprint(round, i))} {
				if !bytes.Equal([]byte(got), []byte(x)) {
					t.Errorf("%s path, visit %d: read back %q, want %q", path, i, got, x)
				}
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i != len(odd) {
			t.Errorf("%s path: read %d visits, want %d", path, i, len(odd))
		}
	}
}

// TestColumnLimits: a value longer than its column fails the batch with
// ErrInvalid before anything is sent, naming the field.
func TestColumnLimits(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	site := newSite(t, s)
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		field string
		set   func(b *analytics.LogBatch)
	}{
		{"user id", func(b *analytics.LogBatch) { b.Visits[0].UserID = strings.Repeat("u", lenUserID+1) }},
		{"referrer url", func(b *analytics.LogBatch) { b.Visits[0].Referrer.URL = strings.Repeat("r", lenRefURL+1) }},
		{"city", func(b *analytics.LogBatch) { b.Visits[0].Location.City = strings.Repeat("c", lenCity+1) }},
		{"page view id", func(b *analytics.LogBatch) { b.Actions[0].PageViewID = strings.Repeat("p", lenPageViewID+1) }},
		{"order id", func(b *analytics.LogBatch) { b.Conversions[0].OrderID = strings.Repeat("o", lenOrderID+1) }},
		{"shard name", func(b *analytics.LogBatch) { b.Shard = strings.Repeat("s", lenShard+1) }},
		{"time", func(b *analytics.LogBatch) { b.Actions[0].Time = time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		b := &analytics.LogBatch{Shard: "limits", To: analytics.Position{Lo: 1},
			Visits:      []analytics.Visit{{ID: 1, SiteID: site, FirstActionTime: at, LastActionTime: at}},
			Actions:     []analytics.Action{{ID: 1, VisitID: 1, SiteID: site, Time: at, Type: analytics.ActionPageview}},
			Conversions: []analytics.Conversion{{VisitID: 1, SiteID: site, Time: at, OrderID: "o"}}}
		tc.set(b)
		err := s.WriteBatch(ctx, b)
		if !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("%s too long: WriteBatch = %v, want ErrInvalid", tc.field, err)
		}
	}
	if snap := takeSnapshot(t, s); snap.Counts["log_visit"] != 0 || len(snap.Checkpoints) != 0 {
		t.Errorf("rejected batches wrote: %+v", snap)
	}
}
