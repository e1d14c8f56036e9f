package redisqueue

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/spool"
)

// crashProxy forwards TCP connections to Redis. crash makes it behave like
// a Redis server killed right after executing a command: the reply of
// whatever is in flight is lost, every connection is cut and the port is
// closed, so that client retries fail at dial ("connection refused").
type crashProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	conns   []net.Conn
	swallow chan struct{} // closed: replies are dropped
}

func newCrashProxy(t *testing.T, target string) *crashProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &crashProxy{ln: ln, target: target, swallow: make(chan struct{})}
	go p.serve()
	t.Cleanup(p.cut)
	return p
}

func (p *crashProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := up.Read(buf)
				select {
				case <-p.swallow:
				default:
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
				}
				if err != nil {
					c.Close()
					return
				}
			}
		}()
	}
}

// crash drops replies from now on; after d (Redis has executed what it
// was sent) it cuts every connection and closes the port.
func (p *crashProxy) crash(d time.Duration) {
	close(p.swallow)
	time.AfterFunc(d, p.cut)
}

func (p *crashProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestEnqueueLostReplyThenRefused: Redis applies an enqueue round trip and
// dies before replying; go-redis retries and its last error is a refused
// dial. That error must not read as "nothing was sent": Enqueue must
// return an *EnqueueError whose token lets the spool's replay drop the
// hits, or they are stored twice (found by faulttest's Redis restart).
func TestEnqueueLostReplyThenRefused(t *testing.T) {
	direct := testClient(t)
	prefix := testPrefix(t, direct)
	u, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	px := newCrashProxy(t, u.Addr)
	o := *u
	o.Addr = px.ln.Addr().String()
	o.DialTimeout = 200 * time.Millisecond
	viaProxy := redis.NewClient(&o)
	t.Cleanup(func() { viaProxy.Close() })
	q := newQ(t, viaProxy, prefix, Options{Shards: 1})

	hits := vhits(1, 0, 3)
	px.crash(300 * time.Millisecond)
	err = q.Enqueue(t.Context(), hits)
	if n, _ := direct.XLen(t.Context(), prefix+":s:0").Result(); n != 3 {
		t.Fatalf("the round trip was not applied (%d entries): the test did not reproduce a lost reply; Enqueue: %v", n, err)
	}
	var ee *EnqueueError
	if !errors.As(err, &ee) {
		t.Fatalf("Enqueue whose round trip was applied but whose reply was lost = %v, want an *EnqueueError (outcome unknown)", err)
	}

	// The spool replays the hits with the token: they must be dropped.
	q2 := newQ(t, direct, prefix, Options{Shards: 1})
	rec := spool.Record{Seq: 1, Token: ee.EnqueueToken(), Hits: hits}
	if err := q2.EnqueueSpooled(t.Context(), spool.Batch{Spool: "s1", Records: []spool.Record{rec}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := direct.XLen(t.Context(), prefix+":s:0").Result(); n != 3 {
		t.Errorf("after the spool's replay the stream has %d entries, want 3 (no duplicates)", n)
	}
}
