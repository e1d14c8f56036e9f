package faulttest

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
)

// produce enqueues hits in chunks spread evenly over about d, and closes
// done when it is finished.
func produce(ctx context.Context, t *testing.T, r *redisQueue, hits []analytics.Hit, d time.Duration) (done chan struct{}, errc chan error) {
	done, errc = make(chan struct{}), make(chan error, 1)
	const chunk = 250
	n := (len(hits) + chunk - 1) / chunk
	pause := d / time.Duration(n)
	go func() {
		defer close(done)
		for len(hits) > 0 {
			k := min(chunk, len(hits))
			if err := r.q.Enqueue(ctx, hits[:k]); err != nil {
				errc <- err
				return
			}
			hits = hits[k:]
			select {
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			case <-time.After(pause):
			}
		}
	}()
	return done, errc
}

// TestWorkersJoinLeave sends hits continuously while workers are added
// (1 → 3 → 5) and removed, gracefully (SIGTERM) and not (SIGKILL): every
// hit lands exactly once and each visitor's order holds.
func TestWorkersJoinLeave(t *testing.T) { eachBackend(t, testWorkersJoinLeave) }

func testWorkersJoinLeave(t *testing.T, mkBackend func(*testing.T) backend) {
	bin := footfallBin(t)
	url := testenv.RedisURL(t)
	start := time.Now()
	b := mkBackend(t)
	site := setupSite(t, b)
	r := newRedisQueue(t, url)
	s := newSent()
	hits := interleaved(site, 4000, 10, fixedBase(), s)

	w := newWorkers(t, bin, commonEnv(b, r, "FOOTFALL_WORKER_BATCH_SIZE=200"))
	w.add()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done, errc := produce(ctx, t, r, hits, 20*time.Second)

	var mu sync.Mutex
	graceful, killed := 0, 0
	stopOne := func(kill bool) {
		p := w.remove(0) // the oldest: it holds the most shards
		if kill {
			p.kill()
			killed++
			return
		}
		t0 := time.Now()
		pid := p.cmd.Process.Pid
		if err := p.stop(60 * time.Second); err != nil {
			t.Errorf("%s: graceful stop: %v", p.name, err)
		}
		// A worker that stopped gracefully has left the consumer set
		// (redisqueue names a consumer host-pid-random): the others take
		// its shards at once, not when its heartbeat expires.
		members, err := r.rdb.ZRange(t.Context(), r.prefix+":consumers", 0, -1).Result()
		if err != nil {
			t.Errorf("consumer set: %v", err)
		}
		for _, m := range members {
			if strings.Contains(m, "-"+strconv.Itoa(pid)+"-") {
				t.Errorf("%s exited still in the consumer set as %s", p.name, m)
			}
		}
		mu.Lock()
		graceful++
		mu.Unlock()
		t.Logf("%s stopped gracefully in %v", p.name, time.Since(t0).Round(time.Millisecond))
	}
	steps := []struct {
		at   time.Duration
		what string
		do   func()
	}{
		{3 * time.Second, "1 → 3", func() { w.add(); w.add() }},
		{6 * time.Second, "3 → 5", func() { w.add(); w.add() }},
		{9 * time.Second, "5 → 4 (SIGTERM)", func() { stopOne(false) }},
		{11 * time.Second, "4 → 3 (SIGKILL)", func() { stopOne(true) }},
		{13 * time.Second, "3 → 1 (SIGTERM, SIGKILL)", func() { stopOne(false); stopOne(true) }},
		{16 * time.Second, "1 → 2", func() { w.add() }},
	}
	t0 := time.Now()
	for _, st := range steps {
		time.Sleep(time.Until(t0.Add(st.at)))
		w.checkAlive(t)
		qs, _ := r.q.Stats(ctx)
		st.do()
		t.Logf("%5.1fs: workers %s (depth %d)", time.Since(t0).Seconds(), st.what, qs.Depth)
	}
	<-done
	select {
	case err := <-errc:
		t.Fatalf("producer: %v", err)
	default:
	}
	r.waitDrained(t, 5*time.Minute, w.all...)
	t.Logf("all %d hits drained %v after the start", len(hits), time.Since(t0).Round(time.Millisecond))
	w.stopAll(t)
	r.checkEmpty(t)
	if graceful != 2 || killed != 2 {
		t.Errorf("%d graceful stops and %d kills, want 2 and 2", graceful, killed)
	}
	verify(t, b, site, s, verifyOptions{oneVisit: true})
	t.Logf("TestWorkersJoinLeave: %v", time.Since(start).Round(time.Millisecond))
}

// TestOrdering sends 1 000 visitors' hits interleaved (20 rounds, a random
// visitor order per round) while 4 worker processes with one processor
// each and small batches drain them: each visitor's actions must be
// stored in the order sent.
func TestOrdering(t *testing.T) { eachBackend(t, testOrdering) }

func testOrdering(t *testing.T, mkBackend func(*testing.T) backend) {
	bin := footfallBin(t)
	url := testenv.RedisURL(t)
	start := time.Now()
	b := mkBackend(t)
	site := setupSite(t, b)
	r := newRedisQueue(t, url)
	s := newSent()
	hits := interleaved(site, 1000, 20, fixedBase(), s)

	w := newWorkers(t, bin, commonEnv(b, r, "FOOTFALL_WORKER_PROCESSORS=1", "FOOTFALL_WORKER_BATCH_SIZE=37"))
	for range 4 {
		w.add()
	}
	done, errc := produce(t.Context(), t, r, hits, 5*time.Second)
	<-done
	select {
	case err := <-errc:
		t.Fatalf("producer: %v", err)
	default:
	}
	r.waitDrained(t, 5*time.Minute, w.all...)
	w.checkAlive(t)
	w.stopAll(t)
	r.checkEmpty(t)
	verify(t, b, site, s, verifyOptions{oneVisit: true})
	t.Logf("TestOrdering: %v", time.Since(start).Round(time.Millisecond))
}
