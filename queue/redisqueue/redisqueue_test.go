package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/spool"
)

func newQ(t *testing.T, c redis.UniversalClient, prefix string, o Options) *Queue {
	t.Helper()
	o.Prefix = prefix
	q, err := New(c, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func vhit(visitor, seq int) analytics.Hit {
	now := time.Now()
	return analytics.Hit{
		ID: analytics.NewHitID(now), SiteID: 1, Time: now, Kind: analytics.KindPageview,
		IP:         netip.AddrFrom4([4]byte{10, 0, 0, byte(visitor)}),
		UserID:     fmt.Sprintf("v%d", visitor),
		PageViewID: fmt.Sprintf("%d:%d", visitor, seq),
	}
}

func vhits(visitor, first, n int) []analytics.Hit {
	var hs []analytics.Hit
	for i := range n {
		hs = append(hs, vhit(visitor, first+i))
	}
	return hs
}

func mustReceive(t *testing.T, q *Queue, max int) *analytics.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, err := q.Receive(ctx, max)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return d
}

func tags(d *analytics.Delivery) []string {
	var s []string
	for _, h := range d.Hits {
		s = append(s, h.PageViewID)
	}
	return s
}

func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShardCountIsStored(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	newQ(t, c, p, Options{Shards: 4})
	_, err := New(c, Options{Prefix: p, Shards: 8})
	if !errors.Is(err, analytics.ErrInvalid) {
		t.Fatalf("opening a 4-shard queue with 8 shards: %v, want ErrInvalid", err)
	}
	q := newQ(t, c, p, Options{})
	if q.Shards() != 4 {
		t.Errorf("Shards() = %d with the default, want the stored 4", q.Shards())
	}
}

func TestOpenURL(t *testing.T) {
	u := testenv.RedisURL(t)
	p := testenv.Name("rq")
	q, err := Open(u, Options{Prefix: p, Shards: 2})
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { deletePrefix(t, testClient(t), p) })
	if err := q.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	q.Close()

	for _, bad := range []string{"", "localhost:6379", "http://x", "redis+sentinel://host:26379", "redis://h:notaport"} {
		if _, err := Open(bad, Options{}); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	c, err := openClient("redis+sentinel://:secret@h1:26379,h2:26379/mymaster/3")
	if err != nil {
		t.Fatalf("sentinel URL: %v", err)
	}
	defer c.Close()
	if _, ok := c.(*redis.Client); !ok {
		t.Errorf("sentinel URL gave %T, want a failover *redis.Client", c)
	}
	cc, err := openClient("redis+cluster://h1:7000,h2:7001")
	if err != nil {
		t.Fatalf("cluster URL: %v", err)
	}
	defer cc.Close()
	if _, err := newQueue(t.Context(), cc, false, Options{Prefix: "footfall"}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("cluster without a hash tag in the prefix: %v, want ErrInvalid", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"negative shards", Options{Shards: -1}},
		{"short lease", Options{LeaseTTL: time.Millisecond}},
		{"pipe in consumer", Options{Consumer: "a|b"}},
		{"negative memory", Options{MaxMemory: -1}},
		{"space in prefix", Options{Prefix: "a b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.setDefaults()
			if err := tc.o.Validate(); !errors.Is(err, analytics.ErrInvalid) {
				t.Errorf("Validate(%+v) = %v, want ErrInvalid", tc.o, err)
			}
		})
	}
}

// owners returns how many shards each consumer holds.
func owners(t *testing.T, q *Queue) map[string]int {
	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	m := map[string]int{}
	for _, s := range st.Shards {
		m[s.Owner]++
	}
	return m
}

// keepReceiving runs a consumer loop on q (acking everything) until the
// test ends or q is closed.
func keepReceiving(t *testing.T, q *Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			rctx, rcancel := context.WithTimeout(ctx, 100*time.Millisecond)
			d, err := q.Receive(rctx, 10)
			rcancel()
			if err == nil {
				d.Ack(ctx)
			} else if errors.Is(err, analytics.ErrClosed) {
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestRebalance: consumers share the shards evenly as they come and go;
// a dead consumer's shards are taken over once its leases expire.
func TestRebalance(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	o := Options{Shards: 12, LeaseTTL: 500 * time.Millisecond}
	mk := func(name string, client redis.UniversalClient) *Queue {
		o := o
		o.Consumer = name
		q := newQ(t, client, p, o)
		keepReceiving(t, q)
		return q
	}
	q1 := mk("w1", c)
	eventually(t, "one consumer holds every shard", func() error {
		if m := owners(t, q1); m["w1"] != 12 {
			return fmt.Errorf("owners %v", m)
		}
		return nil
	})
	q2 := mk("w2", c)
	deadClient := testClient(t)
	mk("w3", deadClient)
	eventually(t, "three consumers hold 4 shards each", func() error {
		if m := owners(t, q1); m["w1"] != 4 || m["w2"] != 4 || m["w3"] != 4 {
			return fmt.Errorf("owners %v", m)
		}
		return nil
	})

	// w3 dies: its connection goes away, its leases expire.
	deadClient.Close()
	eventually(t, "the survivors take the dead consumer's shards", func() error {
		if m := owners(t, q1); m["w1"] != 6 || m["w2"] != 6 {
			return fmt.Errorf("owners %v", m)
		}
		return nil
	})

	// w2 leaves cleanly: w1 gets everything.
	q2.Close()
	eventually(t, "the last consumer holds every shard", func() error {
		if m := owners(t, q1); m["w1"] != 12 {
			return fmt.Errorf("owners %v", m)
		}
		return nil
	})
}

// TestTakeoverDeliversPendingFirst: hits a dead consumer received and
// never acknowledged come to the next owner first, with their Positions,
// before newer hits.
func TestTakeoverDeliversPendingFirst(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	o := Options{Shards: 1, LeaseTTL: 300 * time.Millisecond, Consumer: "dead"}
	deadClient := testClient(t)
	q1 := newQ(t, deadClient, p, o)
	if err := q1.Enqueue(t.Context(), vhits(1, 0, 5)); err != nil {
		t.Fatal(err)
	}
	d1 := mustReceive(t, q1, 3)
	deadClient.Close() // dies without acking

	o.Consumer = "heir"
	q2 := newQ(t, c, p, o)
	if err := q2.Enqueue(t.Context(), vhits(1, 5, 2)); err != nil {
		t.Fatal(err)
	}
	d2 := mustReceive(t, q2, 3)
	if fmt.Sprint(tags(d2)) != fmt.Sprint(tags(d1)) {
		t.Fatalf("first delivery after takeover %v, want the dead consumer's %v", tags(d2), tags(d1))
	}
	for i := range d2.Hits {
		if d2.Hits[i].Pos != d1.Hits[i].Pos {
			t.Errorf("hit %d: Pos %v, was %v", i, d2.Hits[i].Pos, d1.Hits[i].Pos)
		}
	}
	if d2.Attempt != 2 {
		t.Errorf("Attempt = %d, want 2", d2.Attempt)
	}
	if tok1, _ := parseLeaseToken(t, c, p); tok1 < 2 {
		t.Errorf("fencing token %d after a takeover, want ≥ 2", tok1)
	}
	if err := d2.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for len(rest) < 4 {
		d := mustReceive(t, q2, 10)
		rest = append(rest, tags(d)...)
		d.Ack(t.Context())
	}
	if fmt.Sprint(rest) != "[1:3 1:4 1:5 1:6]" {
		t.Errorf("then %v, want [1:3 1:4 1:5 1:6]", rest)
	}
}

func parseLeaseToken(t *testing.T, c redis.UniversalClient, prefix string) (uint64, string) {
	v, err := c.Get(t.Context(), prefix+":lease:0").Result()
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	cons, tok, _ := parseLease(v)
	return tok, cons
}

// TestFencing: a consumer whose lease was taken can neither ack nor read;
// its hits stay pending.
func TestFencing(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 1})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 3)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 10)
	if tok, ok := q.FencingToken(d); !ok || tok == 0 {
		t.Errorf("FencingToken = %d, %v", tok, ok)
	}
	// Someone else holds the lease now (as after an expiry and takeover).
	c.Set(t.Context(), p+":lease:0", "intruder|99|0", time.Minute)
	if err := d.Ack(t.Context()); !errors.Is(err, analytics.ErrConflict) {
		t.Fatalf("Ack under a lost lease: %v, want ErrConflict", err)
	}
	pend, err := c.XPending(t.Context(), p+":s:0", group).Result()
	if err != nil || pend.Count != 3 {
		t.Fatalf("pending = %+v, %v; want the 3 hits still pending", pend, err)
	}
	if err := q.Enqueue(t.Context(), vhits(1, 3, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if d, err := q.Receive(ctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive without the lease = %v, %v; want nothing", d, err)
	}
	if n, _ := c.XLen(t.Context(), p+":s:0").Result(); n != 4 {
		t.Errorf("stream length %d, want 4", n)
	}
}

// TestPoisonHit: a hit that keeps failing is isolated after
// DeadLetterAfter deliveries, dead-lettered, listed and replayable.
func TestPoisonHit(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 1, DeadLetterAfter: 2})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 4)); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		d := mustReceive(t, q, 10)
		if d.Attempt != attempt || len(d.Hits) != 4 {
			t.Fatalf("delivery %d: Attempt %d with %d hits", attempt, d.Attempt, len(d.Hits))
		}
		if err := d.Nack(t.Context(), errors.New("boom")); err != nil {
			t.Fatal(err)
		}
	}
	d := mustReceive(t, q, 10)
	if d.Attempt != 3 || len(d.Hits) != 1 || d.Hits[0].PageViewID != "1:0" {
		t.Fatalf("after %d failures: Attempt %d, hits %v; want the first hit alone, Attempt 3", 2, d.Attempt, tags(d))
	}
	if err := q.DeadLetter(t.Context(), d, d.Hits, fmt.Errorf("poison: %w", analytics.ErrInvalid)); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	if err := d.Ack(t.Context()); err != nil {
		t.Fatalf("Ack after DeadLetter: %v", err)
	}
	dls, err := q.DeadLetters(t.Context(), 10)
	if err != nil || len(dls) != 1 {
		t.Fatalf("DeadLetters = %v, %v; want 1", dls, err)
	}
	if dl := dls[0]; dl.Hit.PageViewID != "1:0" || dl.Cause == "" || dl.Shard != "redis:"+p+":0" || dl.Pos != d.Hits[0].Pos || dl.Err != nil {
		t.Errorf("dead letter %+v", dl)
	}
	// The others (delivered twice already) come one by one, then batched.
	var rest []string
	for len(rest) < 3 {
		d := mustReceive(t, q, 10)
		rest = append(rest, tags(d)...)
		d.Ack(t.Context())
	}
	if fmt.Sprint(rest) != "[1:1 1:2 1:3]" {
		t.Errorf("remaining hits %v", rest)
	}
	n, err := q.Replay(t.Context(), dls[0].ID, "0-1")
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	d = mustReceive(t, q, 10)
	if fmt.Sprint(tags(d)) != "[1:0]" || d.Attempt != 1 {
		t.Errorf("replayed delivery %v, Attempt %d", tags(d), d.Attempt)
	}
	d.Ack(t.Context())
	if dls, _ := q.DeadLetters(t.Context(), 0); len(dls) != 0 {
		t.Errorf("dead letters left after Replay: %v", dls)
	}
}

// TestCorruptEntry: an undecodable entry is dead-lettered by Receive and
// does not block its shard.
func TestCorruptEntry(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 1})
	c.XAdd(t.Context(), &redis.XAddArgs{Stream: p + ":s:0", Values: []any{"h", "\x01garbage"}})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 1)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 10)
	if fmt.Sprint(tags(d)) != "[1:0]" {
		t.Fatalf("delivery %v, want the good hit only", tags(d))
	}
	dls, err := q.DeadLetters(t.Context(), 0)
	if err != nil || len(dls) != 1 || dls[0].Err == nil || string(dls[0].Raw) != "\x01garbage" {
		t.Fatalf("DeadLetters = %+v, %v; want the garbage entry", dls, err)
	}
}

func TestMaxMemory(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 2, MaxMemory: 1})
	err := q.Enqueue(t.Context(), vhits(1, 0, 2))
	var ee *EnqueueError
	if !errors.Is(err, analytics.ErrUnavailable) || errors.As(err, &ee) {
		t.Fatalf("Enqueue above the memory mark: %v, want a plain ErrUnavailable (nothing accepted)", err)
	}
	if st, _ := q.Stats(t.Context()); st.Depth != 0 {
		t.Errorf("Depth = %d", st.Depth)
	}
}

func TestCloseWithoutDrain(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 3, DrainTimeout: -1})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 2)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 10)
	q.Close()
	eventually(t, "idle leases released at Close", func() error {
		n, err := c.Exists(t.Context(), p+":lease:0", p+":lease:1", p+":lease:2").Result()
		if err != nil || n != 1 {
			return fmt.Errorf("%d leases left, %v; want only the outstanding delivery's", n, err)
		}
		return nil
	})
	if err := d.Ack(t.Context()); err != nil {
		t.Fatalf("Ack of a delivery outstanding at Close: %v", err)
	}
	eventually(t, "every lease released", func() error {
		n, _ := c.Exists(t.Context(), p+":lease:0", p+":lease:1", p+":lease:2").Result()
		if n != 0 {
			return fmt.Errorf("%d leases left", n)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := q.Receive(ctx, 1); !errors.Is(err, analytics.ErrClosed) {
		t.Errorf("Receive after Close: %v, want ErrClosed", err)
	}
}

// TestEnqueueSpooledDedup: replays of the same spool records, and records
// whose failed Enqueue had in fact been applied, are dropped.
func TestEnqueueSpooledDedup(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 1})
	xlen := func() int64 {
		n, err := c.XLen(t.Context(), p+":s:0").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rec := func(seq uint64, token string, tag int) spool.Record {
		return spool.Record{Seq: seq, Token: token, Hits: vhits(1, tag, 1)}
	}
	b := spool.Batch{Spool: "s1", Records: []spool.Record{rec(1, "", 1), rec(2, "", 2), rec(3, "", 3)}}
	if err := q.EnqueueSpooled(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if n := xlen(); n != 3 {
		t.Fatalf("stream length %d after the replay, want 3", n)
	}
	// A crash before the spool deleted the records: the same batch again.
	if err := q.EnqueueSpooled(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	b2 := spool.Batch{Spool: "s1", Records: []spool.Record{rec(3, "", 3), rec(4, "", 4)}}
	if err := q.EnqueueSpooled(t.Context(), b2); err != nil {
		t.Fatal(err)
	}
	if n := xlen(); n != 4 {
		t.Fatalf("stream length %d after replaying again, want 4", n)
	}
	// Another spool has its own cursor.
	if err := q.EnqueueSpooled(t.Context(), spool.Batch{Spool: "s2", Records: []spool.Record{rec(1, "", 9)}}); err != nil {
		t.Fatal(err)
	}

	// An Enqueue round trip that was applied although its caller saw an
	// error: its token makes the replay skip the record.
	r := &enqReq{entries: q.encode(vhits(1, 5, 1)), done: make(chan error, 1)}
	r.state.Store(reqTaken)
	batch := &enqBatch{seq: q.seq.Add(1), reqs: []*enqReq{r}, n: 1}
	if err := q.writeBatch(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	applied := q.token(batch.seq)
	never := q.token(q.seq.Add(1))
	b3 := spool.Batch{Spool: "s1", Records: []spool.Record{rec(5, applied, 5), rec(6, never, 6), rec(7, "other:1", 7)}}
	if err := q.EnqueueSpooled(t.Context(), b3); err != nil {
		t.Fatal(err)
	}
	if n := xlen(); n != 8 { // 4 + s2's 1 + the applied 1 + records 6 and 7
		t.Fatalf("stream length %d, want 8", n)
	}
	var got []string
	for len(got) < 8 {
		d := mustReceive(t, q, 100)
		got = append(got, tags(d)...)
		d.Ack(t.Context())
	}
	if fmt.Sprint(got) != "[1:1 1:2 1:3 1:4 1:9 1:5 1:6 1:7]" {
		t.Errorf("delivered %v", got)
	}
}

func TestStatsOwnerAndBytes(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 2, Consumer: "me", Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 3)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 2)
	st, err := q.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 3 || st.InFlight != 2 || st.Bytes <= 0 || st.OldestAge < 59*time.Minute {
		t.Errorf("Stats = %+v", st)
	}
	for _, s := range st.Shards {
		// Leases are stamped with the same (injected) clock: a young lease.
		if s.Owner != "me" || s.LeaseAge < 0 || s.LeaseAge > time.Minute {
			t.Errorf("shard %+v: want owner me and a lease age under a minute", s)
		}
	}
	d.Ack(t.Context())
}

// TestRetriesAreHarmless: a client retry of an enqueue round trip whose
// reply was lost does not add the hits twice, and entries taken by a read
// whose reply was lost are delivered first by the next read.
func TestRetriesAreHarmless(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 1})
	r := &enqReq{entries: q.encode(vhits(1, 0, 3)), done: make(chan error, 1)}
	batch := &enqBatch{seq: q.seq.Add(1), reqs: []*enqReq{r}, n: 3}
	for range 2 {
		if err := q.writeBatch(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := c.XLen(t.Context(), p+":s:0").Result(); n != 3 {
		t.Fatalf("stream length %d after a repeated round trip, want 3", n)
	}
	if err := q.Enqueue(t.Context(), vhits(1, 3, 2)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 2) // takes the lease; settle it to read again
	if err := d.Nack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// A read whose reply never arrived: its entries sit in the PEL.
	lease, _ := c.Get(t.Context(), p+":lease:0").Result()
	if err := scriptRead.Run(t.Context(), c, []string{p + ":lease:0", p + ":s:0", p + ":inflight"}, lease, group, owner, 4, 5, 0).Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 5 {
		d := mustReceive(t, q, 2)
		got = append(got, tags(d)...)
		d.Ack(t.Context())
	}
	if fmt.Sprint(got) != "[1:0 1:1 1:2 1:3 1:4]" {
		t.Errorf("delivered %v, want every hit once, in order", got)
	}
}

// TestStreamRecreated: when Redis loses the queue's keys (a restart
// without persistence), enqueueing and receiving go on: the stream and
// its group are recreated and the consumer takes its leases again.
func TestStreamRecreated(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)
	q := newQ(t, c, p, Options{Shards: 2, LeaseTTL: 300 * time.Millisecond})
	if err := q.Enqueue(t.Context(), vhits(1, 0, 1)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, q, 10)
	d.Ack(t.Context())
	deletePrefix(t, c, p) // every key: streams, groups, leases, meta
	if err := q.Enqueue(t.Context(), vhits(1, 1, 2)); err != nil {
		t.Fatalf("Enqueue after the keys were lost: %v", err)
	}
	var got []string
	for len(got) < 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		d, err := q.Receive(ctx, 10)
		cancel()
		if errors.Is(err, analytics.ErrUnavailable) {
			continue // the NOGROUP round that recreates the group
		}
		if err != nil {
			t.Fatalf("Receive after the keys were lost: %v", err)
		}
		got = append(got, tags(d)...)
		d.Ack(t.Context())
	}
	if fmt.Sprint(got) != "[1:1 1:2]" {
		t.Errorf("delivered %v", got)
	}
	if n, _ := c.HGet(t.Context(), p+":meta", "shards").Result(); n != "2" {
		t.Errorf("meta shards = %q after recovery, want 2", n)
	}
}

// TestEnqueueGroupsReadyCallers: callers that are ready at the same time
// share a round trip even when every flush slot is free — with one P, as
// in an HTTP server under load with GOMAXPROCS=1, the batcher lets them
// all reach Enqueue before it cuts the batch.
func TestEnqueueGroupsReadyCallers(t *testing.T) {
	c := testClient(t)
	rt := &scriptCounter{}
	c.AddHook(rt)
	q := newQ(t, c, testPrefix(t, c), Options{Shards: 4})
	if err := q.Enqueue(t.Context(), vhits(0, 0, 1)); err != nil { // loads the script
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const callers = 64
	for round := range 3 {
		start := make(chan struct{})
		var ready, done sync.WaitGroup
		errs := make(chan error, callers)
		for i := range callers {
			ready.Add(1)
			done.Go(func() {
				ready.Done()
				<-start
				errs <- q.Enqueue(t.Context(), vhits(1+i, 1+round, 1))
			})
		}
		ready.Wait()
		before := rt.n.Load()
		close(start)
		done.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := rt.n.Load() - before; n > 3 {
			t.Errorf("round %d: %d callers ready at once took %d round trips, want at most 3", round, callers, n)
		}
	}
}

// TestEnqueueCancelledCallers: callers give up at random moments among
// callers that do not (requests are reused once settled, never while the
// batcher may still hold one). Every hit whose Enqueue returned nil is in
// Redis once and intact; one cancelled before its round trip is not
// there; one cancelled during it (an EnqueueError) is there at most once.
func TestEnqueueCancelledCallers(t *testing.T) {
	c := testClient(t)
	q := newQ(t, c, testPrefix(t, c), Options{Shards: 4})
	const callers, perCaller = 8, 300
	type outcome int
	const (
		accepted outcome = iota
		absent
		uncertain
	)
	var mu sync.Mutex
	want := map[string]outcome{}
	var wg sync.WaitGroup
	for v := range callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(v), 7))
			for i := range perCaller {
				ctx, cancel := context.WithCancel(t.Context())
				if i%2 == 1 {
					spins := rng.IntN(20)
					go func() {
						for range spins {
							runtime.Gosched()
						}
						cancel()
					}()
				}
				h := vhits(v, i, 1)
				err := q.Enqueue(ctx, h)
				cancel()
				var ee *EnqueueError
				o := accepted
				switch {
				case errors.As(err, &ee):
					o = uncertain
				case errors.Is(err, context.Canceled):
					o = absent
				case err != nil:
					t.Errorf("Enqueue: %v", err)
					return
				}
				mu.Lock()
				want[h[0].PageViewID] = o
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		d, err := q.Receive(ctx, 500)
		cancel()
		if err != nil {
			break
		}
		for _, h := range d.Hits {
			var v, i int
			if _, err := fmt.Sscanf(h.PageViewID, "%d:%d", &v, &i); err != nil || h.UserID != fmt.Sprintf("v%d", v) {
				t.Fatalf("corrupt hit: page view %q, user %q", h.PageViewID, h.UserID)
			}
			got[h.PageViewID]++
		}
		d.Ack(t.Context())
	}
	counts := map[outcome]int{}
	for id, o := range want {
		counts[o]++
		switch n := got[id]; {
		case n > 1:
			t.Errorf("hit %s stored %d times", id, n)
		case o == accepted && n != 1:
			t.Errorf("hit %s accepted but not stored", id)
		case o == absent && n != 0:
			t.Errorf("hit %s cancelled before its round trip but stored", id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("hit %s stored but never enqueued", id)
		}
	}
	t.Logf("accepted %d, cancelled before the round trip %d, during it %d", counts[accepted], counts[absent], counts[uncertain])
	if counts[accepted] == 0 || counts[absent]+counts[uncertain] == 0 {
		t.Errorf("the test did not mix settled and cancelled callers: %v", counts)
	}
}

// TestDone: after Close, Done is closed once the consumer has drained,
// released its leases and left the consumer set — at once, not when its
// heartbeat expires — so that a worker that waits on it before exiting
// hands its shards over immediately; a queue that never received closes
// it as soon as Close returns; a caller's own client stays open.
func TestDone(t *testing.T) {
	c := testClient(t)
	p := testPrefix(t, c)

	producer := newQ(t, c, p, Options{Shards: 8})
	producer.Close()
	select {
	case <-producer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done of a producer-only queue not closed after Close")
	}

	// A LeaseTTL far beyond the bounds below: neither an expired
	// heartbeat nor an expired lease can explain what the test sees.
	o := Options{Shards: 8, LeaseTTL: time.Minute, Consumer: "leaves"}
	leaves := newQ(t, c, p, o)
	if err := leaves.Enqueue(t.Context(), vhits(1, 0, 3)); err != nil {
		t.Fatal(err)
	}
	d := mustReceive(t, leaves, 10) // joins, takes every lease
	select {
	case <-leaves.Done():
		t.Fatal("Done closed before Close")
	default:
	}
	leaves.Close()
	select {
	case <-leaves.Done():
		t.Fatal("Done closed while a delivery is outstanding")
	case <-time.After(100 * time.Millisecond):
	}
	if err := d.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		d, err := leaves.Receive(ctx, 10)
		cancel()
		if errors.Is(err, analytics.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("Receive while draining: %v", err)
		}
		if err := d.Ack(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-leaves.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed 5 s after the drain ended")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("drain and leave took %v", took)
	}
	if _, err := c.ZScore(t.Context(), leaves.keys.consumers, "leaves").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("after Done the consumer is still in the consumer set (ZSCORE err %v)", err)
	}
	if m := owners(t, producer); m["leaves"] != 0 {
		t.Errorf("after Done the leaving consumer still holds leases: %v", m)
	}
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Errorf("the caller's client was closed: %v", err)
	}
}
