// Command ingestload measures the full HTTP ingest path against the
// physical limit of the machine: a hello-world net/http handler, served and
// loaded the same way in the same run. It reports requests per second of
// each, their ratio (the ingest target is ≥ 60% of hello-world), and what
// each request costs in CPU. See README.md beside this file for the setups
// and for which figure answers the target.
//
//	go run ./bench/ingestload                           # in-memory queue
//	go run ./bench/ingestload -queue redis               # Redis beside the ingest server on CPU 0
//	go run ./bench/ingestload -queue redis -redis-cpu 1  # Redis beside the load generator on CPU 1
//	go run ./bench/ingestload -queue redis -redis-cpu machine -redis redis://127.0.0.1:6379/0
//	go run ./bench/ingestload -duration 5s -rounds 5 -conns 64 -cpuprofile /tmp/ingest
//
// The server runs in its own process with GOMAXPROCS=1, pinned to CPU 0
// when taskset exists; the load generator runs in another process pinned to
// CPU 1. The generator writes raw keep-alive HTTP/1.1 requests (no
// net/http client) so that it is not the bottleneck. Each request is a
// realistic JavaScript-tracker page view with its own visitor id. Rounds
// alternate hello-world and ingest so that noise from other load on the
// machine hits both; the medians are compared.
//
// With -queue redis the harness starts a private redis-server (the
// machine's settings: --save "" --appendonly no) on a free port, pinned to
// -redis-cpu, and empties it after every round; -redis-cpu machine uses the
// Redis at -redis instead, unpinned (its keys are deleted after each round).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/queue/redisqueue"
)

func main() {
	role := flag.String("role", "", "internal: server or client")
	kind := flag.String("server", "hello", "internal: hello or ingest")
	queue := flag.String("queue", "memory", "queue of the ingest server: memory or redis")
	redisCPU := flag.String("redis-cpu", "0", "with -queue redis: CPU of a private redis-server (0: beside the ingest server, 1: beside the load generator), or machine: the Redis at -redis, unpinned")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis URL for -redis-cpu machine")
	addr := flag.String("addr", "", "internal: address to load")
	duration := flag.Duration("duration", 5*time.Second, "length of one measurement")
	rounds := flag.Int("rounds", 3, "measurements of each server")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	cpuprofile := flag.String("cpuprofile", "", "write CPU profiles of the servers: <prefix>-hello-<round>.pprof, <prefix>-ingest-<round>.pprof (for -role server: the file)")
	tracefile := flag.String("trace", "", "write an execution trace of 200 ms of each server, 1 s into its run: <prefix>-hello-<round>.trace, …")
	flag.Parse()
	var err error
	switch *role {
	case "server":
		err = serve(*kind, *queue, *redisURL, *cpuprofile, *tracefile)
	case "client":
		err = load(*addr, *conns, *duration)
	default:
		err = orchestrate(config{
			queue: *queue, redisCPU: *redisCPU, redisURL: *redisURL,
			d: *duration, rounds: *rounds, conns: *conns, cpuprofile: *cpuprofile, trace: *tracefile,
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingestload:", err)
		os.Exit(1)
	}
}

// staticSites is a SiteSource with site 1.
type staticSites struct{}

func (staticSites) Sites(context.Context) ([]analytics.Site, error) {
	return []analytics.Site{{ID: 1, Name: "Bench", URLs: []string{"https://shop.example"}}}, nil
}

func serve(kind, queue, redisURL, cpuprofile, tracefile string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var h http.Handler
	switch kind {
	case "hello":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("hello\n"))
		})
	case "ingest":
		var q analytics.Queue
		if queue == "redis" {
			o, err := redis.ParseURL(redisURL)
			if err != nil {
				return err
			}
			client := redis.NewClient(o)
			defer client.Close()
			prefix := "ffbench" + strconv.Itoa(os.Getpid())
			rq, err := redisqueue.New(client, redisqueue.Options{Prefix: prefix, DrainTimeout: -1})
			if err != nil {
				return err
			}
			defer deleteKeys(client, prefix)
			defer rq.Close()
			q = rq
		} else {
			mq, err := memqueue.New(memqueue.Options{MaxHits: 50_000_000})
			if err != nil {
				return err
			}
			q = mq
		}
		ih, err := ingest.NewHandler(ingest.HandlerOptions{Queue: q, Sites: staticSites{}})
		if err != nil {
			return err
		}
		if err := ih.LoadSites(context.Background()); err != nil {
			return err
		}
		h = ih
	default:
		return fmt.Errorf("unknown server %q", kind)
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if tracefile != "" {
		f, err := os.Create(tracefile)
		if err != nil {
			return err
		}
		defer f.Close()
		go func() {
			time.Sleep(time.Second)
			if trace.Start(f) == nil {
				time.Sleep(200 * time.Millisecond)
				trace.Stop()
			}
		}()
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: h}
	go func() {
		// The orchestrator closes our stdin to stop us.
		io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// deleteKeys removes the bench queue's keys.
func deleteKeys(c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

const pageview = "/matomo.php?idsite=1&rec=1&r=%06d&h=14&m=3&s=27&url=https%%3A%%2F%%2Fshop.example%%2Fproducts%%2Fred-shoes%%3Fcolor%%3Dred" +
	"&urlref=https%%3A%%2F%%2Fwww.google.com%%2F&action_name=Red%%20shoes%%20%%E2%%80%%93%%20Shop&_id=%016x&_idn=0" +
	"&send_image=0&pv_id=a1B2c3&pdf=1&qt=0&realp=0&wma=0&fla=0&java=0&ag=0&cookie=1&res=1920x1080" +
	"&pf_net=0&pf_srv=35&pf_tfr=2&pf_dm1=180&pf_dm2=40&pf_onl=1"

// latency is a log-linear histogram of microseconds (about 3% wide
// buckets above 64 µs).
type latency [1024]uint64

func latBucket(us uint64) int {
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(us) - 6
	return min(32*e+int(us>>e), len(latency{})-1)
}

func latValue(b int) float64 {
	if b < 64 {
		return float64(b)
	}
	e := (b - 32) / 32
	return float64(uint64(b-32*e) << e)
}

func (l *latency) add(o *latency) {
	for i, n := range o {
		l[i] += n
	}
}

func (l *latency) quantile(q float64) float64 {
	var total uint64
	for _, n := range l {
		total += n
	}
	want := uint64(q * float64(total))
	var seen uint64
	for b, n := range l {
		seen += n
		if seen > want {
			return latValue(b)
		}
	}
	return 0
}

// load drives addr with conns connections for d and prints
// "<requests> <seconds> <p50 µs> <p99 µs>".
func load(addr string, conns int, d time.Duration) error {
	var total atomic.Int64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat latency
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var l latency
			n, err := loadConn(ctx, addr, c, &l)
			total.Add(n)
			mu.Lock()
			lat.add(&l)
			mu.Unlock()
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		}(c)
	}
	start := time.Now()
	wg.Wait()
	el := time.Since(start)
	if e := firstErr.Load(); e != nil {
		return e.(error)
	}
	fmt.Printf("%d %.6f %.0f %.0f\n", total.Load(), el.Seconds(), lat.quantile(0.5), lat.quantile(0.99))
	return nil
}

func loadConn(ctx context.Context, addr string, c int, lat *latency) (int64, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 16<<10)
	var req bytes.Buffer
	var n int64
	visitor := uint64(c) << 32
	for ctx.Err() == nil {
		req.Reset()
		visitor++
		fmt.Fprintf(&req, "GET "+pageview+" HTTP/1.1\r\nHost: %s\r\n"+
			"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"+
			"Accept-Language: en-GB,en;q=0.9\r\nReferer: https://shop.example/products/red-shoes\r\n\r\n",
			visitor%1000000, visitor, addr)
		start := time.Now()
		if _, err := conn.Write(req.Bytes()); err != nil {
			return n, err
		}
		if err := readResponse(br); err != nil {
			return n, err
		}
		lat[latBucket(uint64(time.Since(start).Microseconds()))]++
		n++
	}
	return n, nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length (or none
// for 204) and checks it is a success.
func readResponse(br *bufio.Reader) error {
	status, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if len(status) < 12 || (status[9] != '2') {
		return fmt.Errorf("response %q", strings.TrimSpace(status))
	}
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && strings.EqualFold(string(line[:15]), "content-length:") {
			length, _ = strconv.Atoi(strings.TrimSpace(string(line[15:])))
		}
	}
	_, err = br.Discard(length)
	return err
}

type config struct {
	queue, redisCPU, redisURL string
	d                         time.Duration
	rounds, conns             int
	cpuprofile, trace         string
}

// result is one measurement.
type result struct {
	rate          float64 // requests per second
	serverUS      float64 // server process CPU µs per request
	serverUtil    float64 // server CPU / wall time
	redisUS       float64 // redis-server CPU µs per request
	redisUtil     float64
	clientUtil    float64 // load generator CPU / wall time
	clientUS      float64 // load generator CPU µs per request
	hitsPerScript float64 // XADDs per script call
	p50, p99      float64 // latency µs
	other0        float64 // CPU 0 time used by other processes / wall time
	other1        float64 // same for CPU 1
}

// cpuBusy returns the busy time (all but idle and iowait) of CPUs 0 and 1
// from /proc/stat.
func cpuBusy() (cpu0, cpu1 time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	const tick = time.Second / 100 // USER_HZ
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || (f[0] != "cpu0" && f[0] != "cpu1") {
			continue
		}
		var busy uint64
		for i, v := range f[1:9] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		if f[0] == "cpu0" {
			cpu0 = time.Duration(busy) * tick
		} else {
			cpu1 = time.Duration(busy) * tick
		}
	}
	return cpu0, cpu1
}

// procCPU returns the CPU time (user+system) of process pid.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	// f[0] is field 3 (state): utime is field 14, stime 15.
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	const tick = time.Second / 100 // USER_HZ
	return time.Duration(ut+st) * tick, nil
}

// redisStats are counters of a redis-server: CPU time and calls of the
// commands an enqueue round trip uses.
type redisStats struct {
	cpu          time.Duration
	xadd, script int64
}

func readRedisStats(ctx context.Context, c *redis.Client) (redisStats, error) {
	info, err := c.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		return redisStats{}, err
	}
	var s redisStats
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "used_cpu_sys", "used_cpu_user":
			f, _ := strconv.ParseFloat(val, 64)
			s.cpu += time.Duration(f * float64(time.Second))
		case "cmdstat_xadd", "cmdstat_evalsha", "cmdstat_eval", "cmdstat_exec":
			calls, _, _ := strings.Cut(strings.TrimPrefix(val, "calls="), ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			if name == "cmdstat_xadd" {
				s.xadd += n
			} else {
				s.script += n
			}
		}
	}
	return s, nil
}

// privateRedis starts a redis-server with the machine's settings on a free
// port, pinned to cpu.
func privateRedis(cpu string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""}
	var cmd *exec.Cmd
	if _, err := exec.LookPath("taskset"); err == nil {
		cmd = exec.Command("taskset", append([]string{"-c", cpu, "redis-server"}, args...)...)
	} else {
		cmd = exec.Command("redis-server", args...)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server: %w", err)
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	url = "redis://127.0.0.1:" + port + "/0"
	o, _ := redis.ParseURL(url)
	c := redis.NewClient(o)
	defer c.Close()
	for i := 0; ; i++ {
		if c.Ping(context.Background()).Err() == nil {
			return url, stop, nil
		}
		if i == 100 {
			stop()
			return "", nil, errors.New("private redis-server does not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func orchestrate(cfg config) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	_, tasksetErr := exec.LookPath("taskset")
	pinned := func(cpu string, args ...string) *exec.Cmd {
		if tasksetErr == nil {
			return exec.Command("taskset", append([]string{"-c", cpu, self}, args...)...)
		}
		return exec.Command(self, args...)
	}

	var rdb *redis.Client
	redisURL := cfg.redisURL
	setup := ""
	if cfg.queue == "redis" {
		switch cfg.redisCPU {
		case "machine":
			setup = "Redis " + redisURL + " unpinned"
		case "0", "1":
			url, stop, err := privateRedis(cfg.redisCPU)
			if err != nil {
				return err
			}
			defer stop()
			redisURL = url
			setup = "private redis-server on CPU " + cfg.redisCPU
		default:
			return fmt.Errorf("-redis-cpu %q: want 0, 1 or machine", cfg.redisCPU)
		}
		o, err := redis.ParseURL(redisURL)
		if err != nil {
			return err
		}
		rdb = redis.NewClient(o)
		defer rdb.Close()
	}

	ctx := context.Background()
	measure := func(kind string, round int) (result, error) {
		var res result
		args := []string{"-role", "server", "-server", kind, "-queue", cfg.queue, "-redis", redisURL}
		if cfg.cpuprofile != "" {
			args = append(args, "-cpuprofile", fmt.Sprintf("%s-%s-%d.pprof", cfg.cpuprofile, kind, round))
		}
		if cfg.trace != "" {
			args = append(args, "-trace", fmt.Sprintf("%s-%s-%d.trace", cfg.trace, kind, round))
		}
		srv := pinned("0", args...)
		srv.Env = append(os.Environ(), "GOMAXPROCS=1")
		stdin, _ := srv.StdinPipe()
		stdout, _ := srv.StdoutPipe()
		srv.Stderr = os.Stderr
		if err := srv.Start(); err != nil {
			return res, err
		}
		defer func() { stdin.Close(); srv.Wait() }()
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			return res, fmt.Errorf("server %s: %w", kind, err)
		}
		srvBefore, err := procCPU(srv.Process.Pid)
		if err != nil {
			return res, err
		}
		var rsBefore redisStats
		if rdb != nil {
			if rsBefore, err = readRedisStats(ctx, rdb); err != nil {
				return res, err
			}
		}
		busy0, busy1 := cpuBusy()
		cl := pinned("1", "-role", "client", "-addr", strings.TrimSpace(addr), "-conns", strconv.Itoa(cfg.conns), "-duration", cfg.d.String())
		cl.Stderr = os.Stderr
		out, err := cl.Output()
		if err != nil {
			return res, fmt.Errorf("client against %s: %w", kind, err)
		}
		srvAfter, err := procCPU(srv.Process.Pid)
		if err != nil {
			return res, err
		}
		after0, after1 := cpuBusy()
		var rsAfter redisStats
		if rdb != nil {
			if rsAfter, err = readRedisStats(ctx, rdb); err != nil {
				return res, err
			}
		}
		var n int64
		var secs float64
		if _, err := fmt.Sscan(string(out), &n, &secs, &res.p50, &res.p99); err != nil || n == 0 || secs <= 0 {
			return res, fmt.Errorf("client output %q: %v", out, err)
		}
		res.rate = float64(n) / secs
		res.serverUS = float64((srvAfter - srvBefore).Microseconds()) / float64(n)
		res.serverUtil = (srvAfter - srvBefore).Seconds() / secs
		var clientCPU, redisCPU time.Duration
		if ru, ok := cl.ProcessState.SysUsage().(*syscall.Rusage); ok {
			clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			res.clientUtil = clientCPU.Seconds() / secs
			res.clientUS = float64(clientCPU.Microseconds()) / float64(n)
		}
		if rdb != nil {
			redisCPU = rsAfter.cpu - rsBefore.cpu
			res.redisUS = float64(redisCPU.Microseconds()) / float64(n)
			res.redisUtil = redisCPU.Seconds() / secs
			if ds := rsAfter.script - rsBefore.script; ds > 0 && kind == "ingest" {
				res.hitsPerScript = float64(rsAfter.xadd-rsBefore.xadd) / float64(ds)
			}
		}
		// What else ran on our CPUs (other processes, interrupts not
		// charged to ours): noise that the alternation of rounds evens out.
		ours0, ours1 := srvAfter-srvBefore, clientCPU
		switch cfg.redisCPU {
		case "0":
			ours0 += redisCPU
		case "1":
			ours1 += redisCPU
		}
		res.other0 = max(0, (after0-busy0-ours0).Seconds()/secs)
		res.other1 = max(0, (after1-busy1-ours1).Seconds()/secs)
		return res, nil
	}
	cleanRedis := func() {
		if rdb != nil && cfg.redisCPU != "machine" {
			rdb.FlushAll(ctx)
		}
	}

	label := cfg.queue + " queue"
	if setup != "" {
		label += ", " + setup
	}
	fmt.Printf("ingestload: %s; server GOMAXPROCS=1%s; %d connections; %v per run\n", label,
		map[bool]string{true: " pinned to CPU 0, client on CPU 1", false: " (no taskset: unpinned)"}[tasksetErr == nil], cfg.conns, cfg.d)
	var hello, ing []result
	for r := 1; r <= cfg.rounds; r++ {
		h, err := measure("hello", r)
		if err != nil {
			return err
		}
		i, err := measure("ingest", r)
		if err != nil {
			return err
		}
		cleanRedis()
		hello, ing = append(hello, h), append(ing, i)
		fmt.Printf("round %d: hello-world %8.0f req/s   ingest (%s) %8.0f req/s   ratio %.0f%%\n", r, h.rate, cfg.queue+" queue", i.rate, 100*i.rate/h.rate)
		fmt.Printf("         hello:  %s\n         ingest: %s\n", h.detail(false), i.detail(rdb != nil))
	}
	mh, mi := medianOf(hello), medianOf(ing)
	fmt.Printf("median:  hello-world %8.0f req/s   ingest (%s) %8.0f req/s   ratio %.0f%%  (%s)\n", mh.rate, cfg.queue+" queue", mi.rate, 100*mi.rate/mh.rate, label)
	fmt.Printf("         hello:  %s\n         ingest: %s\n", mh.detail(false), mi.detail(rdb != nil))
	ingCPU := mi.serverUS + mi.redisUS
	fmt.Printf("cpu:     hello-world %.1f µs/req   ingest %.1f µs/req (server %.1f + redis %.1f)   cpu ratio %.0f%%  (hello µs/req ÷ ingest µs/req)\n",
		mh.serverUS, ingCPU, mi.serverUS, mi.redisUS, 100*mh.serverUS/ingCPU)
	return nil
}

func (r result) detail(withRedis bool) string {
	s := fmt.Sprintf("server %5.1f µs CPU/req (%3.0f%% busy)", r.serverUS, 100*r.serverUtil)
	if withRedis {
		s += fmt.Sprintf("  redis %5.1f µs CPU/req (%3.0f%% busy)  %4.1f hits/script call", r.redisUS, 100*r.redisUtil, r.hitsPerScript)
	}
	return s + fmt.Sprintf("  client %4.1f µs CPU/req (%3.0f%% busy)  latency p50 %.0f µs p99 %.0f µs  others on CPU 0 %.0f%%, CPU 1 %.0f%%",
		r.clientUS, 100*r.clientUtil, r.p50, r.p99, 100*r.other0, 100*r.other1)
}

// medianOf returns the per-field medians.
func medianOf(rs []result) result {
	f := func(get func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = get(r)
		}
		return median(xs)
	}
	return result{
		rate:          f(func(r result) float64 { return r.rate }),
		serverUS:      f(func(r result) float64 { return r.serverUS }),
		serverUtil:    f(func(r result) float64 { return r.serverUtil }),
		redisUS:       f(func(r result) float64 { return r.redisUS }),
		redisUtil:     f(func(r result) float64 { return r.redisUtil }),
		clientUtil:    f(func(r result) float64 { return r.clientUtil }),
		clientUS:      f(func(r result) float64 { return r.clientUS }),
		hitsPerScript: f(func(r result) float64 { return r.hitsPerScript }),
		p50:           f(func(r result) float64 { return r.p50 }),
		p99:           f(func(r result) float64 { return r.p99 }),
		other0:        f(func(r result) float64 { return r.other0 }),
		other1:        f(func(r result) float64 { return r.other1 }),
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
