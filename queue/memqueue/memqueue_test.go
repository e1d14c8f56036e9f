package memqueue_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/queue/queuetest"
)

type harness struct{}

func (harness) MakeQueue(_ context.Context, _ *testing.T, o queuetest.Options) (analytics.Queue, error) {
	return memqueue.New(memqueue.Options{Shards: o.Shards, AckTimeout: o.AckTimeout})
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(*testing.T) queuetest.Harness { return harness{} }, queuetest.Features{
		DeadLetter:     true,
		StatsInFlight:  true,
		StatsOldestAge: true,
		StatsShards:    true,
	})
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func newQueue(t *testing.T, o memqueue.Options) *memqueue.Queue {
	t.Helper()
	q, err := memqueue.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// hit returns a page view of visitor v; seq goes in the URL.
func hit(v, seq int) analytics.Hit {
	return analytics.Hit{
		ID:     analytics.NewHitID(time.Now()),
		SiteID: 1,
		Time:   time.Now(),
		Kind:   analytics.KindPageview,
		UserID: fmt.Sprintf("user-%d", v),
		URL:    fmt.Sprintf("https://example.com/%d/%d", v, seq),
	}
}

// visitorsByShard returns, for each shard, a visitor whose hits land in it.
func visitorsByShard(shards int) []int {
	vs := make([]int, shards)
	found := 0
	for i := range vs {
		vs[i] = -1
	}
	for v := 0; found < shards; v++ {
		h := hit(v, 0)
		if s := int(h.ShardKey() % uint64(shards)); vs[s] < 0 {
			vs[s] = v
			found++
		}
	}
	return vs
}

func receive(t *testing.T, q *memqueue.Queue, max int) *analytics.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, err := q.Receive(ctx, max)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return d
}

func receiveNone(t *testing.T, q *memqueue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if d, err := q.Receive(ctx, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive = %v, %v; want nothing", d, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts memqueue.Options
		ok   bool
	}{
		{"zero is all defaults", memqueue.Options{}, true},
		{"one shard", memqueue.Options{Shards: 1}, true},
		{"most shards", memqueue.Options{Shards: 1 << 16}, true},
		{"too many shards", memqueue.Options{Shards: 1<<16 + 1}, false},
		{"negative shards", memqueue.Options{Shards: -1}, false},
		{"negative ack timeout", memqueue.Options{AckTimeout: -time.Second}, false},
		{"negative max hits", memqueue.Options{MaxHits: -5}, false},
		{"negative max dead letters", memqueue.Options{MaxDeadLetters: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			_, newErr := memqueue.New(tc.opts)
			if tc.ok {
				if err != nil || newErr != nil {
					t.Fatalf("Validate: %v, New: %v; want both nil", err, newErr)
				}
				return
			}
			if !errors.Is(err, analytics.ErrInvalid) || !errors.Is(newErr, analytics.ErrInvalid) {
				t.Fatalf("Validate: %v, New: %v; want both to wrap analytics.ErrInvalid", err, newErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	q := newQueue(t, memqueue.Options{})
	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shards) != 16 {
		t.Errorf("%d shards, want the default 16", len(st.Shards))
	}
	for i, sh := range st.Shards {
		if want := fmt.Sprintf("mem/%d", i); sh.Shard != want {
			t.Errorf("shard %d is named %q, want %q", i, sh.Shard, want)
		}
	}
	named := newQueue(t, memqueue.Options{Name: "edge", Shards: 2})
	enqueue(t, named, hit(1, 0))
	if d := receive(t, named, 1); d.Shard != "edge/0" && d.Shard != "edge/1" {
		t.Errorf("shard %q, want edge/0 or edge/1", d.Shard)
	}
}

func enqueue(t *testing.T, q *memqueue.Queue, hits ...analytics.Hit) {
	t.Helper()
	if err := q.Enqueue(t.Context(), hits); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func depth(t *testing.T, q *memqueue.Queue) int64 {
	t.Helper()
	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st.Depth
}

// TestMaxHits: beyond MaxHits, Enqueue fails with ErrUnavailable and
// accepts nothing; acknowledged and dead-lettered hits make room.
func TestMaxHits(t *testing.T) {
	q := newQueue(t, memqueue.Options{MaxHits: 5, Shards: 2})
	enqueue(t, q, hit(1, 0), hit(1, 1), hit(2, 0))
	err := q.Enqueue(t.Context(), []analytics.Hit{hit(3, 0), hit(3, 1), hit(3, 2)})
	if !errors.Is(err, analytics.ErrUnavailable) || !analytics.IsRetryable(err) {
		t.Fatalf("Enqueue beyond MaxHits: %v, want a retryable analytics.ErrUnavailable", err)
	}
	if got := depth(t, q); got != 3 {
		t.Fatalf("Depth = %d after a refused Enqueue, want 3 (all or nothing)", got)
	}
	enqueue(t, q, hit(3, 0), hit(3, 1)) // exactly full
	if err := q.Enqueue(t.Context(), []analytics.Hit{hit(4, 0)}); !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("Enqueue into a full queue: %v, want analytics.ErrUnavailable", err)
	}
	if err := q.Enqueue(t.Context(), make([]analytics.Hit, 6)); !errors.Is(err, analytics.ErrInvalid) {
		t.Fatalf("Enqueue of more than MaxHits at once: %v, want analytics.ErrInvalid", err)
	}

	// A nack keeps the hits; an ack and a dead letter free room.
	d := receive(t, q, 10)
	if err := d.Nack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(t.Context(), []analytics.Hit{hit(4, 0)}); !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("Enqueue after a nack: %v, want analytics.ErrUnavailable", err)
	}
	d = receive(t, q, 10)
	n := len(d.Hits)
	if err := q.DeadLetter(t.Context(), d, d.Hits[:1], errors.New("poison")); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	free := make([]analytics.Hit, n)
	for i := range free {
		free[i] = hit(5, i)
	}
	enqueue(t, q, free...)
	if got := depth(t, q); got != 5 {
		t.Fatalf("Depth = %d, want 5", got)
	}
}

// TestFairness: a shard with a long backlog does not delay the others:
// every other shard is served within one round of receives.
func TestFairness(t *testing.T) {
	const shards = 8
	vs := visitorsByShard(shards)
	for _, max := range []int{1, 50} {
		t.Run(fmt.Sprintf("max %d", max), func(t *testing.T) {
			q := newQueue(t, memqueue.Options{Shards: shards})
			hot := make([]analytics.Hit, 2000)
			for i := range hot {
				hot[i] = hit(vs[3], i)
			}
			enqueue(t, q, hot...)
			for s, v := range vs {
				if s != 3 {
					enqueue(t, q, hit(v, 0))
				}
			}
			served := map[string]bool{}
			for range shards {
				d := receive(t, q, max)
				if served[d.Shard] {
					t.Errorf("shard %s served twice before the others had a turn", d.Shard)
				}
				served[d.Shard] = true
				if err := d.Ack(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if len(served) != shards {
				t.Errorf("%d of %d shards served in %d receives", len(served), shards, shards)
			}
		})
	}
}

// TestFairnessBacklog: behind a hot shard's backlog, a hit of a quiet shard
// is delivered next, not after the backlog.
func TestFairnessBacklog(t *testing.T) {
	const shards = 4
	vs := visitorsByShard(shards)
	q := newQueue(t, memqueue.Options{Shards: shards})
	hot := make([]analytics.Hit, 5000)
	for i := range hot {
		hot[i] = hit(vs[0], i)
	}
	enqueue(t, q, hot...)
	enqueue(t, q, hit(vs[1], 0))
	var hotBefore int
	for {
		d := receive(t, q, 10)
		if d.Shard == "mem/1" {
			break
		}
		hotBefore += len(d.Hits)
		if err := d.Ack(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if hotBefore > 10 {
		t.Errorf("%d hot hits delivered before the quiet shard's one hit", hotBefore)
	}
}

// TestAckTimeoutClock: with an injected clock, a delivery expires exactly
// when AckTimeout has passed, and Stats ages follow the clock.
func TestAckTimeoutClock(t *testing.T) {
	c := newClock()
	q := newQueue(t, memqueue.Options{Shards: 1, AckTimeout: time.Minute, Now: c.Now})
	enqueue(t, q, hit(1, 0), hit(1, 1))
	c.Advance(5 * time.Second)
	d1 := receive(t, q, 10)
	c.Advance(time.Minute - time.Nanosecond)
	receiveNone(t, q)

	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := analytics.ShardStats{Shard: "mem/0", Depth: 2, OldestAge: time.Minute + 5*time.Second - time.Nanosecond, LeaseAge: time.Minute - time.Nanosecond}
	if st.Shards[0] != want || st.OldestAge != want.OldestAge || st.InFlight != 2 {
		t.Errorf("Stats = %+v, want InFlight 2 and shard %+v", st, want)
	}

	c.Advance(time.Nanosecond)
	d2 := receive(t, q, 10)
	if d2.Attempt != 2 || len(d2.Hits) != 2 || d2.Hits[0].Pos != d1.Hits[0].Pos {
		t.Errorf("redelivery: Attempt %d, %d hits from %s; want 2, 2 from %s", d2.Attempt, len(d2.Hits), d2.Hits[0].Pos, d1.Hits[0].Pos)
	}
	if err := d1.Ack(t.Context()); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack of the expired delivery: %v, want analytics.ErrConflict", err)
	}
	// Expiry found by Ack itself, with no Receive in between.
	c.Advance(time.Minute)
	if err := d2.Ack(t.Context()); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack after the ack timeout: %v, want analytics.ErrConflict", err)
	}
	d3 := receive(t, q, 10)
	if d3.Attempt != 3 {
		t.Errorf("third delivery: Attempt %d, want 3", d3.Attempt)
	}
	if err := d3.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := q.Stats(t.Context()); st.Depth != 0 || st.OldestAge != 0 || st.Bytes != 0 {
		t.Errorf("Stats after the last ack = %+v, want all zero", st)
	}
}

// TestGeneration: a queue made later (as after a restart) hands out
// positions after every position of the earlier one.
func TestGeneration(t *testing.T) {
	q1 := newQueue(t, memqueue.Options{Shards: 1})
	hits := make([]analytics.Hit, 1000)
	for i := range hits {
		hits[i] = hit(1, i)
	}
	enqueue(t, q1, hits...)
	var last analytics.Position
	for n := 0; n < len(hits); {
		d := receive(t, q1, 1000)
		n += len(d.Hits)
		last = d.Hits[len(d.Hits)-1].Pos
		d.Ack(t.Context())
	}
	for !(time.Now().UnixNano() > int64(last.Hi)) {
		// The generation is the wall clock: let it tick on coarse clocks.
	}
	q2 := newQueue(t, memqueue.Options{Shards: 1})
	enqueue(t, q2, hit(1, 0))
	if first := receive(t, q2, 1).Hits[0].Pos; !last.Less(first) {
		t.Errorf("new queue's first Pos %s is not after the old queue's last %s", first, last)
	}
}

// TestCopies: the queue keeps its own copies: callers may reuse the slice
// they enqueued and change the hits they received.
func TestCopies(t *testing.T) {
	q := newQueue(t, memqueue.Options{Shards: 1})
	batch := []analytics.Hit{hit(1, 0), hit(1, 1)}
	enqueue(t, q, batch...)
	want0, want1 := batch[0].URL, batch[1].URL
	batch[0].URL, batch[1] = "reused", hit(9, 9)
	d := receive(t, q, 10)
	if d.Hits[0].URL != want0 || d.Hits[1].URL != want1 {
		t.Fatalf("received %q, %q; want %q, %q", d.Hits[0].URL, d.Hits[1].URL, want0, want1)
	}
	if !batch[0].Pos.IsZero() {
		t.Errorf("Enqueue set Pos %s on the caller's hit", batch[0].Pos)
	}
	d.Hits[0].URL = "changed by the consumer"
	if err := d.Nack(t.Context(), errors.New("retry")); err != nil {
		t.Fatal(err)
	}
	if again := receive(t, q, 10); again.Hits[0].URL != want0 {
		t.Errorf("redelivered %q, want %q", again.Hits[0].URL, want0)
	}
}

// TestDeadLetters: dead letters are kept with their cause, newest
// MaxDeadLetters of them.
func TestDeadLetters(t *testing.T) {
	c := newClock()
	q := newQueue(t, memqueue.Options{Shards: 1, MaxDeadLetters: 3, Now: c.Now})
	for i := range 5 {
		enqueue(t, q, hit(1, i))
	}
	cause := errors.New("unparseable")
	for i := range 5 {
		d := receive(t, q, 1)
		if err := d.Nack(t.Context(), cause); err != nil {
			t.Fatal(err)
		}
		d = receive(t, q, 1)
		if err := q.DeadLetter(t.Context(), d, d.Hits, fmt.Errorf("hit %d: %w", i, cause)); err != nil {
			t.Fatal(err)
		}
		if err := q.DeadLetter(t.Context(), d, d.Hits, cause); !errors.Is(err, analytics.ErrInvalid) {
			t.Fatalf("second DeadLetter of the same hit: %v, want analytics.ErrInvalid", err)
		}
		if err := d.Ack(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	dl := q.DeadLetters()
	if len(dl) != 3 {
		t.Fatalf("%d dead letters kept, want MaxDeadLetters 3", len(dl))
	}
	for i, l := range dl {
		if want := fmt.Sprintf("https://example.com/1/%d", i+2); l.Hit.URL != want || l.Shard != "mem/0" ||
			l.Attempt != 2 || !errors.Is(l.Cause, cause) || !l.Time.Equal(c.Now()) {
			t.Errorf("dead letter %d = %+v, want URL %s, shard mem/0, attempt 2, cause %v", i, l, want, cause)
		}
	}
	if got := depth(t, q); got != 0 {
		t.Errorf("Depth = %d, want 0", got)
	}
}

// TestSettleErrors: deliveries that are not the queue's are refused.
func TestSettleErrors(t *testing.T) {
	q := newQueue(t, memqueue.Options{Shards: 1})
	other := newQueue(t, memqueue.Options{Shards: 1})
	enqueue(t, other, hit(1, 0))
	d := receive(t, other, 1)
	dup := *d // a copy is not the outstanding delivery
	if err := dup.Ack(t.Context()); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack of a copy of the delivery: %v, want analytics.ErrConflict", err)
	}
	enqueue(t, q, hit(1, 0))
	qd := receive(t, q, 1)
	if err := qd.Acker.Ack(t.Context(), d); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack of another queue's delivery: %v, want analytics.ErrConflict", err)
	}
	if err := qd.Acker.Ack(t.Context(), &analytics.Delivery{Shard: "nope/0"}); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack of a made-up delivery: %v, want analytics.ErrConflict", err)
	}
	if err := qd.Acker.Nack(t.Context(), nil, nil); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("Nack(nil): %v, want analytics.ErrInvalid", err)
	}
	if err := q.DeadLetter(t.Context(), d, d.Hits, nil); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeadLetter of another queue's delivery: %v, want analytics.ErrInvalid", err)
	}
	if err := q.DeadLetter(t.Context(), &analytics.Delivery{Shard: "mem/0"}, nil, nil); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeadLetter of a made-up delivery: %v, want analytics.ErrInvalid", err)
	}
	if err := q.DeadLetter(t.Context(), nil, nil, nil); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeadLetter(nil): %v, want analytics.ErrInvalid", err)
	}
	if err := d.Ack(t.Context()); err != nil {
		t.Errorf("Ack of the real delivery: %v", err)
	}
	if err := qd.Ack(t.Context()); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

// TestCloseRace: hits of every Enqueue that returned nil while Close ran
// are drained; none is lost.
func TestCloseRace(t *testing.T) {
	for round := range 20 {
		q := newQueue(t, memqueue.Options{Shards: 4})
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					err := q.Enqueue(t.Context(), []analytics.Hit{hit(p, i), hit(p+10, i)})
					if errors.Is(err, analytics.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Enqueue: %v", err)
						return
					}
					accepted.Add(2)
				}
			})
		}
		var drained int64
		done := make(chan error, 1)
		go func() {
			for {
				d, err := q.Receive(t.Context(), 64)
				if err != nil {
					done <- err
					return
				}
				drained += int64(len(d.Hits))
				if err := d.Ack(t.Context()); err != nil {
					done <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		q.Close()
		wg.Wait()
		if err := <-done; !errors.Is(err, analytics.ErrClosed) {
			t.Fatalf("round %d: drain ended with %v, want analytics.ErrClosed", round, err)
		}
		// Enqueue may have accepted part of a batch when Close cut in.
		if got, want := drained, accepted.Load(); got < want || got > want+4*2 {
			t.Fatalf("round %d: drained %d hits, %d accepted", round, got, want)
		}
	}
}

// TestDrainWaitsForInFlight: after Close, Receive does not report
// ErrClosed while a delivery is outstanding, since a Nack would give its
// hits back.
func TestDrainWaitsForInFlight(t *testing.T) {
	q := newQueue(t, memqueue.Options{Shards: 2})
	enqueue(t, q, hit(1, 0))
	d := receive(t, q, 10)
	q.Close()
	receiveNone(t, q)
	ch := make(chan error, 1)
	go func() {
		_, err := q.Receive(t.Context(), 10)
		ch <- err
	}()
	if err := d.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ch:
		if !errors.Is(err, analytics.ErrClosed) {
			t.Fatalf("Receive after the last ack: %v, want analytics.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive still blocked after the last ack of a closed queue")
	}
}

// TestModel drives a queue with random operations from one goroutine and
// compares every delivery with a simple model of the semantics, through
// ring growth, wrap-around, shrinking, nacks, expiry and dead letters.
func TestModel(t *testing.T) {
	const shards = 3
	c := newClock()
	q := newQueue(t, memqueue.Options{Shards: shards, AckTimeout: time.Second, Now: c.Now})
	vs := visitorsByShard(shards)
	type held struct {
		d     *analytics.Delivery
		until time.Time
	}
	var (
		model   [shards][]string // URLs queued per shard, oldest first
		out     [shards]*held
		seq     int
		rng     = rand.New(rand.NewPCG(3, 4))
		lastPos [shards]analytics.Position
	)
	shardIdx := func(name string) int {
		var i int
		fmt.Sscanf(name, "mem/%d", &i)
		return i
	}
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 4: // enqueue a batch
			n := 1 + rng.IntN(40)
			batch := make([]analytics.Hit, n)
			for i := range batch {
				s := rng.IntN(shards)
				batch[i] = hit(vs[s], seq)
				seq++
				model[s] = append(model[s], batch[i].URL)
			}
			enqueue(t, q, batch...)
		case op < 6: // receive
			ready := false
			for s := range shards {
				if out[s] != nil && !c.Now().Before(out[s].until) {
					out[s] = nil // expired
				}
				ready = ready || (out[s] == nil && len(model[s]) > 0)
			}
			if !ready {
				ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
				d, err := q.Receive(ctx, 10)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("step %d: nothing is ready, Receive = %v, %v", step, d, err)
				}
				continue
			}
			max := 1 + rng.IntN(30)
			d := receive(t, q, max)
			s := shardIdx(d.Shard)
			if out[s] != nil {
				t.Fatalf("step %d: shard %d delivered while held", step, s)
			}
			want := model[s][:min(max, len(model[s]))]
			if len(d.Hits) != len(want) {
				t.Fatalf("step %d: %d hits from shard %d, want %d", step, len(d.Hits), s, len(want))
			}
			for i := range want {
				if d.Hits[i].URL != want[i] {
					t.Fatalf("step %d: hit %d is %s, want %s", step, i, d.Hits[i].URL, want[i])
				}
			}
			if d.Hits[0].Pos.Less(lastPos[s]) {
				t.Fatalf("step %d: Pos went back", step)
			}
			lastPos[s] = d.Hits[0].Pos
			out[s] = &held{d, c.Now().Add(time.Second)}
		case op < 9: // settle a held delivery
			s := rng.IntN(shards)
			h := out[s]
			if h == nil {
				continue
			}
			expired := !c.Now().Before(h.until)
			var err error
			r := rng.IntN(4)
			if len(h.d.Hits) == 0 && r == 1 {
				r = 2 // everything dead-lettered: settle it
			}
			switch r {
			case 0:
				err = h.d.Nack(t.Context(), nil)
			case 1:
				k := rng.IntN(len(h.d.Hits))
				err = q.DeadLetter(t.Context(), h.d, h.d.Hits[k:k+1], nil)
				if err == nil {
					model[s] = append(model[s][:k:k], model[s][k+1:]...)
					h.d.Hits = append(h.d.Hits[:k:k], h.d.Hits[k+1:]...)
					continue // still held, even when empty
				}
			default:
				err = h.d.Ack(t.Context())
				if err == nil {
					model[s] = model[s][len(h.d.Hits):]
				}
			}
			if expired != errors.Is(err, analytics.ErrConflict) || (!expired && err != nil) {
				t.Fatalf("step %d: settle (expired %v): %v", step, expired, err)
			}
			out[s] = nil
		default: // time passes
			c.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		}
		if step%500 == 0 {
			var want int64
			for s := range shards {
				want += int64(len(model[s]))
			}
			if got := depth(t, q); got != want {
				t.Fatalf("step %d: Depth %d, model %d", step, got, want)
			}
		}
	}
}

// TestHugeAckTimeout: an ack timeout too long to add to the clock means
// "never", not an overflow into the past.
func TestHugeAckTimeout(t *testing.T) {
	q := newQueue(t, memqueue.Options{Shards: 1, AckTimeout: time.Duration(math.MaxInt64)})
	enqueue(t, q, hit(1, 0), hit(1, 1))
	d := receive(t, q, 1)
	receiveNone(t, q)
	if err := d.Ack(t.Context()); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if d := receive(t, q, 10); len(d.Hits) != 1 || d.Attempt != 1 {
		t.Fatalf("got %d hits, Attempt %d; want the second hit, first attempt", len(d.Hits), d.Attempt)
	}
}
