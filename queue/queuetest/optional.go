package queuetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/footfall/analytics"
)

// testStats: Depth counts unacknowledged hits; InFlight, OldestAge and the
// per-shard breakdown follow when the driver claims them.
func testStats(t *testing.T, s *suite) {
	const shards = 4
	q := s.makeQueue(t, Options{Shards: shards})
	f := s.f
	expect := func(what string, depth, inFlight int64) {
		t.Helper()
		waitFor(t, what, func() error {
			st, err := q.Stats(t.Context())
			if err != nil {
				return err
			}
			if st.Depth != depth {
				return fmt.Errorf("Depth = %d, want %d", st.Depth, depth)
			}
			if f.StatsInFlight && st.InFlight != inFlight {
				return fmt.Errorf("InFlight = %d, want %d", st.InFlight, inFlight)
			}
			if st.InFlight < 0 || st.InFlight > st.Depth {
				return fmt.Errorf("InFlight = %d with Depth %d", st.InFlight, st.Depth)
			}
			if f.StatsOldestAge && (depth == 0) != (st.OldestAge == 0) {
				return fmt.Errorf("OldestAge = %v with Depth %d", st.OldestAge, depth)
			}
			if st.OldestAge < 0 || st.Bytes < 0 {
				return fmt.Errorf("negative OldestAge %v or Bytes %d", st.OldestAge, st.Bytes)
			}
			if f.StatsShards {
				if len(st.Shards) != shards {
					return fmt.Errorf("%d shards in Stats, want %d", len(st.Shards), shards)
				}
				var sum int64
				names := map[string]bool{}
				for _, sh := range st.Shards {
					if sh.Shard == "" || names[sh.Shard] {
						return fmt.Errorf("shard names %+v: empty or repeated", st.Shards)
					}
					names[sh.Shard] = true
					if sh.Depth < 0 || sh.OldestAge < 0 || sh.LeaseAge < 0 {
						return fmt.Errorf("shard %+v: negative value", sh)
					}
					if f.StatsOldestAge && sh.OldestAge > st.OldestAge {
						return fmt.Errorf("shard %s OldestAge %v > queue OldestAge %v", sh.Shard, sh.OldestAge, st.OldestAge)
					}
					sum += sh.Depth
				}
				if sum != st.Depth {
					return fmt.Errorf("shard depths sum to %d, Depth = %d", sum, st.Depth)
				}
			}
			return nil
		})
	}

	expect("empty", 0, 0)
	var hits []analytics.Hit
	for v := range 4 {
		hits = append(hits, visitorHits(v, 0, 3)...)
	}
	enqueue(t, q, hits...)
	expect("12 queued", 12, 0)

	d := receive(t, q, 5)
	n := int64(len(d.Hits))
	expect("one delivery outstanding", 12, n)
	if f.StatsShards {
		st := stats(t, q)
		found := false
		for _, sh := range st.Shards {
			if sh.Shard == d.Shard {
				found = true
				if sh.Depth < n {
					t.Errorf("shard %s: Depth %d with %d hits in flight", sh.Shard, sh.Depth, n)
				}
			}
		}
		if !found {
			t.Errorf("Stats.Shards has no shard %s (the delivery's)", d.Shard)
		}
	}
	if f.StatsOldestAge {
		first := stats(t, q).OldestAge
		waitFor(t, "OldestAge grows", func() error {
			st, err := q.Stats(t.Context())
			if err != nil {
				return err
			}
			if st.OldestAge <= first {
				return fmt.Errorf("OldestAge %v, was %v", st.OldestAge, first)
			}
			return nil
		})
	}

	nack(t, d)
	expect("delivery given back", 12, 0)

	d = receive(t, q, 5)
	ack(t, d)
	expect("one delivery acknowledged", 12-int64(len(d.Hits)), 0)
	receiveAll(t, q, 12-len(d.Hits), 5)
	expect("all acknowledged", 0, 0)
}

// testDeadLetter: a dead-lettered hit leaves its shard for good; the rest
// of its delivery is settled as usual.
func testDeadLetter(t *testing.T, s *suite) {
	q := s.makeQueue(t, Options{})
	dl, ok := q.(analytics.DeadLetterer)
	if !s.f.DeadLetter {
		if ok {
			t.Errorf("%T implements analytics.DeadLetterer but Features.DeadLetter is false", q)
		}
		t.Log("driver claims no dead-lettering: nothing to check")
		return
	}
	if !ok {
		t.Fatalf("Features.DeadLetter is set but %T does not implement analytics.DeadLetterer", q)
	}
	enqueue(t, q, visitorHits(1, 0, 4)...)
	d := receive(t, q, 10)
	k := min(1, len(d.Hits)-1) // the second hit when there is one
	poison := d.Hits[k]

	stranger := visitorHit(1, 99)
	stranger.Pos = analytics.Position{Hi: 1<<63 - 1, Lo: 1}
	if err := dl.DeadLetter(t.Context(), d, []analytics.Hit{stranger}, errors.New("bad")); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeadLetter of a hit not in the delivery: %v, want an error wrapping analytics.ErrInvalid", err)
	}
	if err := dl.DeadLetter(t.Context(), d, []analytics.Hit{poison}, errors.New("queuetest: poison")); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	waitDepth(t, q, 3)
	nack(t, d)

	// The poison hit is gone; the others come back in order with their
	// Positions.
	got := hitsOf(receiveAll(t, q, 3, 10))
	var want []analytics.Hit
	for _, h := range d.Hits {
		if h.Pos != poison.Pos {
			want = append(want, h)
		}
	}
	samePrefix(t, got, want)
	var seqs []int
	for i := range got {
		tg, err := tagOf(&got[i])
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, tg.seq)
	}
	wantSeqs := slices.DeleteFunc([]int{0, 1, 2, 3}, func(seq int) bool { return seq == k })
	if !slices.Equal(seqs, wantSeqs) {
		t.Errorf("after dead-lettering hit %d, delivered %v, want %v", k, seqs, wantSeqs)
	}
	waitDepth(t, q, 0)
	if err := dl.DeadLetter(t.Context(), d, []analytics.Hit{poison}, errors.New("late")); !errors.Is(err, analytics.ErrConflict) {
		t.Errorf("DeadLetter on a settled delivery: %v, want an error wrapping analytics.ErrConflict", err)
	}
}

// testDurable: hits survive Close and a reopen with their Positions; the
// delivery outstanding at Close comes back.
func testDurable(t *testing.T, s *suite) {
	if !s.f.Durable {
		t.Log("driver claims no durability: nothing to check")
		return
	}
	h := s.newHarness(t)
	r, ok := h.(Reopener)
	if !ok {
		t.Fatalf("Features.Durable is set but the harness %T does not implement Reopener", h)
	}
	opts := Options{Shards: 4, AckTimeout: shortAckTimeout}
	q1, err := h.MakeQueue(t.Context(), t, opts)
	if err != nil {
		t.Fatalf("MakeQueue: %v", err)
	}
	t.Cleanup(func() { q1.Close() })
	enqueue(t, q1, append(visitorHits(1, 0, 10), visitorHits(2, 0, 5)...)...)
	held := receive(t, q1, 3)
	if err := q1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	q2, err := r.ReopenQueue(t.Context(), t, q1, opts)
	if err != nil {
		t.Fatalf("ReopenQueue: %v", err)
	}
	t.Cleanup(func() { q2.Close() })
	seqs := map[int][]analytics.Hit{}
	var last analytics.Position
	for _, d := range receiveAll(t, q2, 15, 4) {
		for i := range d.Hits {
			tg, err := tagOf(&d.Hits[i])
			if err != nil {
				t.Fatal(err)
			}
			seqs[tg.visitor] = append(seqs[tg.visitor], d.Hits[i])
			if d.Shard == held.Shard && last.Less(d.Hits[i].Pos) {
				last = d.Hits[i].Pos
			}
		}
		if d.Hits[0].ID == held.Hits[0].ID {
			samePrefix(t, d.Hits, held.Hits[:min(len(held.Hits), len(d.Hits))])
			if d.Attempt < 2 {
				t.Errorf("the delivery outstanding at Close came back with Attempt %d, want ≥ 2", d.Attempt)
			}
		}
	}
	checkSequence(t, seqs[1], 1, 0, 10)
	checkSequence(t, seqs[2], 2, 0, 5)

	// A hit enqueued after the reopen comes after everything before it.
	tg, _ := tagOf(&held.Hits[0])
	enqueue(t, q2, visitorHit(tg.visitor, 100))
	d := receive(t, q2, 10)
	if !last.Less(d.Hits[0].Pos) {
		t.Errorf("hit enqueued after reopen has Pos %s, not after %s", d.Hits[0].Pos, last)
	}
	ack(t, d)
}
