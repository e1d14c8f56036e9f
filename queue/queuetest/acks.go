package queuetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/analytics"
)

// waitDepth waits until Stats reports depth.
func waitDepth(t *testing.T, q analytics.Queue, depth int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("Depth %d", depth), func() error {
		st, err := q.Stats(t.Context())
		if err != nil {
			return err
		}
		if st.Depth != depth {
			return fmt.Errorf("Depth = %d", st.Depth)
		}
		return nil
	})
}

// samePrefix checks that got starts with exactly the hits of want, with
// the same Positions.
func samePrefix(t *testing.T, got, want []analytics.Hit) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("redelivery has %d hits, want at least the %d given back", len(got), len(want))
	}
	for i := range want {
		if got[i].Pos != want[i].Pos {
			t.Errorf("redelivered hit %d has Pos %s, want %s as before", i, got[i].Pos, want[i].Pos)
		}
		if diff := cmp.Diff(want[i], got[i], hitCmp); diff != "" {
			t.Errorf("redelivered hit %d differs (-first +again):\n%s", i, diff)
		}
	}
}

// testAck: acknowledged hits are gone for good, even after the ack timeout.
func testAck(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{AckTimeout: shortAckTimeout})
	enqueue(t, q, visitorHits(1, 0, 5)...)
	checkSequence(t, hitsOf(receiveAll(t, q, 5, 10)), 1, 0, 5)
	waitDepth(t, q, 0)
	time.Sleep(2 * shortAckTimeout)
	receiveNone(t, q, "every hit acknowledged, ack timeout passed")
}

// testNack: nacked hits come back first, with the same Positions and the
// next Attempt, ahead of hits enqueued after them.
func testNack(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	enqueue(t, q, visitorHits(1, 0, 5)...)
	d1 := receive(t, q, 3)
	if d1.Attempt != 1 {
		t.Errorf("first delivery: Attempt = %d, want 1", d1.Attempt)
	}
	checkSequence(t, d1.Hits, 1, 0, len(d1.Hits))
	first := append([]analytics.Hit(nil), d1.Hits...)
	enqueue(t, q, visitorHits(1, 5, 2)...) // newer hits of the same shard
	nack(t, d1)
	waitDepth(t, q, 7)

	d2 := receive(t, q, 100)
	if d2.Shard != d1.Shard {
		t.Errorf("redelivered from shard %s, first from %s", d2.Shard, d1.Shard)
	}
	if d2.Attempt != 2 {
		t.Errorf("redelivery: Attempt = %d, want 2", d2.Attempt)
	}
	samePrefix(t, d2.Hits, first)
	ack(t, d2)
	got := append([]analytics.Hit(nil), d2.Hits...)
	if len(got) < 7 {
		got = append(got, hitsOf(receiveAll(t, q, 7-len(got), 100))...)
	}
	checkSequence(t, got, 1, 0, 7)
	waitDepth(t, q, 0)
}

// testAckConflict: a delivery is settled once; a second Ack or Nack fails
// with ErrConflict and changes nothing.
func testAckConflict(t *testing.T, s *suite) {
	settle := map[string]func(context.Context, *analytics.Delivery) error{
		"ack":  func(ctx context.Context, d *analytics.Delivery) error { return d.Ack(ctx) },
		"nack": func(ctx context.Context, d *analytics.Delivery) error { return d.Nack(ctx, errors.New("queuetest")) },
	}
	tests := []struct {
		name          string
		first, second string
	}{
		{"ack twice", "ack", "ack"},
		{"nack twice", "nack", "nack"},
		{"ack after nack", "nack", "ack"},
		{"nack after ack", "ack", "nack"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := s.makeQueue(t, Options{})
			enqueue(t, q, visitorHits(1, 0, 3)...)
			d := receive(t, q, 10)
			n := len(d.Hits)
			if err := settle[tc.first](t.Context(), d); err != nil {
				t.Fatalf("first %s: %v", tc.first, err)
			}
			if err := settle[tc.second](t.Context(), d); !errors.Is(err, analytics.ErrConflict) {
				t.Fatalf("%s after %s: %v, want an error wrapping analytics.ErrConflict", tc.second, tc.first, err)
			}
			if tc.first == "ack" {
				// Still acknowledged: the hits do not come back.
				waitDepth(t, q, int64(3-n))
				if n == 3 {
					receiveNone(t, q, "acknowledged, then "+tc.second)
				}
				return
			}
			// Still given back: the hits come back once.
			waitDepth(t, q, 3)
			d2 := receive(t, q, 10)
			samePrefix(t, d2.Hits, d.Hits)
			if d2.Attempt != 2 {
				t.Errorf("redelivery: Attempt = %d, want 2", d2.Attempt)
			}
			ack(t, d2)
		})
	}
}

// testAckTimeoutRedelivery is the queue's half of "a worker that dies after
// the store commit and before the ack causes no duplicate": the delivery of
// the dead worker comes back after the ack timeout with the same Positions,
// so that the store checkpoint (the last Position the dead worker
// committed) identifies exactly the hits to skip; the dead worker's late
// Ack fails.
func testAckTimeoutRedelivery(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{AckTimeout: shortAckTimeout})
	enqueue(t, q, visitorHits(1, 0, 3)...)
	start := time.Now()
	d1 := receive(t, q, 10) // the worker that will die
	checkSequence(t, d1.Hits, 1, 0, len(d1.Hits))
	// It commits d1 to the store: the shard checkpoint becomes its last
	// Position. Then it dies without acking.
	checkpoint := d1.Hits[len(d1.Hits)-1].Pos
	enqueue(t, q, visitorHits(1, 3, 2)...) // newer hits wait behind d1

	// Another worker, already waiting, gets d1's hits again.
	d2 := receive(t, q, 100)
	if elapsed := time.Since(start); elapsed < shortAckTimeout-10*time.Millisecond {
		t.Errorf("redelivered %v after the first delivery, before the ack timeout %v", elapsed, shortAckTimeout)
	}
	if d2.Shard != d1.Shard {
		t.Fatalf("redelivered from shard %s, first from %s", d2.Shard, d1.Shard)
	}
	if d2.Attempt != 2 {
		t.Errorf("redelivery: Attempt = %d, want 2", d2.Attempt)
	}
	samePrefix(t, d2.Hits, d1.Hits)
	// The new worker skips what the checkpoint covers: exactly d1's hits.
	skipped := 0
	for i := range d2.Hits {
		if !checkpoint.Less(d2.Hits[i].Pos) {
			skipped++
		}
	}
	if skipped != len(d1.Hits) {
		t.Errorf("checkpoint %s covers %d redelivered hits, want the %d of the dead worker", checkpoint, skipped, len(d1.Hits))
	}

	// The dead worker's delivery is no longer its to settle.
	if err := d1.Ack(t.Context()); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Ack of the expired delivery: %v, want an error wrapping analytics.ErrConflict", err)
	}
	if err := d1.Nack(t.Context(), errors.New("late")); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("Nack of the expired delivery: %v, want an error wrapping analytics.ErrConflict", err)
	}
	ack(t, d2)
	got := append([]analytics.Hit(nil), d2.Hits...)
	if len(got) < 5 {
		got = append(got, hitsOf(receiveAll(t, q, 5-len(got), 100))...)
	}
	checkSequence(t, got, 1, 0, 5)
	for i := len(d1.Hits); i < len(got); i++ {
		if !checkpoint.Less(got[i].Pos) {
			t.Errorf("newer hit %d has Pos %s, not after the checkpoint %s", i, got[i].Pos, checkpoint)
		}
	}
	waitDepth(t, q, 0)
}

// testLateAck: an Ack after the ack timeout, before anyone else took the
// hits, has one of two consistent outcomes: it fails with ErrConflict and
// the hits come back, or it succeeds and they never come back. (The
// contract's "after its lease expired" allows a driver to fence by the
// ack timeout, as memqueue does, or by a shard lease, as redisqueue does.)
func testLateAck(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{AckTimeout: shortAckTimeout})
	enqueue(t, q, visitorHits(1, 0, 2)...)
	d1 := receive(t, q, 10)
	time.Sleep(2 * shortAckTimeout)
	err := d1.Ack(t.Context())
	switch {
	case err == nil:
		// Accepted: the hits are gone for good.
		waitDepth(t, q, int64(2-len(d1.Hits)))
		if len(d1.Hits) == 2 {
			time.Sleep(2 * shortAckTimeout)
			receiveNone(t, q, "late Ack accepted")
		}
	case errors.Is(err, analytics.ErrConflict):
		// Refused: the hits come back, once.
		d2 := receive(t, q, 10)
		if d2.Attempt != 2 {
			t.Errorf("redelivery: Attempt = %d, want 2", d2.Attempt)
		}
		samePrefix(t, d2.Hits, d1.Hits)
		ack(t, d2)
	default:
		t.Fatalf("Ack after the ack timeout: %v, want nil or an error wrapping analytics.ErrConflict", err)
	}
}

// testOneDeliveryPerShard: while a delivery of shard S is outstanding, no
// Receive returns hits of S; other shards go on.
func testOneDeliveryPerShard(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{Shards: 4})
	enqueue(t, q, visitorHits(0, 0, 10)...)
	d1 := receive(t, q, 3)
	held := d1.Shard
	receiveNone(t, q, "only shard "+held+" has hits and it is held")

	const visitors = 40
	var others []analytics.Hit
	for v := 1; v <= visitors; v++ {
		others = append(others, visitorHit(v, 0))
	}
	enqueue(t, q, others...)
	got := 0
	for {
		ctx, cancel := context.WithTimeout(t.Context(), quiet)
		d, err := tryReceive(t, ctx, q, 5)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		checkDelivery(t, d, 5)
		if d.Shard == held {
			t.Fatalf("Receive returned hits of shard %s while its delivery is outstanding", held)
		}
		got += len(d.Hits)
		ack(t, d)
	}
	if got == 0 {
		t.Fatalf("no hit of the other %d visitors was delivered while shard %s was held", visitors, held)
	}

	// Once d1 is settled, its shard flows again, in order.
	ack(t, d1)
	var zero []analytics.Hit
	for _, d := range receiveAll(t, q, 10-len(d1.Hits)+visitors-got, 100) {
		if d.Shard != held {
			t.Errorf("hits of shard %s delivered late, after shard %s was released", d.Shard, held)
		}
		for i := range d.Hits {
			if tg, _ := tagOf(&d.Hits[i]); tg.visitor == 0 {
				zero = append(zero, d.Hits[i])
			}
		}
	}
	checkSequence(t, zero, 0, len(d1.Hits), 10-len(d1.Hits))
}

// testCloseRejectsEnqueue: after Close, Enqueue fails with ErrClosed; Close
// is idempotent.
func testCloseRejectsEnqueue(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := q.Enqueue(t.Context(), visitorHits(1, 0, 1)); !errors.Is(err, analytics.ErrClosed) {
		t.Fatalf("Enqueue after Close: %v, want an error wrapping analytics.ErrClosed", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	if d, err := tryReceive(t, ctx, q, 10); !errors.Is(err, analytics.ErrClosed) {
		t.Fatalf("Receive on a closed empty queue = %v, %v; want analytics.ErrClosed", d, err)
	}
}

// testCloseDrains: after Close, Receive hands out what is queued, and
// what is given back while it drains, then returns ErrClosed — not while a
// delivery is outstanding, since its hits may still come back.
func testCloseDrains(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	const visitors, perVisitor = 5, 6
	var hits []analytics.Hit
	for seq := range perVisitor {
		for v := range visitors {
			hits = append(hits, visitorHit(v, seq))
		}
	}
	enqueue(t, q, hits...)
	held := receive(t, q, 4)
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Enqueue(t.Context(), visitorHits(1, 100, 1)); !errors.Is(err, analytics.ErrClosed) {
		t.Fatalf("Enqueue after Close: %v, want an error wrapping analytics.ErrClosed", err)
	}

	seqs := map[int][]int{}
	record := func(d *analytics.Delivery) {
		t.Helper()
		for i := range d.Hits {
			tg, err := tagOf(&d.Hits[i])
			if err != nil {
				t.Fatal(err)
			}
			seqs[tg.visitor] = append(seqs[tg.visitor], tg.seq)
		}
	}
	// Drain everything but the held delivery's shard.
	for {
		ctx, cancel := context.WithTimeout(t.Context(), quiet)
		d, err := tryReceive(t, ctx, q, 4)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if errors.Is(err, analytics.ErrClosed) {
			t.Fatalf("Receive returned ErrClosed while the delivery of shard %s is outstanding", held.Shard)
		}
		if err != nil {
			t.Fatalf("Receive while draining: %v", err)
		}
		checkDelivery(t, d, 4)
		record(d)
		ack(t, d)
	}
	// Given back during the drain: delivered again before ErrClosed.
	nack(t, held)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), eventually)
		d, err := tryReceive(t, ctx, q, 4)
		cancel()
		if errors.Is(err, analytics.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("Receive while draining: %v", err)
		}
		checkDelivery(t, d, 4)
		record(d)
		ack(t, d)
	}
	for v := range visitors {
		want := []int{0, 1, 2, 3, 4, 5}
		if diff := cmp.Diff(want, seqs[v]); diff != "" {
			t.Errorf("visitor %d: drained hits (-want +got):\n%s", v, diff)
		}
	}
}

// testCloseWakesReceive: a Receive blocked on an empty queue returns
// ErrClosed when the queue is closed.
func testCloseWakesReceive(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	ch := receiveAsync(t.Context(), q, 10)
	select {
	case r := <-ch:
		t.Fatalf("Receive on an empty queue returned %v, %v", r.d, r.err)
	case <-time.After(quiet):
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := await(t, ch, "queue closed")
	if !errors.Is(r.err, analytics.ErrClosed) || r.d != nil {
		t.Fatalf("blocked Receive after Close = %v, %v; want nil, analytics.ErrClosed", r.d, r.err)
	}
}
