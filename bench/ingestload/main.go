// Command ingestload measures the full HTTP ingest path against the
// physical limit of the machine: a hello-world net/http handler, served and
// loaded the same way in the same run. It reports requests per second of
// each and their ratio (the ingest target is ≥ 60% of hello-world).
//
//	go run ./bench/ingestload                        # in-memory queue
//	go run ./bench/ingestload -queue redis            # Redis queue (redis://127.0.0.1:6379/0)
//	go run ./bench/ingestload -duration 10s -rounds 5 -conns 64
//
// The server runs in its own process with GOMAXPROCS=1, pinned to CPU 0
// when taskset exists; the load generator runs in another process pinned to
// CPU 1. The generator writes raw keep-alive HTTP/1.1 requests (no
// net/http client) so that it is not the bottleneck. Each request is a
// realistic JavaScript-tracker page view with its own visitor id. Rounds
// alternate hello-world and ingest so that noise from other load on the
// machine hits both; the medians are compared.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/queue/redisqueue"
)

func main() {
	role := flag.String("role", "", "internal: server or client")
	kind := flag.String("server", "hello", "internal: hello or ingest")
	queue := flag.String("queue", "memory", "queue of the ingest server: memory or redis")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis URL for -queue redis")
	addr := flag.String("addr", "", "internal: address to load")
	duration := flag.Duration("duration", 5*time.Second, "length of one measurement")
	rounds := flag.Int("rounds", 3, "measurements of each server")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	flag.Parse()
	var err error
	switch *role {
	case "server":
		err = serve(*kind, *queue, *redisURL)
	case "client":
		err = load(*addr, *conns, *duration)
	default:
		err = orchestrate(*queue, *redisURL, *duration, *rounds, *conns)
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

func serve(kind, queue, redisURL string) error {
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
			rq, err := redisqueue.Open(redisURL, redisqueue.Options{Prefix: "ffbench" + strconv.Itoa(os.Getpid())})
			if err != nil {
				return err
			}
			defer cleanupRedis(rq)
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

func cleanupRedis(q *redisqueue.Queue) { q.Close() }

const pageview = "/matomo.php?idsite=1&rec=1&r=%06d&h=14&m=3&s=27&url=https%%3A%%2F%%2Fshop.example%%2Fproducts%%2Fred-shoes%%3Fcolor%%3Dred" +
	"&urlref=https%%3A%%2F%%2Fwww.google.com%%2F&action_name=Red%%20shoes%%20%%E2%%80%%93%%20Shop&_id=%016x&_idn=0" +
	"&send_image=0&pv_id=a1B2c3&pdf=1&qt=0&realp=0&wma=0&fla=0&java=0&ag=0&cookie=1&res=1920x1080" +
	"&pf_net=0&pf_srv=35&pf_tfr=2&pf_dm1=180&pf_dm2=40&pf_onl=1"

// load drives addr with conns connections for d and prints req/s.
func load(addr string, conns int, d time.Duration) error {
	var total atomic.Int64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			n, err := loadConn(ctx, addr, c)
			total.Add(n)
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
	fmt.Printf("%.0f\n", float64(total.Load())/el.Seconds())
	return nil
}

func loadConn(ctx context.Context, addr string, c int) (int64, error) {
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
		if _, err := conn.Write(req.Bytes()); err != nil {
			return n, err
		}
		if err := readResponse(br); err != nil {
			return n, err
		}
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

func orchestrate(queue, redisURL string, d time.Duration, rounds, conns int) error {
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
	measure := func(kind string) (float64, error) {
		srv := pinned("0", "-role", "server", "-server", kind, "-queue", queue, "-redis", redisURL)
		srv.Env = append(os.Environ(), "GOMAXPROCS=1")
		stdin, _ := srv.StdinPipe()
		stdout, _ := srv.StdoutPipe()
		srv.Stderr = os.Stderr
		if err := srv.Start(); err != nil {
			return 0, err
		}
		defer func() { stdin.Close(); srv.Wait() }()
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("server %s: %w", kind, err)
		}
		cl := pinned("1", "-role", "client", "-addr", strings.TrimSpace(addr), "-conns", strconv.Itoa(conns), "-duration", d.String())
		cl.Stderr = os.Stderr
		out, err := cl.Output()
		if err != nil {
			return 0, fmt.Errorf("client against %s: %w", kind, err)
		}
		return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	}
	var hello, ing []float64
	for r := 0; r < rounds; r++ {
		h, err := measure("hello")
		if err != nil {
			return err
		}
		i, err := measure("ingest")
		if err != nil {
			return err
		}
		hello, ing = append(hello, h), append(ing, i)
		fmt.Printf("round %d: hello-world %8.0f req/s   ingest (%s queue) %8.0f req/s   ratio %.0f%%\n", r+1, h, queue, i, 100*i/h)
	}
	mh, mi := median(hello), median(ing)
	fmt.Printf("median:  hello-world %8.0f req/s   ingest (%s queue) %8.0f req/s   ratio %.0f%%  (server GOMAXPROCS=1%s, %d connections, %v per run)\n",
		mh, queue, mi, 100*mi/mh, map[bool]string{true: " pinned to CPU 0, client on CPU 1", false: ""}[tasksetErr == nil], conns, d)
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
