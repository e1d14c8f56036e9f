package queuetest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/analytics"
)

// hitCmp compares hits field by field: Pos is the queue's, nil and empty
// slices are the same, addresses compare as values, times with Equal.
var hitCmp = cmp.Options{
	cmpopts.IgnoreFields(analytics.Hit{}, "Pos"),
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

// testRoundTrip: every field of a hit survives the queue.
func testRoundTrip(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	minimal := analytics.Hit{
		ID:     analytics.NewHitID(time.Now()),
		SiteID: 1,
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Kind:   analytics.KindPageview,
	}
	tests := []struct {
		name string
		hit  func() analytics.Hit
	}{
		{"full", FullHit},
		{"minimal", func() analytics.Hit { return minimal }},
		{"ipv4", func() analytics.Hit {
			h := minimal
			h.IP = netip.MustParseAddr("203.0.113.7")
			return h
		}},
		{"ipv4-mapped-ipv6", func() analytics.Hit {
			h := minimal
			h.IP = netip.MustParseAddr("::ffff:203.0.113.7")
			return h
		}},
		{"zero sub-structs", func() analytics.Hit {
			// Present but empty parameter groups stay present.
			h := minimal
			h.Event, h.Search, h.Content = &analytics.Event{}, &analytics.Search{}, &analytics.Content{}
			h.Order, h.Product, h.Timing = &analytics.Order{}, &analytics.ProductView{}, &analytics.PageTiming{}
			h.Attribution, h.Location = &analytics.Attribution{}, &analytics.Location{}
			return h
		}},
		{"attribution without time", func() analytics.Hit {
			h := minimal
			h.Attribution = &analytics.Attribution{CampaignName: "newsletter"}
			return h
		}},
		{"extreme values", func() analytics.Hit {
			h := FullHit()
			h.SiteID = 1<<31 - 1
			h.Revenue = -0.000001
			h.GoalID = 1<<31 - 1
			h.Device.LocalHour, h.Device.LocalMinute, h.Device.LocalSecond = -1, -1, -1
			h.Search.Count = -1
			h.Timing = &analytics.PageTiming{Network: -1, Server: -1, Transfer: -1, DOMProcessing: -1, DOMCompletion: -1, OnLoad: -1}
			h.Time = time.Date(2099, 12, 31, 23, 59, 59, 999999999, time.UTC)
			return h
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.hit()
			enqueue(t, q, want)
			d := receive(t, q, 10)
			if len(d.Hits) != 1 {
				t.Fatalf("got %d hits, want 1", len(d.Hits))
			}
			if diff := cmp.Diff(want, d.Hits[0], hitCmp); diff != "" {
				t.Errorf("hit changed in the queue (-enqueued +received):\n%s", diff)
			}
			ack(t, d)
		})
	}
}

// testPositions: positions are set and strictly increase per shard, across
// deliveries; a visitor always lands in the same shard.
func testPositions(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{Shards: 3})
	const visitors, perVisitor = 6, 10
	for seq := 0; seq < perVisitor; seq += 5 {
		var batch []analytics.Hit
		for v := range visitors {
			batch = append(batch, visitorHits(v, seq, 5)...)
		}
		enqueue(t, q, batch...)
	}
	ds := receiveAll(t, q, visitors*perVisitor, 7)
	last := map[string]analytics.Position{}
	shardOf := map[int]string{}
	seqs := map[int][]int{}
	for _, d := range ds {
		if p, ok := last[d.Shard]; ok && !p.Less(d.Hits[0].Pos) {
			t.Errorf("shard %s: delivery starts at %s, not after %s delivered before", d.Shard, d.Hits[0].Pos, p)
		}
		last[d.Shard] = d.Hits[len(d.Hits)-1].Pos
		for i := range d.Hits {
			tg, err := tagOf(&d.Hits[i])
			if err != nil {
				t.Fatal(err)
			}
			if sh, ok := shardOf[tg.visitor]; ok && sh != d.Shard {
				t.Errorf("visitor %d: hits in shards %s and %s", tg.visitor, sh, d.Shard)
			}
			shardOf[tg.visitor] = d.Shard
			seqs[tg.visitor] = append(seqs[tg.visitor], tg.seq)
		}
	}
	for v := range visitors {
		if len(seqs[v]) != perVisitor {
			t.Errorf("visitor %d: %d hits delivered, want %d", v, len(seqs[v]), perVisitor)
		}
		for i, seq := range seqs[v] {
			if seq != i {
				t.Errorf("visitor %d: delivered in order %v", v, seqs[v])
				break
			}
		}
	}
}

// testEnqueueEmpty: enqueueing nothing succeeds and queues nothing.
func testEnqueueEmpty(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	for _, hits := range [][]analytics.Hit{nil, {}} {
		if err := q.Enqueue(t.Context(), hits); err != nil {
			t.Fatalf("Enqueue(%#v): %v", hits, err)
		}
	}
	if st := stats(t, q); st.Depth != 0 {
		t.Errorf("Depth = %d after enqueueing nothing", st.Depth)
	}
	receiveNone(t, q, "nothing enqueued")
}

// testEnqueueCancelled: Enqueue with a cancelled context fails and, for a
// synchronous driver, accepts nothing.
func testEnqueueCancelled(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := q.Enqueue(ctx, visitorHits(1, 0, 3))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Enqueue with a cancelled context: %v, want an error wrapping context.Canceled", err)
	}
	if s.f.AsyncEnqueue {
		return
	}
	if st := stats(t, q); st.Depth != 0 {
		t.Errorf("Depth = %d after a cancelled Enqueue, want 0", st.Depth)
	}
	receiveNone(t, q, "cancelled Enqueue")
}

// testReceiveMax: Receive returns at most max hits; the rest stay queued
// in order.
func testReceiveMax(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	enqueue(t, q, visitorHits(1, 0, 10)...)
	var got []analytics.Hit
	for _, max := range []int{1, 1, 3, 2, 100} {
		d := receive(t, q, max) // checks len ≤ max
		got = append(got, d.Hits...)
		ack(t, d)
	}
	for len(got) < 10 {
		d := receive(t, q, 100)
		got = append(got, d.Hits...)
		ack(t, d)
	}
	checkSequence(t, got, 1, 0, 10)
}

// testReceiveInvalidMax: a max below 1 is invalid input, not a hang.
func testReceiveInvalidMax(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	enqueue(t, q, visitorHit(1, 0))
	for _, max := range []int{0, -1} {
		ctx, cancel := context.WithTimeout(t.Context(), eventually)
		d, err := tryReceive(t, ctx, q, max)
		cancel()
		if !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("Receive(max %d) = %v, %v; want an error wrapping analytics.ErrInvalid", max, d, err)
		}
	}
	d := receive(t, q, 1)
	checkSequence(t, d.Hits, 1, 0, 1)
}

// testReceiveReturnsEarly: Receive returns as soon as one hit is ready,
// without waiting to fill max.
func testReceiveReturnsEarly(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	enqueue(t, q, visitorHit(1, 0))
	d := receive(t, q, 1000)
	checkSequence(t, d.Hits, 1, 0, 1)
	ack(t, d)

	// The same for a Receive that was already waiting.
	ch := receiveAsync(t.Context(), q, 1000)
	enqueue(t, q, visitorHit(1, 1))
	r := await(t, ch, "one hit enqueued")
	if r.err != nil {
		t.Fatalf("Receive: %v", r.err)
	}
	checkDelivery(t, r.d, 1000)
	checkSequence(t, r.d.Hits, 1, 1, 1)
	ack(t, r.d)
}

// testReceiveBlocksWhenEmpty: Receive waits while the queue is empty and
// wakes when a hit comes.
func testReceiveBlocksWhenEmpty(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	receiveNone(t, q, "empty queue")

	ch := receiveAsync(t.Context(), q, 10)
	select {
	case r := <-ch:
		t.Fatalf("Receive on an empty queue returned %v, %v", r.d, r.err)
	case <-time.After(quiet):
	}
	enqueue(t, q, visitorHit(7, 0))
	r := await(t, ch, "hit enqueued")
	if r.err != nil {
		t.Fatalf("Receive: %v", r.err)
	}
	checkDelivery(t, r.d, 10)
	checkSequence(t, r.d.Hits, 7, 0, 1)
}

// testReceiveCancel: a blocked Receive returns ctx.Err() when ctx is
// cancelled, and takes nothing with it.
func testReceiveCancel(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	ch := receiveAsync(ctx, q, 10)
	select {
	case r := <-ch:
		t.Fatalf("Receive on an empty queue returned %v, %v", r.d, r.err)
	case <-time.After(quiet):
	}
	cancel()
	r := await(t, ch, "context cancelled")
	if !errors.Is(r.err, context.Canceled) || r.d != nil {
		t.Fatalf("Receive after cancel = %v, %v; want nil, context.Canceled", r.d, r.err)
	}

	// A deadline too.
	ctx, cancel = context.WithTimeout(t.Context(), quiet)
	defer cancel()
	if d, err := tryReceive(t, ctx, q, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive past its deadline = %v, %v; want context.DeadlineExceeded", d, err)
	}

	// The cancelled receivers took nothing: the next hit goes to the next
	// receiver.
	enqueue(t, q, visitorHit(1, 0))
	d := receive(t, q, 10)
	checkSequence(t, d.Hits, 1, 0, 1)
	if d.Attempt != 1 {
		t.Errorf("Attempt = %d, want 1", d.Attempt)
	}
}
