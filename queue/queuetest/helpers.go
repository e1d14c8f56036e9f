package queuetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// enqueue enqueues hits and fails t on error.
func enqueue(t *testing.T, q analytics.Queue, hits ...analytics.Hit) {
	t.Helper()
	if err := q.Enqueue(t.Context(), hits); err != nil {
		t.Fatalf("Enqueue(%d hits): %v", len(hits), err)
	}
}

// receive waits (up to eventually) for a delivery and checks its shape.
func receive(t *testing.T, q analytics.Queue, max int) *analytics.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	r := await(t, receiveAsync(ctx, q, max), "Receive")
	if r.err != nil {
		t.Fatalf("Receive(max %d): %v", max, r.err)
	}
	checkDelivery(t, r.d, max)
	return r.d
}

// checkDelivery checks what every delivery must satisfy.
func checkDelivery(t *testing.T, d *analytics.Delivery, max int) {
	t.Helper()
	switch {
	case d == nil:
		t.Fatalf("Receive returned a nil Delivery and no error")
	case len(d.Hits) == 0:
		t.Fatalf("Receive returned a Delivery without hits")
	case len(d.Hits) > max:
		t.Fatalf("Receive(max %d) returned %d hits", max, len(d.Hits))
	case d.Shard == "":
		t.Fatalf("Delivery.Shard is empty")
	case d.Acker == nil:
		t.Fatalf("Delivery.Acker is nil")
	case d.Attempt < 1:
		t.Fatalf("Delivery.Attempt = %d, want ≥ 1", d.Attempt)
	}
	if err := checkPositions(d); err != nil {
		t.Fatal(err)
	}
}

// checkPositions reports an error unless the hits of d have non-zero,
// strictly increasing positions.
func checkPositions(d *analytics.Delivery) error {
	var prev analytics.Position
	for i := range d.Hits {
		p := d.Hits[i].Pos
		if p.IsZero() {
			return fmt.Errorf("shard %s: hit %d of %d has a zero Pos", d.Shard, i, len(d.Hits))
		}
		if i > 0 && !prev.Less(p) {
			return fmt.Errorf("shard %s: hit %d has Pos %s, not after %s", d.Shard, i, p, prev)
		}
		prev = p
	}
	return nil
}

// receiveNone checks that Receive returns no hit within quiet.
func receiveNone(t *testing.T, q analytics.Queue, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), quiet)
	defer cancel()
	r := await(t, receiveAsync(ctx, q, 100), why)
	if r.err == nil {
		t.Fatalf("%s: Receive returned %d hits of shard %s, want none", why, len(r.d.Hits), r.d.Shard)
	}
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("%s: Receive: %v, want context.DeadlineExceeded", why, r.err)
	}
}

// ack acknowledges d and fails t on error.
func ack(t *testing.T, d *analytics.Delivery) {
	t.Helper()
	if err := d.Ack(t.Context()); err != nil {
		t.Fatalf("Ack (shard %s, %d hits): %v", d.Shard, len(d.Hits), err)
	}
}

// nack gives d back and fails t on error.
func nack(t *testing.T, d *analytics.Delivery) {
	t.Helper()
	if err := d.Nack(t.Context(), errors.New("queuetest: nack")); err != nil {
		t.Fatalf("Nack (shard %s, %d hits): %v", d.Shard, len(d.Hits), err)
	}
}

// receiveAll receives and acknowledges deliveries until n hits have come,
// and returns the deliveries in order.
func receiveAll(t *testing.T, q analytics.Queue, n, max int) []*analytics.Delivery {
	t.Helper()
	var ds []*analytics.Delivery
	for got := 0; got < n; {
		d := receive(t, q, max)
		ds = append(ds, d)
		got += len(d.Hits)
		ack(t, d)
	}
	return ds
}

// hitsOf concatenates the hits of ds.
func hitsOf(ds []*analytics.Delivery) []analytics.Hit {
	var hits []analytics.Hit
	for _, d := range ds {
		hits = append(hits, d.Hits...)
	}
	return hits
}

// checkSequence checks that hits are visitor v's hits first, first+1, …
// in that order.
func checkSequence(t *testing.T, hits []analytics.Hit, v, first, n int) {
	t.Helper()
	if len(hits) != n {
		t.Fatalf("got %d hits, want %d", len(hits), n)
	}
	for i := range hits {
		tg, err := tagOf(&hits[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := (tag{v, first + i}); tg != want {
			t.Fatalf("hit %d is %+v, want %+v", i, tg, want)
		}
	}
}

// stats returns q's stats and fails t on error.
func stats(t *testing.T, q analytics.Queue) analytics.QueueStats {
	t.Helper()
	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// waitFor polls cond until it returns nil or eventually passes, then fails
// t with cond's last error.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v: %v", what, eventually, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// result is what a Receive running in a goroutine returned.
type result struct {
	d   *analytics.Delivery
	err error
}

// receiveAsync starts Receive(ctx, max) in a goroutine.
func receiveAsync(ctx context.Context, q analytics.Queue, max int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		d, err := q.Receive(ctx, max)
		ch <- result{d, err}
	}()
	return ch
}

// await waits for a result: up to eventually, plus a grace period for a
// Receive whose context ends sooner, so that a Receive ignoring its
// context fails the test instead of hanging it.
func await(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(eventually + 5*time.Second):
		t.Fatalf("%s: Receive still blocked after %v (does it ignore its context?)", what, eventually)
		return result{}
	}
}

// tryReceive calls Receive(ctx, max), failing t if it ignores ctx.
func tryReceive(t *testing.T, ctx context.Context, q analytics.Queue, max int) (*analytics.Delivery, error) {
	t.Helper()
	r := await(t, receiveAsync(ctx, q, max), "Receive")
	return r.d, r.err
}
