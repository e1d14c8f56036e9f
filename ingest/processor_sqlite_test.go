package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
	"github.com/google/go-cmp/cmp"
)

// These tests run the Processor against the real embedded queue and store.

type procClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *procClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *procClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type procRealEnv struct {
	t     *testing.T
	clock *procClock
	q     *memqueue.Queue
	st    *sqlitestore.Store
	site  int
}

const procAckTimeout = time.Minute

var procCmpOpts = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func newProcRealEnv(t *testing.T) *procRealEnv {
	t.Helper()
	ctx := t.Context()
	clock := &procClock{t: time.Now()}
	q, err := memqueue.New(memqueue.Options{Shards: 4, AckTimeout: procAckTimeout, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(t.TempDir(), "footfall.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); q.Close() })
	site := analytics.Site{Name: "Example", URLs: []string{"https://example.com"}, Ecommerce: true, Timezone: "Europe/Paris"}
	if err := st.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateGoal(ctx, &analytics.Goal{SiteID: site.ID, Name: "signup", Match: "manually", Revenue: 3}); err != nil {
		t.Fatal(err)
	}
	return &procRealEnv{t: t, clock: clock, q: q, st: st, site: site.ID}
}

func (e *procRealEnv) processor(store ProcessorStore) *Processor {
	e.t.Helper()
	if store == nil {
		store = e.st
	}
	p, err := NewProcessor(ProcessorOptions{Queue: e.q, Store: store, Now: func() time.Time { return procBase }})
	if err != nil {
		e.t.Fatal(err)
	}
	p.backoff = func(int) time.Duration { return 0 }
	return p
}

// hits returns a realistic little workload on the env's site: visitors
// with page views, an event, a goal and an order.
func (e *procRealEnv) hits(start time.Duration, visitors int) []analytics.Hit {
	var hs []analytics.Hit
	for v := 0; v < visitors; v++ {
		id := analytics.VisitorID{0xee, byte(v >> 8), byte(v), 1, 2, 3, 4, 5}
		ip := netip.AddrFrom4([4]byte{198, 51, byte(v >> 8), byte(v)})
		for i := 0; i < 4; i++ {
			at := start + time.Duration(i)*time.Minute + time.Duration(v)*time.Second
			mods := []procMod{procSite1(e.site), procCookie(id), procIP(ip.String()),
				procURL(fmt.Sprintf("https://example.com/page/%d?gclid=x", i)), procTitle(fmt.Sprint("Page ", i))}
			switch {
			case i == 2 && v%3 == 0:
				mods = append(mods, procEvent("video", "play"))
			case i == 3 && v%3 == 1:
				mods = append(mods, procGoalHit(1, 0))
			case i == 3 && v%3 == 2:
				mods = append(mods, procOrder(fmt.Sprintf("order-%d-%d", v, start), 42, analytics.Item{SKU: "sku", Name: "Thing", Price: 42, Quantity: 1}))
			}
			h := procPV(at, mods...)
			h.ID = analytics.NewHitID(h.Time)
			hs = append(hs, h)
		}
	}
	return hs
}

func (e *procRealEnv) enqueue(hs []analytics.Hit) {
	e.t.Helper()
	if err := e.q.Enqueue(e.t.Context(), hs); err != nil {
		e.t.Fatal(err)
	}
}

// ready is the number of hits that can be received now.
func (e *procRealEnv) ready() int64 {
	s, err := e.q.Stats(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Depth - s.InFlight
}

// drain receives every ready delivery and hands it to fn.
func (e *procRealEnv) drain(fn func(d *analytics.Delivery)) int {
	e.t.Helper()
	n := 0
	for e.ready() > 0 {
		ctx, cancel := context.WithTimeout(e.t.Context(), 5*time.Second)
		d, err := e.q.Receive(ctx, 500)
		cancel()
		if err != nil {
			e.t.Fatal(err)
		}
		fn(d)
		n++
	}
	return n
}

// dump reads every visit of the site with its actions and conversions.
func (e *procRealEnv) dump() []analytics.VisitDetails {
	e.t.Helper()
	var out []analytics.VisitDetails
	err := e.st.Visits(e.t.Context(), analytics.VisitQuery{SiteID: e.site, WithActions: true}, func(v *analytics.VisitDetails) error {
		out = append(out, *v)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func procCount(vs []analytics.VisitDetails) (visits, actions, convs, counted int) {
	for _, v := range vs {
		visits++
		actions += len(v.ActionList)
		convs += len(v.Conversions)
		counted += v.Actions
	}
	return
}

// TestCrashAfterCommitBeforeAck: "a worker that dies after the store
// commit and before the ack causes no duplicate action and no change to
// visit counters". Every delivery is committed and not acknowledged; the
// queue hands them out again after its ack timeout, to a fresh processor
// (the old one died with its cache) or to the same one.
func TestCrashAfterCommitBeforeAck(t *testing.T) {
	for _, fresh := range []bool{true, false} {
		t.Run(fmt.Sprint("fresh processor=", fresh), func(t *testing.T) {
			e := newProcRealEnv(t)
			e.enqueue(e.hits(0, 30))
			crash := errors.New("killed")
			p := e.processor(nil)
			p.afterCommit = func(*analytics.Delivery) error { return crash }
			n := e.drain(func(d *analytics.Delivery) {
				if err := p.Process(t.Context(), d); !errors.Is(err, crash) {
					t.Fatalf("Process = %v", err)
				}
			})
			if n == 0 {
				t.Fatal("no delivery")
			}
			before := e.dump()
			visits, actions, convs, counted := procCount(before)
			procEq(t, "visits", visits, 30)
			procEq(t, "actions", actions, 30*4-20) // the goal and order hits record no action
			procEq(t, "counted actions", counted, actions)
			procEq(t, "conversions", convs, 20)
			procEq(t, "ready before the timeout", e.ready(), int64(0))

			e.clock.Add(procAckTimeout + time.Second)
			if fresh {
				p = e.processor(nil)
			}
			p.afterCommit = nil
			redelivered := e.drain(func(d *analytics.Delivery) {
				if d.Attempt < 2 {
					t.Errorf("delivery attempt %d, want a redelivery", d.Attempt)
				}
				if err := p.Process(t.Context(), d); err != nil {
					t.Fatalf("Process: %v", err)
				}
			})
			procEq(t, "redeliveries", redelivered, n)
			if diff := cmp.Diff(before, e.dump(), procCmpOpts); diff != "" {
				t.Errorf("the redelivery changed stored data (-before +after):\n%s", diff)
			}
			s, _ := e.q.Stats(t.Context())
			procEq(t, "queue depth", s.Depth, int64(0))
		})
	}
}

// procPoisonStore makes WriteBatch fail inside the real transaction: it
// writes a copy of the batch whose last action has a name the store
// refuses, after the visits and the other actions went in.
type procPoisonStore struct {
	*sqlitestore.Store
	t        *testing.T
	fail     atomic.Int32
	poisoned atomic.Int32
}

func (s *procPoisonStore) WriteBatch(ctx context.Context, b *analytics.LogBatch) error {
	if s.fail.Load() > 0 {
		s.fail.Add(-1)
		if len(b.Actions) == 0 {
			return fmt.Errorf("poison: %w", analytics.ErrUnavailable)
		}
		s.poisoned.Add(1)
		c := *b
		c.Actions = slices.Clone(b.Actions)
		c.Actions[len(c.Actions)-1].Title = strings.Repeat("x", sqlitestore.MaxNameLen+1)
		err := s.Store.WriteBatch(ctx, &c)
		if !errors.Is(err, analytics.ErrInvalid) {
			s.t.Errorf("poisoned batch: %v, want ErrInvalid", err)
		}
		// Reported as a transient failure so the delivery goes back whole.
		return fmt.Errorf("poison: %v: %w", err, analytics.ErrUnavailable)
	}
	return s.Store.WriteBatch(ctx, b)
}

// TestBatchFailsMidway: a batch that fails half-way through the store
// transaction leaves nothing written and the processor's cache as it was;
// the redelivery gives the same result as a run without the failure.
func TestBatchFailsMidway(t *testing.T) {
	e := newProcRealEnv(t)
	ps := &procPoisonStore{Store: e.st, t: t}
	p := e.processor(ps)
	first, second := e.hits(0, 8), e.hits(5*time.Minute, 10) // second extends 8 visits and adds 2
	e.enqueue(first)
	e.drain(func(d *analytics.Delivery) {
		if err := p.Process(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	})
	before := e.dump()
	cached := map[string]analytics.Visit{}
	for name, sh := range p.shards {
		for k, st := range sh.cur {
			cached[fmt.Sprint(name, k)] = st.v
		}
	}

	e.enqueue(second)
	// Take every delivery first, then fail each: a nacked delivery is
	// ready again at once.
	var ds []*analytics.Delivery
	e.drain(func(d *analytics.Delivery) { ds = append(ds, d) })
	ps.fail.Store(1 << 20)
	for _, d := range ds {
		if err := p.Process(t.Context(), d); !errors.Is(err, analytics.ErrUnavailable) {
			t.Fatalf("Process = %v, want the store failure", err)
		}
	}
	ps.fail.Store(0)
	if ps.poisoned.Load() < int32(len(ds)) {
		t.Fatalf("only %d batches failed inside the store", ps.poisoned.Load())
	}
	if diff := cmp.Diff(before, e.dump(), procCmpOpts); diff != "" {
		t.Fatalf("a failed batch changed stored data:\n%s", diff)
	}
	for name, sh := range p.shards {
		for k, st := range sh.cur {
			if want, ok := cached[fmt.Sprint(name, k)]; !ok || !cmp.Equal(want, st.v, procCmpOpts) {
				t.Errorf("shard %s: cached state of %v changed by a failed batch", name, k)
			}
		}
	}
	redelivered := e.drain(func(d *analytics.Delivery) {
		if err := p.Process(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	})
	procEq(t, "redeliveries", redelivered, len(ds))
	got := e.dump()

	// The same hits without failures on a fresh environment.
	ctl := newProcRealEnv(t)
	cp := ctl.processor(nil)
	for _, hs := range [][]analytics.Hit{first, second} {
		ctl.enqueue(hs)
		ctl.drain(func(d *analytics.Delivery) {
			if err := cp.Process(t.Context(), d); err != nil {
				t.Fatal(err)
			}
		})
	}
	if diff := cmp.Diff(procNormalize(ctl.dump()), procNormalize(got), procCmpOpts); diff != "" {
		t.Errorf("result after failure and redelivery differs from a clean run:\n%s", diff)
	}
}

// procNormalize drops the IDs a run allocates so two runs compare.
func procNormalize(vs []analytics.VisitDetails) []analytics.VisitDetails {
	out := make([]analytics.VisitDetails, len(vs))
	for i, v := range vs {
		v.ID, v.LastActionID, v.ConfigID = 0, 0, analytics.VisitorID{}
		v.ActionList = slices.Clone(v.ActionList)
		for j := range v.ActionList {
			v.ActionList[j].ID, v.ActionList[j].VisitID = 0, 0
		}
		v.Conversions = slices.Clone(v.Conversions)
		for j := range v.Conversions {
			v.Conversions[j].VisitID, v.Conversions[j].ActionID = 0, 0
		}
		out[i] = v
	}
	slices.SortFunc(out, func(a, b analytics.VisitDetails) int {
		return strings.Compare(a.VisitorID.String()+a.FirstActionTime.String(), b.VisitorID.String()+b.FirstActionTime.String())
	})
	return out
}

// TestConflictRealStore: processor A caches a shard checkpoint, processor
// B (another process that took the shard over) writes the shard; A's next
// batch conflicts, A drops its state, nacks, and the redelivery is
// applied on top of B's writes.
func TestConflictRealStore(t *testing.T) {
	e := newProcRealEnv(t)
	a, b := e.processor(nil), e.processor(nil)
	visitor := procCookie(analytics.VisitorID{9, 9, 9, 9, 9, 9, 9, 9})
	one := func(at time.Duration) []analytics.Hit {
		h := procPV(at, procSite1(e.site), visitor)
		h.ID = analytics.NewHitID(h.Time)
		return []analytics.Hit{h}
	}
	process := func(p *Processor, wantErr error) {
		t.Helper()
		n := e.drain(func(d *analytics.Delivery) {
			err := p.Process(t.Context(), d)
			if wantErr == nil && err != nil || wantErr != nil && !errors.Is(err, wantErr) {
				t.Fatalf("Process = %v, want %v", err, wantErr)
			}
			wantErr = nil // the redelivery after a nack must succeed
		})
		if n == 0 {
			t.Fatal("nothing delivered")
		}
	}
	e.enqueue(one(0))
	process(a, nil)
	e.enqueue(one(time.Minute))
	process(b, nil)
	e.enqueue(one(2 * time.Minute))
	process(a, analytics.ErrConflict)

	vs := e.dump()
	if len(vs) != 1 {
		t.Fatalf("%d visits", len(vs))
	}
	procEq(t, "actions", vs[0].Actions, 3)
	procEq(t, "stored actions", len(vs[0].ActionList), 3)
	procEq(t, "total time", vs[0].TotalTime, 121)
}

// TestRunDrainsQueue: Run with several workers processes everything and
// returns nil once the queue is closed and empty.
func TestRunDrainsQueue(t *testing.T) {
	e := newProcRealEnv(t)
	var mu sync.Mutex
	var hits int
	p, err := NewProcessor(ProcessorOptions{Queue: e.q, Store: e.st, Workers: 3, BatchSize: 7,
		Now: func() time.Time { return procBase },
		OnBatch: func(i BatchInfo) {
			mu.Lock()
			hits += i.Hits - i.Skipped
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	first, second := e.hits(0, 50), e.hits(10*time.Minute, 50)
	e.enqueue(first)
	done := make(chan error, 1)
	go func() { done <- p.Run(t.Context()) }()
	e.enqueue(second)
	e.q.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the queue was closed and drained")
	}
	var goals, orders int
	for _, h := range append(first, second...) {
		switch h.Kind {
		case analytics.KindGoal:
			goals++
		case analytics.KindEcommerceOrder:
			orders++
		}
	}
	visits, actions, convs, counted := procCount(e.dump())
	procEq(t, "visits", visits, 50)
	procEq(t, "actions", actions, 400-goals-orders)
	procEq(t, "counted", counted, actions)
	procEq(t, "conversions", convs, goals/2+orders) // a goal converts once per visit, every order counts
	procEq(t, "hits seen by OnBatch", hits, 400)
}

// TestRunStopsOnCancel: Run returns nil when its context is done.
func TestRunStopsOnCancel(t *testing.T) {
	e := newProcRealEnv(t)
	p := e.processor(nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run ignored cancellation")
	}
}

// TestRunStoreClosed: Run returns an error when the store is closed under
// it instead of spinning.
func TestRunStoreClosed(t *testing.T) {
	e := newProcRealEnv(t)
	p := e.processor(nil)
	e.st.Close()
	e.enqueue(e.hits(0, 1))
	done := make(chan error, 1)
	go func() { done <- p.Run(t.Context()) }()
	select {
	case err := <-done:
		if !errors.Is(err, analytics.ErrClosed) {
			t.Fatalf("Run = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept going with a closed store")
	}
}
