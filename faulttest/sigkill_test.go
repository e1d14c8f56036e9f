package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/footfall/analytics/internal/testenv"
)

// TestWorkerSIGKILL drains 200 000 hits (20 000 visitors × 10 page views)
// with 3 worker processes while a killer SIGKILLs a random worker 20
// times, spread over the run, while it holds an outstanding delivery, and
// starts a new one each time. Every hit must be stored exactly once, in
// order, with consistent visit counters.
func TestWorkerSIGKILL(t *testing.T) {
	bin := footfallBin(t)
	url := testenv.RedisURL(t)
	eachBackend(t, func(t *testing.T, mk func(*testing.T) backend) {
		t0 := time.Now()
		b := mk(t)
		testWorkerSIGKILL(t, bin, url, b, 20000, 10, 20)
		t.Logf("%s: %v", b.name, time.Since(t0).Round(time.Millisecond))
	})
}

func testWorkerSIGKILL(t *testing.T, bin, url string, b backend, visitors, rounds, kills int) {
	ctx := t.Context()
	site := setupSite(t, b)
	r := newRedisQueue(t, url)
	s := newSent()
	hits := interleaved(site, visitors, rounds, fixedBase(), s)
	t0 := time.Now()
	r.enqueue(ctx, t, hits)
	total := int64(len(hits))
	t.Logf("enqueued %d hits in %v", total, time.Since(t0).Round(time.Millisecond))

	w := newWorkers(t, bin, commonEnv(b, r))
	for range 3 {
		w.add()
	}
	t0 = time.Now()
	midDelivery := 0
	for k := 1; k <= kills; k++ {
		// Spread the kills over the run: kill k once k/(kills+1) of the
		// hits are processed.
		target := total - total*int64(k)/int64(kills+1)
		for {
			st, err := r.q.Stats(ctx)
			if err == nil && st.Depth <= target {
				break
			}
			if time.Since(t0) > 10*time.Minute {
				w.dumpAll(t)
				t.Fatalf("kill %d: depth still %d after %v", k, st.Depth, time.Since(t0))
			}
			w.checkAlive(t)
			time.Sleep(20 * time.Millisecond)
		}
		i := rand.IntN(w.count())
		victim := w.live[i]
		if waitInFlight(ctx, r, victim.pid(), 3*time.Second) {
			midDelivery++
		}
		victim.kill()
		if !isSignal(victim.err, syscall.SIGKILL) {
			t.Errorf("%s: exit %v, want killed by SIGKILL", victim.name, victim.err)
		}
		w.remove(i)
		w.add()
	}
	t.Logf("%d kills in %v, %d of them while the victim held an outstanding delivery", kills, time.Since(t0).Round(time.Millisecond), midDelivery)
	if midDelivery < kills/2 {
		t.Errorf("only %d of %d kills hit a worker in the middle of a delivery", midDelivery, kills)
	}
	r.waitDrained(t, 10*time.Minute, w.all...)
	t.Logf("drained %d hits in %v (%.0f hits/s, kills included)", total, time.Since(t0).Round(time.Millisecond),
		float64(total)/time.Since(t0).Seconds())
	w.stopAll(t)
	r.checkEmpty(t)
	verify(t, b, site, s, verifyOptions{oneVisit: true})
}

// waitInFlight waits until the worker with this pid holds a shard lease
// with an outstanding delivery, and reports whether it saw one.
func waitInFlight(ctx context.Context, r *redisQueue, pid int, timeout time.Duration) bool {
	host, _ := os.Hostname()
	if host == "" {
		host = "consumer"
	}
	owner := host + "-" + strconv.Itoa(pid) + "-"
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		pipe := r.rdb.Pipeline()
		leases := make([]interface{ Val() string }, shards)
		for n := range shards {
			leases[n] = pipe.Get(ctx, fmt.Sprintf("%s:lease:%d", r.prefix, n))
		}
		infl := pipe.HGetAll(ctx, r.prefix+":inflight")
		pipe.Exec(ctx)
		fl := infl.Val()
		for n := range shards {
			if strings.HasPrefix(leases[n].Val(), owner) {
				if c, _ := strconv.Atoi(fl[strconv.Itoa(n)]); c > 0 {
					return true
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}
