package faulttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics/internal/testenv"
)

// privateRedis is a redis-server of the test's own, with append-only
// persistence fsynced on every write, that the test may kill and restart
// (the machine's shared Redis runs without persistence and is never
// touched).
type privateRedis struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	proc *proc
	runs int
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	r := &privateRedis{t: t, bin: testenv.Tool(t, "redis-server"), dir: t.TempDir(), port: freePort(t)}
	r.start()
	return r
}

func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs redis-server on r.dir (replaying its append-only file) and
// waits until it answers.
func (r *privateRedis) start() {
	r.t.Helper()
	r.runs++
	r.proc = startProc(r.t, fmt.Sprintf("redis-%d", r.runs), r.bin, nil,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--logfile", "")
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		} else if time.Now().After(deadline) || !r.proc.running() {
			r.proc.dump(r.t)
			r.t.Fatalf("private redis on %d not answering: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crash kills redis-server with SIGKILL: what was fsynced to the
// append-only file survives, replies in flight are lost.
func (r *privateRedis) crash() { r.proc.kill() }

// load sends page views to the tracking endpoint from several goroutines,
// each with visitors of its own, and records every accepted hit.
type load struct {
	base     string
	site     int
	s        *sent
	accepted atomic.Int64
	slowest  atomic.Int64 // longest answer, in ns
	mu       sync.Mutex
	failures []string
	nfail    int
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nfail++
	if len(l.failures) < 20 {
		l.failures = append(l.failures, fmt.Sprintf(time.Now().Format("15:04:05.000 ")+format, args...))
	}
}

// run sends until ctx is done: goroutine g cycles through its visitors,
// one hit at a time, so each visitor's hits are sent in order and each is
// answered before the next.
func (l *load) run(ctx context.Context, goroutines, visitorsEach int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			seq := make([]int, visitorsEach)
			for i := 0; ctx.Err() == nil; i++ {
				k := i % visitorsEach
				v := g*visitorsEach + k
				vid := visitorID(v)
				u := fmt.Sprintf("https://shop.example/g%d/v%d/p%d", g, v, seq[k])
				q := url.Values{"idsite": {strconv.Itoa(l.site)}, "rec": {"1"}, "_id": {vid.String()},
					"url": {u}, "action_name": {fmt.Sprintf("v%d p%d", v, seq[k])}, "send_image": {"0"}}
				req, _ := http.NewRequest("GET", l.base+"/matomo.php?"+q.Encode(), nil)
				req.Header.Set("User-Agent", browserUA)
				t0 := time.Now()
				resp, err := client.Do(req)
				if d := int64(time.Since(t0)); d > l.slowest.Load() {
					l.slowest.Store(d) // racy max: good enough for a log line
				}
				if err != nil {
					if ctx.Err() == nil {
						l.fail("%s: %v", u, err)
					}
					continue // not sent for sure: the same URL is tried again
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					l.fail("%s: HTTP %d", u, resp.StatusCode)
					continue
				}
				l.s.add(vid, u, [16]byte{})
				l.accepted.Add(1)
				seq[k]++
			}
		}()
	}
	return &wg
}

// TestRedisRestartUnderLoad crashes a private, persistent Redis while
// `footfall serve --role=ingest` answers HTTP load from several
// goroutines, and starts it again on the same append-only file. Ingest
// must answer 2xx throughout (it spools to disk while Redis is away, then
// replays), and every accepted hit must be stored exactly once, each
// visitor's in order, by two workers that ride out the restart too.
func TestRedisRestartUnderLoad(t *testing.T) { eachBackend(t, testRedisRestartUnderLoad) }

func testRedisRestartUnderLoad(t *testing.T, mkBackend func(*testing.T) backend) {
	bin := footfallBin(t)
	start := time.Now()
	red := startPrivateRedis(t)
	b := mkBackend(t)
	site := setupSite(t, b)
	r := newRedisQueue(t, red.url())
	// Every write is fsynced: under load on a busy machine a round trip
	// can take long, and 2s leases would churn for nothing.
	r.leaseTTL = 10 * time.Second

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := commonEnv(b, r, "FOOTFALL_INGEST_LISTEN="+addr, "FOOTFALL_QUEUE_SPOOL_DIR="+filepath.Join(t.TempDir(), "spool"))
	ingest := startProc(t, "ingest", bin, env, "serve", "--role=ingest")
	waitHealthy(t, "http://"+addr, ingest)
	w := newWorkers(t, bin, env)
	w.add()
	w.add()

	l := &load{base: "http://" + addr, site: site, s: newSent()}
	ctx, stopLoad := context.WithCancel(t.Context())
	defer stopLoad()
	wg := l.run(ctx, 8, 40)

	time.Sleep(3 * time.Second)
	before := l.accepted.Load()
	red.crash()
	t.Logf("redis killed after %d accepted hits", before)
	// Long enough for the first failing Enqueue (go-redis retries its
	// dials for a while) to give up and the spool to take over.
	time.Sleep(6 * time.Second)
	during := l.accepted.Load() - before
	red.start()
	t.Logf("redis restarted; %d hits accepted while it was down", during)
	waitLog(t, ingest, "spool replayed", 60*time.Second)
	time.Sleep(2 * time.Second)
	stopLoad()
	wg.Wait()
	after := l.accepted.Load()
	t.Logf("load stopped: %d hits accepted in all, %d failures, slowest answer %v", after, l.nfail,
		time.Duration(l.slowest.Load()).Round(time.Millisecond))
	for _, f := range l.failures {
		t.Errorf("request failed: %s", f)
	}
	if during == 0 {
		t.Errorf("no hit accepted while Redis was down")
	}
	if after-before-during == 0 {
		t.Errorf("no hit accepted after Redis came back")
	}
	out := ingest.out.String()
	if !strings.Contains(out, "spooling to disk") || !strings.Contains(out, "spool replayed") {
		t.Errorf("ingest log does not show the spool used and replayed:\n%s", out)
	}

	t1 := time.Now()
	if err := ingest.stop(30 * time.Second); err != nil {
		t.Errorf("ingest: %v", err)
	}
	t.Logf("ingest stopped in %v", time.Since(t1).Round(time.Millisecond))
	t1 = time.Now()
	r.waitDrained(t, 3*time.Minute, w.all...)
	t.Logf("queue drained in %v", time.Since(t1).Round(time.Millisecond))
	w.checkAlive(t)
	t1 = time.Now()
	w.stopAll(t)
	t.Logf("workers stopped in %v", time.Since(t1).Round(time.Millisecond))
	r.checkEmpty(t)
	verify(t, b, site, l.s, verifyOptions{})
	t.Logf("TestRedisRestartUnderLoad: %v", time.Since(start).Round(time.Millisecond))
}

// waitHealthy waits until the tracking endpoint answers /healthz.
func waitHealthy(t *testing.T, base string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) || !p.running() {
			p.dump(t)
			t.Fatalf("%s not serving: %v", p.name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits until p's output contains s.
func waitLog(t *testing.T, p *proc, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			p.dump(t)
			t.Fatalf("%s did not log %q within %v", p.name, s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
