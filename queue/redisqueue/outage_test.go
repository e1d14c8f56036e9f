package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/spool"
)

// proxy forwards TCP connections to Redis and can cut them all.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// setDown cuts every connection (mid-command ones included) and refuses
// new ones while down.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

// TestOutageWithSpool: producers keep enqueueing through a spool while
// Redis is cut again and again (connections dropped mid-command); every
// Enqueue succeeds, and in the end every hit is in Redis exactly once,
// each visitor's in order.
func TestOutageWithSpool(t *testing.T) {
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	direct := testClient(t)
	prefix := testPrefix(t, direct)
	px := newProxy(t, u.Host)
	viaProxy := redis.NewClient(&redis.Options{
		Addr: px.ln.Addr().String(), DB: 0,
		DialTimeout: 100 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
	})
	if u.Path != "" && u.Path != "/" && u.Path != "/0" {
		t.Skipf("test Redis URL selects a database (%s); the proxy test uses db 0", u.Path)
	}
	defer viaProxy.Close()
	q, err := New(viaProxy, Options{Prefix: prefix, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := spool.New(q, spool.Options{Dir: t.TempDir(), RetryInterval: 20 * time.Millisecond, Logger: hclog.New(&hclog.LoggerOptions{Output: logs})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- s.Run(ctx) }()

	// Each producer sends at least minPerProducer hits and goes on until
	// Redis has been cut minOutages times and the spool has taken hits,
	// so that the outages hit enqueues however fast those are.
	const producers, minPerProducer, maxPerProducer, visitors, minOutages = 4, 400, 20000, 5, 3
	spooled := func() bool { return strings.Contains(logs.String(), "spooling to disk") }
	stop := make(chan struct{})
	var chaos sync.WaitGroup
	var outages atomic.Int32

	chaos.Go(func() {
		rng := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-stop:
				px.setDown(false)
				return
			case <-time.After(time.Duration(30+rng.IntN(60)) * time.Millisecond):
			}
			px.setDown(true)
			time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond)
			px.setDown(false)
			outages.Add(1)
		}
	})
	var wg sync.WaitGroup
	var sent [producers]int
	for pr := range producers {
		wg.Go(func() {
			for i := 0; i < maxPerProducer && (i < minPerProducer || outages.Load() < minOutages || !spooled()); i++ {
				v := pr*visitors + i%visitors
				if err := s.Enqueue(t.Context(), []analytics.Hit{vhit(v, i/visitors)}); err != nil {
					t.Errorf("producer %d: Enqueue: %v", pr, err)
					return
				}
				sent[pr]++
			}
		})
	}
	wg.Wait()
	close(stop)
	chaos.Wait()
	if n := strings.Count(logs.String(), "spooling to disk"); !spooled() {
		t.Errorf("the outages never made the spool take hits: the test did not test the spool")
	} else {
		t.Logf("spooled to disk %d times", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if h, _ := s.Spooled(); h == 0 {
			break
		}
		if time.Now().After(deadline) {
			h, b := s.Spooled()
			t.Fatalf("spool still holds %d hits (%d bytes)", h, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}

	// Read everything back directly.
	q2 := newQ(t, direct, prefix, Options{})
	seen := map[analytics.HitID]bool{}
	next := map[string]int{}
	total := 0
	for _, n := range sent {
		total += n
	}
	t.Logf("%d hits through %d outages", total, outages.Load())
	for got := 0; got < total; {
		rctx, rcancel := context.WithTimeout(t.Context(), 5*time.Second)
		d, err := q2.Receive(rctx, 200)
		rcancel()
		if err != nil {
			var lens []int64
			for n := range 4 {
				l, _ := direct.XLen(t.Context(), prefix+":s:"+fmt.Sprint(n)).Result()
				lens = append(lens, l)
			}
			st, _ := q2.Stats(t.Context())
			t.Fatalf("Receive after %d of %d hits: %v; stream lengths %v; stats %+v; next %v", got, total, err, lens, st, next)
		}
		for _, h := range d.Hits {
			if seen[h.ID] {
				t.Fatalf("hit %s (%s) delivered twice", h.ID, h.PageViewID)
			}
			seen[h.ID] = true
			var v, seq int
			if _, err := fmt.Sscanf(h.PageViewID, "%d:%d", &v, &seq); err != nil {
				t.Fatal(err)
			}
			if want := next[h.UserID]; seq != want {
				t.Fatalf("visitor %s: hit %d after %d", h.UserID, seq, want-1)
			}
			next[h.UserID] = seq + 1
		}
		got += len(d.Hits)
		d.Ack(t.Context())
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if d, err := q2.Receive(ctx2, 10); err == nil {
		t.Fatalf("%d extra hits after all %d: duplicates", len(d.Hits), total)
	}
	s.Close()
}

// syncBuffer is a strings.Builder safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
