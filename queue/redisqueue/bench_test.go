package redisqueue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

var benchUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
}

// realisticHit is a JavaScript-tracker page view of one of many visitors:
// a ~60-character URL, ~30-character title, a common browser user agent,
// `_id`, `pv_id`, resolution, 8 plugin flags, local time, no uadata.
func realisticHit(rng *rand.Rand) analytics.Hit {
	now := time.Now()
	var cookie analytics.VisitorID
	for i := range cookie {
		cookie[i] = byte(rng.Uint32())
	}
	return analytics.Hit{
		ID:         analytics.NewHitID(now),
		SiteID:     1 + rng.IntN(20),
		Time:       now,
		Kind:       analytics.KindPageview,
		IP:         netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}),
		UserAgent:  benchUAs[rng.IntN(len(benchUAs))],
		Lang:       "en-US,en;q=0.9",
		CookieID:   cookie,
		URL:        fmt.Sprintf("https://www.example.com/blog/2026/%02d/post-number-%06d-title?src=nl", 1+rng.IntN(12), rng.IntN(1e6)),
		Title:      fmt.Sprintf("Post number %06d — Example Blog", rng.IntN(1e6)),
		PageViewID: strconv.FormatUint(1<<31+rng.Uint64()%(1<<35), 36),
		Device: analytics.Device{
			ScreenWidth: 1920, ScreenHeight: 1080,
			LocalHour: int8(rng.IntN(24)), LocalMinute: int8(rng.IntN(60)), LocalSecond: int8(rng.IntN(60)),
			Plugins: 0xff,
		},
	}
}

func benchQueue(b *testing.B, shards int) (*Queue, *redis.Client, string) {
	c := testClient(b)
	p := testPrefix(b, c)
	q, err := New(c, Options{Prefix: p, Shards: shards, DrainTimeout: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close() })
	return q, c, p
}

// cpuMeter measures the CPU time of this process (the client side) and of
// the Redis server (INFO cpu; a shared server also counts its other
// clients) over a benchmark.
type cpuMeter struct {
	c           *redis.Client
	self, redis time.Duration
}

func startCPU(c *redis.Client) *cpuMeter {
	return &cpuMeter{c: c, self: selfCPU(), redis: serverCPU(c)}
}

// report adds client-cpu-µs/hit and redis-cpu-µs/hit for n hits.
func (m *cpuMeter) report(b *testing.B, n int) {
	self, redis := selfCPU()-m.self, serverCPU(m.c)-m.redis
	b.ReportMetric(float64(self.Nanoseconds())/1000/float64(n), "client-cpu-µs/hit")
	b.ReportMetric(float64(redis.Nanoseconds())/1000/float64(n), "redis-cpu-µs/hit")
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU returns used_cpu_sys + used_cpu_user of INFO cpu.
func serverCPU(c *redis.Client) time.Duration {
	info, _ := c.Info(context.Background(), "cpu").Result()
	var d time.Duration
	for _, line := range strings.Split(info, "\n") {
		name, val, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			f, _ := strconv.ParseFloat(val, 64)
			d += time.Duration(f * float64(time.Second))
		}
	}
	return d
}

// BenchmarkEnqueue: one hit per call from 64 concurrent callers (the
// ingest pattern), against baselines measured in the same run: a naive
// XADD round trip per call, and the physical limit of the same encoded
// bytes written with raw pipelined XADDs (100 per pipeline, nobody
// waiting for a hit) from as many goroutines.
func BenchmarkEnqueue(b *testing.B) {
	const parallelism = 32 // × GOMAXPROCS goroutines
	b.Run("queue", func(b *testing.B) {
		q, c, _ := benchQueue(b, 16)
		rt := &scriptCounter{}
		c.AddHook(rt)
		var seed atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		cpu := startCPU(c)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 1))
			h := []analytics.Hit{realisticHit(rng)}
			for pb.Next() {
				if err := q.Enqueue(context.Background(), h); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
		cpu.report(b, b.N)
		b.ReportMetric(float64(b.N)/float64(max(rt.n.Load(), 1)), "hits/roundtrip")
	})
	b.Run("queue-batchwait-1ms", func(b *testing.B) {
		c := testClient(b)
		q, err := New(c, Options{Prefix: testPrefix(b, c), Shards: 16, DrainTimeout: -1, BatchWait: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer q.Close()
		var seed atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		cpu := startCPU(c)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 1))
			h := []analytics.Hit{realisticHit(rng)}
			for pb.Next() {
				if err := q.Enqueue(context.Background(), h); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
		cpu.report(b, b.N)
	})
	// A naive driver: one XADD round trip per call.
	b.Run("raw-xadd-per-call", func(b *testing.B) {
		_, c, p := benchQueue(b, 16)
		var seed atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		cpu := startCPU(c)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 1))
			h := realisticHit(rng)
			enc := hitcodec.Append(nil, &h)
			key := p + ":s:" + strconv.Itoa(int(h.ShardKey()%16))
			for pb.Next() {
				if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []any{"h", enc}}).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
		cpu.report(b, b.N)
	})
	// The physical limit: 100 XADDs per pipeline, no caller waiting.
	b.Run("raw-pipelined-xadd", func(b *testing.B) {
		_, c, p := benchQueue(b, 16)
		var seed atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		cpu := startCPU(c)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 1))
			h := realisticHit(rng)
			enc := hitcodec.Append(nil, &h)
			key := p + ":s:" + strconv.Itoa(int(h.ShardKey()%16))
			pipe := c.Pipeline()
			n := 0
			for pb.Next() {
				pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []any{"h", enc}})
				if n++; n == 100 {
					if _, err := pipe.Exec(context.Background()); err != nil {
						b.Error(err)
						return
					}
					n = 0
				}
			}
			if n > 0 {
				pipe.Exec(context.Background())
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
		cpu.report(b, b.N)
	})
}

// BenchmarkReceiveAck: a worker receiving batches of up to 100 hits and
// acking each (fenced Lua read and ack), against raw XREADGROUP COUNT 100
// followed by XACK+XDEL in one pipeline.
func BenchmarkReceiveAck(b *testing.B) {
	fill := func(b *testing.B, q *Queue, n int) {
		rng := rand.New(rand.NewPCG(1, 2))
		batch := make([]analytics.Hit, 0, 500)
		for i := range n {
			batch = append(batch, realisticHit(rng))
			if len(batch) == cap(batch) || i == n-1 {
				if err := q.Enqueue(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	b.Run("queue", func(b *testing.B) {
		q, _, _ := benchQueue(b, 16)
		fill(b, q, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for got := 0; got < b.N; {
			d, err := q.Receive(context.Background(), 100)
			if err != nil {
				b.Fatal(err)
			}
			got += len(d.Hits)
			if err := d.Ack(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
	})
	b.Run("raw-xreadgroup-xack", func(b *testing.B) {
		q, c, p := benchQueue(b, 16)
		fill(b, q, b.N)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for got, n := 0, 0; got < b.N; n = (n + 1) % 16 {
			key := p + ":s:" + strconv.Itoa(n)
			res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: owner, Streams: []string{key, ">"}, Count: 100, Block: -1}).Result()
			if err == redis.Nil {
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			var ids []string
			for _, m := range res[0].Messages {
				raw, _ := m.Values["h"].(string)
				if _, err := hitcodec.Decode([]byte(raw)); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, m.ID)
			}
			pipe := c.Pipeline()
			pipe.XAck(ctx, key, group, ids...)
			pipe.XDel(ctx, key, ids...)
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			got += len(ids)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
	})
}

// measureBytesPerHit enqueues n realistic hits into a fresh 16-shard
// queue and returns the streams' MEMORY USAGE (SAMPLES 0) and the
// used_memory delta, per hit, and the mean encoded size.
func measureBytesPerHit(t testing.TB, n int) (streamBytes, usedDelta, encoded float64) {
	c := testClient(t)
	p := testPrefix(t, c)
	q, err := New(c, Options{Prefix: p, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	before, err := usedMemory(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var enc int
	batch := make([]analytics.Hit, 0, 1000)
	for i := range n {
		h := realisticHit(rng)
		enc += len(hitcodec.Append(nil, &h))
		batch = append(batch, h)
		if len(batch) == cap(batch) || i == n-1 {
			if err := q.Enqueue(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	after, err := usedMemory(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range q.keys.streams {
		m, err := c.MemoryUsage(ctx, s, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += m
	}
	return float64(total) / float64(n), float64(after-before) / float64(n), float64(enc) / float64(n)
}

// TestBytesPerHit holds the memory budget: at most 350 bytes of Redis
// memory per queued realistic hit.
func TestBytesPerHit(t *testing.T) {
	stream, used, enc := measureBytesPerHit(t, 20000)
	t.Logf("20000 hits: %.0f B/hit in the streams (MEMORY USAGE SAMPLES 0), %.0f B/hit used_memory delta, %.0f B/hit encoded", stream, used, enc)
	if stream > 350 {
		t.Errorf("%.0f bytes of stream memory per hit, budget 350", stream)
	}
}

// BenchmarkQueueBytesPerHit reports the memory per hit for 100 000 hits
// (b.N is ignored: one measurement per run).
func BenchmarkQueueBytesPerHit(b *testing.B) {
	for b.Loop() {
	}
	stream, used, enc := measureBytesPerHit(b, 100000)
	b.ReportMetric(stream, "stream-B/hit")
	b.ReportMetric(used, "used_memory-B/hit")
	b.ReportMetric(enc, "encoded-B/hit")
	b.ReportMetric(2048, "matomo-B/hit")
}
