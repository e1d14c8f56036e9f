package faulttest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/redisqueue"
	"github.com/footfall/analytics/store/mysqlstore"
	"github.com/footfall/analytics/store/sqlitestore"
)

// shards is the queue's shard count in every test.
const shards = 16

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

// The footfall and storedump binaries, built once per test binary by
// footfallBin.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// footfallBin builds cmd/footfall and testdata/storedump once, without
// -race (the worker processes are the system under test, not the test's
// own data races), and returns the path of footfall.
func footfallBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		t0 := time.Now()
		buildDir, buildErr = os.MkdirTemp("", "faulttest")
		if buildErr != nil {
			return
		}
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		for _, pkg := range []string{"../cmd/footfall", "./testdata/storedump"} {
			out, err := exec.Command(gobin, "build", "-o", buildDir+"/", pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
		t.Logf("built footfall and storedump in %v", time.Since(t0).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "footfall")
}

// ---------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------

// backend is a store of the test's own: the FOOTFALL_* variables that
// point a process at it and a way to open it from the test.
type backend struct {
	name string
	env  []string
	open func(ctx context.Context) (analytics.Store, error)
}

// sqliteBackend is a fresh SQLite data directory.
func sqliteBackend(t *testing.T) backend {
	dir := t.TempDir()
	path := filepath.Join(dir, "footfall.db")
	return backend{
		name: "sqlite",
		env:  []string{"FOOTFALL_STORE_DRIVER=sqlite", "FOOTFALL_DATA_DIR=" + dir},
		open: func(ctx context.Context) (analytics.Store, error) {
			return sqlitestore.Open(ctx, sqlitestore.Options{Path: path, Migrate: true})
		},
	}
}

// eachBackend runs test once per store, SQLite and MariaDB, as subtests.
func eachBackend(t *testing.T, test func(*testing.T, func(*testing.T) backend)) {
	for _, c := range []struct {
		name string
		mk   func(*testing.T) backend
	}{{"sqlite", sqliteBackend}, {"mysql", mysqlBackend}} {
		t.Run(c.name, func(t *testing.T) { test(t, c.mk) })
	}
}

// mysqlBackend is a fresh MariaDB database, dropped when t ends.
func mysqlBackend(t *testing.T) backend {
	t.Helper()
	dsn := testenv.MySQLDatabase(t, "fault")
	return backend{
		name: "mysql",
		env:  []string{"FOOTFALL_STORE_DRIVER=mysql", "FOOTFALL_STORE_MYSQL_DSN=" + dsn, "FOOTFALL_DATA_DIR=" + t.TempDir()},
		open: func(ctx context.Context) (analytics.Store, error) {
			return mysqlstore.Open(ctx, mysqlstore.Options{DSN: dsn, Migrate: true})
		},
	}
}

// setupSite migrates the store and creates the tracked site; it returns
// the site ID.
func setupSite(t *testing.T, b backend) int {
	t.Helper()
	st, err := b.open(t.Context())
	if err != nil {
		t.Fatalf("%s: open: %v", b.name, err)
	}
	defer st.Close()
	site := analytics.Site{Name: "Shop", URLs: []string{"https://shop.example"}, Timezone: "UTC"}
	if err := st.CreateSite(t.Context(), &site); err != nil {
		t.Fatal(err)
	}
	return site.ID
}

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------

// redisQueue is a queue with a key prefix of the test's own, on the
// shared Redis or a private one.
type redisQueue struct {
	url, prefix string
	// leaseTTL is the workers' lease TTL: how soon a killed worker's
	// shards are taken over.
	leaseTTL time.Duration
	rdb      *redis.Client
	q        *redisqueue.Queue
}

// newRedisQueue opens a queue under a fresh prefix on url; its keys are
// deleted when t ends.
func newRedisQueue(t *testing.T, url string) *redisQueue {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	prefix := testenv.Name("ft")
	q, err := redisqueue.New(rdb, redisqueue.Options{Prefix: prefix, Shards: shards, DrainTimeout: -1})
	if err != nil {
		rdb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return &redisQueue{url: url, prefix: prefix, rdb: rdb, q: q, leaseTTL: 2 * time.Second}
}

// env points a footfall process at the queue.
func (r *redisQueue) env() []string {
	return []string{
		"FOOTFALL_QUEUE_DRIVER=redis",
		"FOOTFALL_QUEUE_REDIS_URL=" + r.url,
		"FOOTFALL_QUEUE_REDIS_PREFIX=" + r.prefix,
		"FOOTFALL_QUEUE_SHARDS=" + fmt.Sprint(shards),
		"FOOTFALL_QUEUE_REDIS_LEASE_TTL=" + r.leaseTTL.String(),
	}
}

// enqueue adds hits in round trips of up to 1000.
func (r *redisQueue) enqueue(ctx context.Context, t *testing.T, hits []analytics.Hit) {
	t.Helper()
	for len(hits) > 0 {
		n := min(len(hits), 1000)
		if err := r.q.Enqueue(ctx, hits[:n]); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		hits = hits[n:]
	}
}

// waitDrained waits until every queued hit is acknowledged.
func (r *redisQueue) waitDrained(t *testing.T, timeout time.Duration, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := r.q.Stats(t.Context())
		if err == nil && st.Depth == 0 && st.InFlight == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range procs {
				p.dump(t)
			}
			t.Fatalf("queue not drained after %v: %+v %v", timeout, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkEmpty asserts that nothing is queued, in flight or dead-lettered.
func (r *redisQueue) checkEmpty(t *testing.T) {
	t.Helper()
	st, err := r.q.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 0 || st.InFlight != 0 {
		t.Errorf("queue not empty at the end: depth %d, in flight %d", st.Depth, st.InFlight)
	}
	dls, err := r.q.DeadLetters(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		t.Errorf("dead letter %s: hit %s: %s", d.ID, d.Hit.ID, d.Cause)
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

// syncBuffer is a bytes.Buffer safe for a process writing and the test
// reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // set when done is closed
}

// startProc runs bin with args and env (on top of this process's
// environment); it is killed when t ends if still running.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			p.dump(t)
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for a clean exit.
func (p *proc) stop(timeout time.Duration) error {
	// A process that has not set up its signal handling yet dies of
	// SIGTERM's default action: wait until it says it is running.
	p.waitReady(10 * time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.name, timeout)
	}
}

// waitReady waits until the process logged that it runs (a worker's
// "worker running", a server's "listening"), it exited, or timeout.
func (p *proc) waitReady(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && p.running() {
		out := p.out.String()
		if strings.Contains(out, "worker running") || strings.Contains(out, "listening") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dump logs the last lines of the process output.
func (p *proc) dump(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("--- %s (pid %d) output, last %d lines:\n%s", p.name, p.pid(), len(lines), strings.Join(lines, "\n"))
}

// commonEnv is what every footfall process of a test gets.
func commonEnv(b backend, r *redisQueue, extra ...string) []string {
	env := append([]string{"FOOTFALL_LOG_LEVEL=info"}, b.env...)
	env = append(env, r.env()...)
	return append(env, extra...)
}

// workers is a pool of `footfall worker` processes.
type workers struct {
	t    *testing.T
	bin  string
	env  []string
	mu   sync.Mutex
	n    int // processes started, for names
	live []*proc
	all  []*proc
}

func newWorkers(t *testing.T, bin string, env []string) *workers {
	return &workers{t: t, bin: bin, env: env}
}

// add starts one more worker.
func (w *workers) add() *proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	p := startProc(w.t, fmt.Sprintf("worker-%d", w.n), w.bin, w.env, "worker")
	w.live = append(w.live, p)
	w.all = append(w.all, p)
	return p
}

// remove takes a live worker out of the pool (the caller stops it).
func (w *workers) remove(i int) *proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.live[i]
	w.live = slices.Delete(w.live, i, i+1)
	return p
}

func (w *workers) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.live)
}

// stopAll stops every live worker gracefully and checks they exit 0.
func (w *workers) stopAll(t *testing.T) {
	t.Helper()
	for w.count() > 0 {
		p := w.remove(0)
		if err := p.stop(60 * time.Second); err != nil {
			t.Errorf("%s: %v", p.name, err)
			p.dump(t)
		}
	}
}

// checkAlive fails if a live worker exited by itself.
func (w *workers) checkAlive(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.live {
		if !p.running() {
			p.dump(t)
			t.Fatalf("%s exited by itself: %v", p.name, p.err)
		}
	}
}

func (w *workers) dumpAll(t *testing.T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.all {
		p.dump(t)
	}
}

// ---------------------------------------------------------------------------
// Hits and what was sent
// ---------------------------------------------------------------------------

// sent records what a test sent: each visitor's page URLs in send order
// and each URL's HitID (zero when ingest assigned it).
type sent struct {
	mu       sync.Mutex
	visitors map[analytics.VisitorID][]string
	ids      map[string]analytics.HitID
	total    int
}

func newSent() *sent {
	return &sent{visitors: make(map[analytics.VisitorID][]string), ids: make(map[string]analytics.HitID)}
}

func (s *sent) add(v analytics.VisitorID, url string, id analytics.HitID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visitors[v] = append(s.visitors[v], url)
	s.ids[url] = id
	s.total++
}

func visitorID(v int) analytics.VisitorID {
	return analytics.VisitorID{0xfa, 0x17, 0, 0, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// pageview is hit seq of visitor v, as ingest would build it for a GET
// with _id, url and action_name. Its time is base + seq·10s, so all of a
// visitor's hits fall in one visit.
func pageview(site, v, seq int, base time.Time) analytics.Hit {
	t := base.Add(time.Duration(seq) * 10 * time.Second)
	return analytics.Hit{
		ID:        analytics.NewHitID(t),
		SiteID:    site,
		Time:      t,
		Kind:      analytics.KindPageview,
		IP:        netip.AddrFrom4([4]byte{81, 2, byte(v >> 8), byte(v)}),
		UserAgent: browserUA,
		Lang:      "en-GB,en;q=0.9",
		CookieID:  visitorID(v),
		URL:       fmt.Sprintf("https://shop.example/v%d/p%d", v, seq),
		Title:     fmt.Sprintf("v%d p%d", v, seq),
		Device:    analytics.Device{ScreenWidth: 1920, ScreenHeight: 1080, LocalHour: 12, LocalMinute: 30, LocalSecond: 5},
	}
}

// fixedBase is yesterday noon UTC: a time whose visits never cross
// midnight, whatever the time of the run.
func fixedBase() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
}

// interleaved builds rounds·visitors page views: round r holds hit r of
// every visitor, visitors in a random order per round.
func interleaved(site, visitors, rounds int, base time.Time, s *sent) []analytics.Hit {
	hits := make([]analytics.Hit, 0, visitors*rounds)
	order := make([]int, visitors)
	for i := range order {
		order[i] = i
	}
	for r := range rounds {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, v := range order {
			h := pageview(site, v, r, base)
			s.add(h.CookieID, h.URL, h.ID)
			hits = append(hits, h)
		}
	}
	return hits
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

// verifyOptions say what verify may expect beyond exactly-once delivery.
type verifyOptions struct {
	// oneVisit: every visitor has exactly one visit.
	oneVisit bool
	// missing URLs were not stored on purpose (a poison hit).
	missing map[string]bool
}

// storedVisit is a visit as storedump prints it.
type storedVisit struct {
	visitor            analytics.VisitorID
	id, first          int64
	actions, pageviews int
	exitURL            string
	list               []storedAction
}

type storedAction struct {
	hitID         analytics.HitID
	typ, position int
	url, prevURL  string
}

// readStore reads every visit of site with its actions through the
// store's Visits, in a storedump process (see testdata/storedump).
func readStore(t *testing.T, b backend, site int) []storedVisit {
	t.Helper()
	footfallBin(t)
	cmd := exec.Command(filepath.Join(buildDir, "storedump"), "-site", strconv.Itoa(site))
	cmd.Env = append(os.Environ(), b.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("storedump: %v\n%s", err, stderr.String())
	}
	var visits []storedVisit
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		switch {
		case f[0] == "V" && len(f) == 7:
			var v storedVisit
			var err1, err2, err3, err4, err5 error
			v.visitor, err1 = analytics.ParseVisitorID(f[1])
			v.id, err2 = strconv.ParseInt(f[2], 10, 64)
			v.first, err3 = strconv.ParseInt(f[3], 10, 64)
			v.actions, err4 = strconv.Atoi(f[4])
			v.pageviews, err5 = strconv.Atoi(f[5])
			if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
				t.Fatalf("storedump line %q: %v", line, err)
			}
			v.exitURL = f[6]
			visits = append(visits, v)
		case f[0] == "A" && len(f) == 6 && len(visits) > 0:
			var a storedAction
			id, err1 := hex.DecodeString(f[1])
			var err2, err3 error
			a.typ, err2 = strconv.Atoi(f[2])
			a.position, err3 = strconv.Atoi(f[3])
			if err := errors.Join(err1, err2, err3); err != nil || len(id) != len(a.hitID) {
				t.Fatalf("storedump line %q: %v", line, err)
			}
			copy(a.hitID[:], id)
			a.url, a.prevURL = f[4], f[5]
			v := &visits[len(visits)-1]
			v.list = append(v.list, a)
		default:
			t.Fatalf("storedump line %q", line)
		}
	}
	return visits
}

// verify reads every visit of site with its actions and checks them
// against what was sent: each sent page view stored exactly once with its
// HitID, no other action, each visitor's actions in send order, and every
// visit's counters equal to its stored actions.
func verify(t *testing.T, b backend, site int, s *sent, o verifyOptions) {
	t.Helper()
	t0 := time.Now()
	visits := readStore(t, b, site)
	read := time.Since(t0)

	byVisitor := make(map[analytics.VisitorID][]storedVisit)
	hitIDs := make(map[analytics.HitID]string)
	var nActions, problems int
	report := func(format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, vd := range visits {
		nActions += len(vd.list)
		pv := 0
		for i, a := range vd.list {
			if a.typ != int(analytics.ActionPageview) {
				report("visit %d: action %s has type %d", vd.id, a.url, a.typ)
				continue
			}
			pv++
			if prev, dup := hitIDs[a.hitID]; dup {
				report("hit %s stored twice: %s and %s", a.hitID, prev, a.url)
			}
			hitIDs[a.hitID] = a.url
			if a.position != pv {
				report("visit %d: action %s at index %d has position %d, want %d", vd.id, a.url, i, a.position, pv)
			}
			if i > 0 && a.prevURL != vd.list[i-1].url {
				report("visit %d: action %s follows %s but says it follows %q", vd.id, a.url, vd.list[i-1].url, a.prevURL)
			}
		}
		if vd.actions != len(vd.list) || vd.pageviews != pv {
			report("visit %d of %s: counters say %d actions, %d page views; stored %d actions, %d page views",
				vd.id, vd.visitor, vd.actions, vd.pageviews, len(vd.list), pv)
		}
		if n := len(vd.list); n > 0 && vd.exitURL != vd.list[n-1].url {
			report("visit %d: exit URL %q, last action %q", vd.id, vd.exitURL, vd.list[n-1].url)
		}
		byVisitor[vd.visitor] = append(byVisitor[vd.visitor], vd)
	}

	want := s.total - len(o.missing)
	if nActions != want || len(hitIDs) != want {
		report("stored %d actions with %d distinct HitIDs; sent %d page views, %d not to be stored", nActions, len(hitIDs), s.total, len(o.missing))
	}
	for v, urls := range s.visitors {
		vs := byVisitor[v]
		slices.SortFunc(vs, func(a, b storedVisit) int { return cmp.Compare(a.first, b.first) })
		if o.oneVisit && len(vs) != 1 {
			report("visitor %s has %d visits, want 1", v, len(vs))
		}
		var got []string
		for _, vi := range vs {
			for _, a := range vi.list {
				got = append(got, a.url)
				if id, ok := s.ids[a.url]; ok && !id.IsZero() && id != a.hitID {
					report("action %s has HitID %s, sent as %s", a.url, a.hitID, id)
				}
			}
		}
		wantURLs := urls
		if len(o.missing) > 0 {
			wantURLs = slices.DeleteFunc(slices.Clone(urls), func(u string) bool { return o.missing[u] })
		}
		if !slices.Equal(got, wantURLs) {
			report("visitor %s: stored %d actions %s; sent %d %s", v, len(got), brief(got), len(wantURLs), brief(wantURLs))
		}
	}
	for v := range byVisitor {
		if _, ok := s.visitors[v]; !ok {
			report("visits of visitor %s, who sent nothing", v)
		}
	}
	if problems > 20 {
		t.Errorf("… %d problems in all", problems)
	}
	t.Logf("verified %d actions in %d visits of %d visitors (read in %v, checked in %v)", nActions, len(visits), len(s.visitors),
		read.Round(time.Millisecond), (time.Since(t0) - read).Round(time.Millisecond))
}

func brief(urls []string) string {
	if len(urls) <= 12 {
		return fmt.Sprint(urls)
	}
	return fmt.Sprint(urls[:12]) + "…"
}

// isExit reports whether err is a process that ended by signal sig.
func isSignal(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return ws.Signaled() && ws.Signal() == sig
		}
	}
	return false
}
