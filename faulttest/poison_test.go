package faulttest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
)

// TestPoisonHit hides one hit that every store rejects for good (a product
// view with more categories than analytics.MaxCategories, which the HTTP
// parser never builds) among 10 000 good ones, in the middle of one
// visitor's hits. The good hits must all be stored — the visitor's later
// hits too, so its shard was not blocked — and the poison hit must be in
// the dead-letter stream with the store's error, as `footfall queue dlq
// list --json` shows it.
func TestPoisonHit(t *testing.T) { eachBackend(t, testPoisonHit) }

func testPoisonHit(t *testing.T, mkBackend func(*testing.T) backend) {
	bin := footfallBin(t)
	url := testenv.RedisURL(t)
	start := time.Now()
	b := mkBackend(t)
	site := setupSite(t, b)
	r := newRedisQueue(t, url)
	s := newSent()
	base := fixedBase()
	hits := interleaved(site, 1000, 10, base, s)

	// The poison hit is visitor 7's, between its page views 4 and 5.
	poison := pageview(site, 7, 4, base)
	poison.ID = analytics.NewHitID(poison.Time)
	poison.Time = poison.Time.Add(time.Second)
	poison.URL, poison.Title = "https://shop.example/poison", "poison"
	poison.Product = &analytics.ProductView{SKU: "sku-1", Name: "Poison", Price: 1,
		Categories: []string{"a", "b", "c", "d", "e", "f", "g"}}
	i := slices.IndexFunc(hits, func(h analytics.Hit) bool { return h.URL == "https://shop.example/v7/p4" })
	hits = slices.Insert(hits, i+1, poison)
	s.add(poison.CookieID, poison.URL, poison.ID) // sent, not to be stored
	wantShard := fmt.Sprintf("redis:%s:%d", r.prefix, poison.ShardKey()%shards)
	later := 0
	for _, h := range hits[i+2:] {
		if fmt.Sprintf("redis:%s:%d", r.prefix, h.ShardKey()%shards) == wantShard {
			later++
		}
	}
	if later < 100 {
		t.Fatalf("only %d hits after the poison hit in its shard", later)
	}
	r.enqueue(t.Context(), t, hits)

	env := commonEnv(b, r)
	w := newWorkers(t, bin, env)
	w.add()
	w.add()
	r.waitDrained(t, 5*time.Minute, w.all...)
	w.checkAlive(t)
	w.stopAll(t)

	// The dead-letter stream, through the CLI.
	cmd := exec.Command(bin, "queue", "dlq", "list", "--json")
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("footfall queue dlq list: %v\n%s", err, out)
	}
	var dead []struct {
		ID, Shard, Cause, URL string
		HitID                 string `json:"hit_id"`
	}
	if err := json.Unmarshal(out, &dead); err != nil {
		t.Fatalf("dlq list --json: %v\n%s", err, out)
	}
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want the poison hit alone:\n%s", len(dead), out)
	}
	d := dead[0]
	if d.HitID != poison.ID.String() || d.Shard != wantShard || d.URL != poison.URL {
		t.Errorf("dead letter %+v, want hit %s of %s", d, poison.ID, wantShard)
	}
	if !strings.Contains(d.Cause, "categor") || !strings.Contains(d.Cause, "invalid") {
		t.Errorf("dead letter cause %q does not say what was wrong", d.Cause)
	}
	t.Logf("dead letter %s: %s", d.ID, d.Cause)
	if st, err := r.q.Stats(t.Context()); err != nil || st.Depth != 0 || st.InFlight != 0 {
		t.Errorf("queue at the end: %+v %v", st, err)
	}
	// The good hits, the poison's visitor's later ones included.
	verify(t, b, site, s, verifyOptions{oneVisit: true, missing: map[string]bool{poison.URL: true}})
	t.Logf("TestPoisonHit: %v (%d hits after the poison hit in its shard)", time.Since(start).Round(time.Millisecond), later)
}
