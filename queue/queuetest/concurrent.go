package queuetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/footfall/analytics"
)

// ledger checks deliveries made to concurrent consumers: one outstanding
// delivery per shard, one shard per visitor, positions increasing per
// shard, each visitor's hits acknowledged in order and exactly once.
type ledger struct {
	mu      sync.Mutex
	holding map[string]bool                   // shards with a delivery being processed
	shardOf map[int]string                    // visitor → shard
	next    map[int]int                       // visitor → next expected seq
	acked   map[analytics.HitID]bool          // hits acknowledged
	lastPos map[string]analytics.Position     // shard → last acknowledged Position
	want    int                               // hits expected in all
	done    atomic.Int64                      // hits acknowledged
	errs    []string                          // first problems found
	extra   func(d *analytics.Delivery) error // optional per-delivery check
}

func newLedger(want int) *ledger {
	return &ledger{
		holding: map[string]bool{},
		shardOf: map[int]string{},
		next:    map[int]int{},
		acked:   map[analytics.HitID]bool{},
		lastPos: map[string]analytics.Position{},
		want:    want,
	}
}

func (l *ledger) fail(format string, args ...any) {
	if len(l.errs) < 10 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// take records that a consumer got d.
func (l *ledger) take(d *analytics.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holding[d.Shard] {
		l.fail("shard %s delivered while another delivery of it is outstanding", d.Shard)
	}
	l.holding[d.Shard] = true
	if err := checkPositions(d); err != nil {
		l.fail("%v", err)
	}
	last := l.lastPos[d.Shard]
	for i := range d.Hits {
		h := &d.Hits[i]
		if l.acked[h.ID] {
			l.fail("hit %s delivered again after it was acknowledged", h.ID)
		}
		if !last.IsZero() && !last.Less(h.Pos) {
			l.fail("shard %s: delivered Pos %s at or before the acknowledged %s", d.Shard, h.Pos, last)
		}
		tg, err := tagOf(h)
		if err != nil {
			l.fail("%v", err)
			continue
		}
		if sh, ok := l.shardOf[tg.visitor]; ok && sh != d.Shard {
			l.fail("visitor %d: hits in shards %s and %s", tg.visitor, sh, d.Shard)
		}
		l.shardOf[tg.visitor] = d.Shard
	}
}

// giveBack records that the consumer is about to nack d.
func (l *ledger) giveBack(d *analytics.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holding[d.Shard] = false
}

// commit records that the consumer applied d and is about to ack it; it
// reports whether every expected hit is now applied.
func (l *ledger) commit(d *analytics.Delivery) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holding[d.Shard] = false
	for i := range d.Hits {
		h := &d.Hits[i]
		tg, err := tagOf(h)
		if err != nil {
			continue // reported by take
		}
		if want := l.next[tg.visitor]; tg.seq != want {
			l.fail("visitor %d: applied hit %d, want %d", tg.visitor, tg.seq, want)
		}
		l.next[tg.visitor] = tg.seq + 1
		l.acked[h.ID] = true
		l.lastPos[d.Shard] = h.Pos
	}
	return l.done.Add(int64(len(d.Hits))) >= int64(l.want)
}

// check reports what the ledger found, and every visitor whose hits are
// not all applied; it returns whether all was well.
func (l *ledger) check(t *testing.T, perVisitor map[int]int) bool {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		t.Error(e)
	}
	for v, n := range perVisitor {
		if l.next[v] != n {
			t.Errorf("visitor %d: %d of %d hits applied", v, l.next[v], n)
		}
	}
	if got := l.done.Load(); got != int64(l.want) {
		t.Errorf("%d hits applied, want %d", got, l.want)
	}
	return !t.Failed()
}

// consumers runs n consumers on q until the ledger has every hit or ctx
// ends. A consumer nacks a delivery with probability nackRate and
// receives up to a random max in [1, maxMax].
func consumers(ctx context.Context, t *testing.T, q analytics.Queue, l *ledger, n, maxMax int, nackRate float64) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for ctx.Err() == nil {
				max := 1 + rng.IntN(maxMax)
				d, err := q.Receive(ctx, max)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("consumer %d: Receive: %v", i, err)
					}
					return
				}
				if len(d.Hits) == 0 || len(d.Hits) > max {
					t.Errorf("consumer %d: Receive(max %d) returned %d hits", i, max, len(d.Hits))
				}
				l.take(d)
				if rng.Float64() < nackRate {
					l.giveBack(d)
					if err := d.Nack(t.Context(), errors.New("queuetest: random nack")); err != nil {
						t.Errorf("consumer %d: Nack: %v", i, err)
					}
					continue
				}
				done := l.commit(d)
				if err := d.Ack(t.Context()); err != nil {
					t.Errorf("consumer %d: Ack: %v", i, err)
				}
				if done {
					cancel()
				}
			}
		})
	}
	wg.Wait()
}

// testOrderOneVisitor: one visitor's hits, enqueued in many batches while
// four consumers receive, are applied in order, each once.
func testOrderOneVisitor(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	const batches, perBatch = 20, 10
	l := newLedger(batches * perBatch)
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { consumers(ctx, t, q, l, 4, 7, 0) })
	for b := range batches {
		if err := q.Enqueue(ctx, visitorHits(1, b*perBatch, perBatch)); err != nil {
			t.Errorf("Enqueue batch %d: %v", b, err)
			break
		}
	}
	wg.Wait()
	if l.check(t, map[int]int{1: batches * perBatch}) {
		waitDepth(t, q, 0)
	}
}

// testOrderManyVisitors: hits of many visitors, received by eight
// consumers, are each applied once, every visitor's in order.
func testOrderManyVisitors(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{Shards: 8})
	const visitors, perVisitor = 60, 20
	per := map[int]int{}
	for v := range visitors {
		per[v] = perVisitor
	}
	l := newLedger(visitors * perVisitor)
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { consumers(ctx, t, q, l, 8, 16, 0) })
	produce(ctx, t, q, rand.New(rand.NewPCG(1, 2)), 0, visitors, perVisitor)
	wg.Wait()
	if l.check(t, per) {
		waitDepth(t, q, 0)
	}
}

// produce enqueues perVisitor hits of each visitor in [first,
// first+visitors), interleaved at random, each visitor's in order, in
// batches of 1 to 8.
func produce(ctx context.Context, t *testing.T, q analytics.Queue, rng *rand.Rand, first, visitors, perVisitor int) {
	next := make([]int, visitors)
	left := visitors * perVisitor
	for left > 0 {
		n := min(1+rng.IntN(8), left)
		batch := make([]analytics.Hit, 0, n)
		for len(batch) < n {
			v := rng.IntN(visitors)
			if next[v] == perVisitor {
				continue
			}
			batch = append(batch, visitorHit(first+v, next[v]))
			next[v]++
		}
		if err := q.Enqueue(ctx, batch); err != nil {
			t.Errorf("Enqueue: %v", err)
			return
		}
		left -= n
	}
}

// testStress: four producers and eight consumers that nack a quarter of
// their deliveries lose nothing, apply nothing twice and keep every
// visitor's order.
func testStress(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{Shards: 8})
	const producers, visitors, perVisitor = 4, 16, 25
	per := map[int]int{}
	for v := range producers * visitors {
		per[v] = perVisitor
	}
	l := newLedger(producers * visitors * perVisitor)
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { consumers(ctx, t, q, l, 8, 20, 0.25) })
	for p := range producers {
		wg.Go(func() {
			produce(ctx, t, q, rand.New(rand.NewPCG(uint64(p), 7)), p*visitors, visitors, perVisitor)
		})
	}
	wg.Wait()
	if l.check(t, per) {
		waitDepth(t, q, 0)
	}
}
