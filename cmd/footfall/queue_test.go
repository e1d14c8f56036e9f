package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/redisqueue"
)

func TestQueueMemoryDriver(t *testing.T) {
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_QUEUE_DRIVER=memory"}
	for _, args := range [][]string{{"queue", "stats"}, {"queue", "dlq", "list"}} {
		r := runCmd(t.Context(), env, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "only inside a serving process") {
			t.Errorf("%v on the memory queue: %+v", args, r)
		}
	}
}

// queueHits returns n page views of n visitors.
func queueHits(n int) []analytics.Hit {
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	hits := make([]analytics.Hit, n)
	for i := range hits {
		h := &hits[i]
		h.ID = analytics.NewHitID(t0)
		h.SiteID, h.Time, h.Kind = 1, t0, analytics.KindPageview
		h.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		h.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
		h.CookieID = analytics.VisitorID{0xee, byte(i >> 8), byte(i)}
		h.URL = fmt.Sprintf("https://shop.example/p/%d", i)
	}
	return hits
}

// TestQueueCommands drives `footfall queue stats` and `queue dlq …`
// against a real Redis with a queue of its own.
func TestQueueCommands(t *testing.T) {
	ctx := t.Context()
	url := testenv.RedisURL(t)
	prefix := testenv.Name("cq")
	ro, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ro)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, _ := rdb.Keys(cctx, prefix+":*").Result()
		if len(keys) > 0 {
			rdb.Del(cctx, keys...)
		}
		rdb.Close()
	})
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_LOG_LEVEL=warn",
		"FOOTFALL_QUEUE_DRIVER=redis", "FOOTFALL_QUEUE_REDIS_URL=" + url,
		"FOOTFALL_QUEUE_REDIS_PREFIX=" + prefix, "FOOTFALL_QUEUE_SHARDS=4"}

	q, err := redisqueue.New(rdb, redisqueue.Options{Prefix: prefix, Shards: 4, DrainTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const total = 12
	if err := q.Enqueue(ctx, queueHits(total)); err != nil {
		t.Fatal(err)
	}

	type stats struct {
		Depth    int64 `json:"depth"`
		InFlight int64 `json:"in_flight"`
		Bytes    int64 `json:"bytes"`
		Shards   []struct {
			Shard  string  `json:"shard"`
			Depth  int64   `json:"depth"`
			Owner  string  `json:"owner"`
			Oldest float64 `json:"oldest_age_seconds"`
		} `json:"shards"`
	}
	readStats := func(step string) stats {
		t.Helper()
		r := runCmd(ctx, env, "queue", "stats", "--json")
		var s stats
		if r.code != 0 {
			t.Fatalf("%s: queue stats: %+v", step, r)
		}
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("%s: queue stats --json: %v\n%s", step, err, r.stdout)
		}
		var sum int64
		for _, sh := range s.Shards {
			sum += sh.Depth
		}
		if len(s.Shards) != 4 || sum != s.Depth {
			t.Fatalf("%s: %d shards with depths summing to %d, total depth %d", step, len(s.Shards), sum, s.Depth)
		}
		return s
	}
	type dead struct {
		ID     string `json:"id"`
		Shard  string `json:"shard"`
		Cause  string `json:"cause"`
		HitID  string `json:"hit_id"`
		SiteID int    `json:"site_id"`
		Kind   string `json:"kind"`
		URL    string `json:"url"`
	}
	listDead := func(step string) []dead {
		t.Helper()
		r := runCmd(ctx, env, "queue", "dlq", "list", "--json")
		var ds []dead
		if r.code != 0 {
			t.Fatalf("%s: dlq list: %+v", step, r)
		}
		if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil {
			t.Fatalf("%s: dlq list --json: %v\n%s", step, err, r.stdout)
		}
		return ds
	}

	if s := readStats("full"); s.Depth != total || s.InFlight != 0 || s.Bytes <= 0 {
		t.Fatalf("full queue: %+v", s)
	}

	// Take one delivery and dead-letter its first hit; keep the delivery
	// outstanding so that stats shows the lease owner and in-flight hits.
	d, err := q.Receive(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	poison := d.Hits[0]
	if err := q.DeadLetter(ctx, d, d.Hits[:1], errors.New("sqlitestore: product view has 7 categories\nmore than 5")); err != nil {
		t.Fatal(err)
	}
	s := readStats("outstanding")
	// The dead-lettered hit left its shard: it is neither queued nor in flight.
	if s.Depth != total-1 || s.InFlight != int64(len(d.Hits)-1) {
		t.Errorf("with %d hits delivered, one dead-lettered: %+v", len(d.Hits), s)
	}
	owned := false
	for _, sh := range s.Shards {
		if sh.Shard == d.Shard {
			owned = sh.Owner == q.Consumer() && sh.Depth == int64(len(d.Hits)-1) && sh.Oldest > 0 == (sh.Depth > 0)
		}
	}
	if !owned {
		t.Errorf("shard %s not shown owned by %s: %+v", d.Shard, q.Consumer(), s.Shards)
	}
	text := runCmd(ctx, env, "queue", "stats")
	if !strings.Contains(text.stdout, fmt.Sprintf("total: depth %d, in flight %d", total-1, len(d.Hits)-1)) ||
		!strings.Contains(text.stdout, q.Consumer()) {
		t.Errorf("queue stats text:\n%s", text.stdout)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	depth := int64(total - len(d.Hits))

	ds := listDead("one dead letter")
	if len(ds) != 1 {
		t.Fatalf("dead letters: %+v", ds)
	}
	got := ds[0]
	if got.HitID != poison.ID.String() || got.Shard != d.Shard || got.SiteID != 1 || got.Kind != "pageview" ||
		got.URL != poison.URL || !strings.Contains(got.Cause, "7 categories") {
		t.Errorf("dead letter = %+v, want hit %s of %s", got, poison.ID, d.Shard)
	}
	if r := runCmd(ctx, env, "queue", "dlq", "list"); !strings.Contains(r.stdout, got.ID) ||
		!strings.Contains(r.stdout, "7 categories more than 5") {
		t.Errorf("dlq list text:\n%s", r.stdout)
	}

	cases := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"replay needs ids", []string{"queue", "dlq", "replay"}, 1, "or --all"},
		{"replay all and ids", []string{"queue", "dlq", "replay", "--all", got.ID}, 1, "not both"},
		{"replay bad id", []string{"queue", "dlq", "replay", "12-x"}, 1, "not dead-letter IDs"},
		{"delete needs ids", []string{"queue", "dlq", "delete"}, 1, "give the IDs"},
		{"delete unknown id", []string{"queue", "dlq", "delete", "1-1"}, 0, "deleted 0"},
		{"replay unknown id", []string{"queue", "dlq", "replay", "1-1"}, 0, "1 ID(s) were not"},
		{"unknown subcommand", []string{"queue", "frob"}, 2, "unknown subcommand"},
		{"unknown dlq subcommand", []string{"queue", "dlq", "frob"}, 2, "unknown subcommand"},
		{"bad limit", []string{"queue", "dlq", "list", "--limit", "-1"}, 1, "--limit"},
		{"replay one", []string{"queue", "dlq", "replay", got.ID}, 0, "replayed 1 dead letter"},
		{"empty", []string{"queue", "dlq", "list"}, 0, "no dead letters"},
	}
	for _, c := range cases {
		r := runCmd(ctx, env, c.args...)
		where := r.stdout
		if c.code != 0 {
			where = r.stderr
		}
		if r.code != c.code || !strings.Contains(where, c.contains) {
			t.Errorf("%s: exit %d (want %d), output lacks %q?\nstdout: %s\nstderr: %s", c.name, r.code, c.code, c.contains, r.stdout, r.stderr)
		}
	}
	if s := readStats("replayed"); s.Depth != depth+1 {
		t.Errorf("after replay depth %d, want %d", s.Depth, depth+1)
	}

	// Drain everything, dead-lettering two hits, then delete one and
	// replay the rest with --all.
	var deadIDs []string
	for range 2 {
		d, err := q.Receive(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.DeadLetter(ctx, d, d.Hits[:1], errors.New("bad")); err != nil {
			t.Fatal(err)
		}
		deadIDs = append(deadIDs, d.Hits[0].ID.String())
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ds = listDead("two dead letters")
	if len(ds) != 2 || ds[0].HitID != deadIDs[0] || ds[1].HitID != deadIDs[1] {
		t.Fatalf("dead letters %+v, want hits %v", ds, deadIDs)
	}
	if r := runCmd(ctx, env, "queue", "dlq", "list", "--json", "--limit", "1"); strings.Count(r.stdout, `"id"`) != 1 {
		t.Errorf("--limit 1:\n%s", r.stdout)
	}
	if r := runCmd(ctx, env, "queue", "dlq", "delete", ds[0].ID); r.code != 0 || !strings.Contains(r.stdout, "deleted 1") {
		t.Errorf("delete: %+v", r)
	}
	before := readStats("before replay --all").Depth
	if r := runCmd(ctx, env, "queue", "dlq", "replay", "--all"); r.code != 0 || !strings.Contains(r.stdout, "replayed 1 ") {
		t.Errorf("replay --all: %+v", r)
	}
	if s := readStats("after replay --all"); s.Depth != before+1 {
		t.Errorf("depth %d after replay --all, want %d", s.Depth, before+1)
	}
	if ds := listDead("end"); len(ds) != 0 {
		t.Errorf("dead letters left: %+v", ds)
	}
}

func TestAge(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{850 * time.Millisecond, "850ms"},
		{12345 * time.Millisecond, "12.3s"},
		{250 * time.Second, "4m10s"},
		{3*time.Hour + 2*time.Minute + 20*time.Second, "3h2m"},
	}
	for _, c := range cases {
		if got := age(c.d); got != c.want {
			t.Errorf("age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := bytesText(1536); got != "1.5 KiB" {
		t.Errorf("bytesText(1536) = %q", got)
	}
	if got := bytesText(100); got != "100 B" {
		t.Errorf("bytesText(100) = %q", got)
	}
}
