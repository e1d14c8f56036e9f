package memqueue_test

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
)

// benchHits returns n page views as ingest makes them: cookie visitor
// ids, a browser user agent, a URL and a referrer.
func benchHits(n int) []analytics.Hit {
	hits := make([]analytics.Hit, n)
	now := time.Now()
	for i := range hits {
		hits[i] = analytics.Hit{
			ID:        analytics.NewHitID(now),
			SiteID:    1,
			Time:      now,
			Kind:      analytics.KindPageview,
			IP:        netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}),
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
			Lang:      "en-US,en;q=0.9",
			CookieID:  analytics.VisitorID{byte(i), byte(i >> 8), 3, 4, 5, 6, 7, 8},
			URL:       "https://www.example.com/blog/2026/03/some-article?utm_source=newsletter",
			Title:     "Some article — Example",
			Referrer:  "https://www.google.com/",
		}
	}
	return hits
}

// drain receives and acks everything queued, up to n hits.
func drain(b *testing.B, q *memqueue.Queue, n int) {
	ctx := context.Background()
	for got := 0; got < n; {
		d, err := q.Receive(ctx, 4096)
		if err != nil {
			b.Fatal(err)
		}
		got += len(d.Hits)
		if err := d.Ack(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueue: one hit per call, as ingest does per request. The
// queue is drained (untimed) every `backlog` hits: "shallow" is workers
// keeping up, "backlog" is workers 64k hits behind, so that the queue
// keeps growing its storage.
func BenchmarkEnqueue(b *testing.B) {
	for _, bc := range []struct {
		name    string
		backlog int
	}{{"shallow", 256}, {"backlog", 1 << 16}} {
		b.Run(bc.name, func(b *testing.B) {
			q, err := memqueue.New(memqueue.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			ctx := context.Background()
			hits := benchHits(1024)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := q.Enqueue(ctx, hits[i%len(hits):i%len(hits)+1]); err != nil {
					b.Fatal(err)
				}
				if (i+1)%bc.backlog == 0 {
					b.StopTimer()
					drain(b, q, bc.backlog)
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkEnqueueParallel: one hit per call from GOMAXPROCS goroutines,
// while a worker drains the queue as the ingest tier sees it. A full queue
// (the worker falling behind) is retried and counted in full/op.
func BenchmarkEnqueueParallel(b *testing.B) {
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			d, err := q.Receive(ctx, 4096)
			if err != nil {
				return
			}
			d.Ack(ctx)
		}
	})
	defer func() { cancel(); wg.Wait(); q.Close() }()
	hits := benchHits(1024)
	var full atomic.Int64
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(256))
		for pb.Next() {
			i++
			h := hits[i%len(hits) : i%len(hits)+1]
			for {
				err := q.Enqueue(ctx, h)
				if err == nil {
					break
				}
				if !errors.Is(err, analytics.ErrUnavailable) {
					b.Error(err)
					return
				}
				full.Add(1)
				runtime.Gosched()
			}
		}
	})
	b.ReportMetric(float64(full.Load())/float64(b.N), "full/op")
}

// BenchmarkReceiveAck: a worker taking batches of max hits and acking
// them; ns/op is per hit. Enqueueing the hits is not timed.
func BenchmarkReceiveAck(b *testing.B) {
	for _, bc := range []struct {
		name string
		max  int
	}{{"max=1", 1}, {"max=100", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			q, err := memqueue.New(memqueue.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			ctx := context.Background()
			hits := benchHits(4096)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				b.StopTimer()
				n := min(len(hits), b.N-done)
				if err := q.Enqueue(ctx, hits[:n]); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for got := 0; got < n; {
					d, err := q.Receive(ctx, bc.max)
					if err != nil {
						b.Fatal(err)
					}
					got += len(d.Hits)
					if err := d.Ack(ctx); err != nil {
						b.Fatal(err)
					}
				}
				done += n
			}
		})
	}
}

// BenchmarkBaseline: the floor under Enqueue, measured in the same run:
// the shard key alone, and the key plus a mutex-guarded append of the hit
// to a slice (what Enqueue does at least).
func BenchmarkBaseline(b *testing.B) {
	hits := benchHits(1024)
	b.Run("ShardKey", func(b *testing.B) {
		b.ReportAllocs()
		var sink uint64
		for i := range b.N {
			sink += hits[i%len(hits)].ShardKey()
		}
		_ = sink
	})
	b.Run("KeyLockAppend", func(b *testing.B) {
		var mu sync.Mutex
		buf := make([]analytics.Hit, 0, 1<<16)
		b.ReportAllocs()
		var sink uint64
		for i := range b.N {
			h := &hits[i%len(hits)]
			sink += h.ShardKey() % 16
			mu.Lock()
			if len(buf) == cap(buf) {
				buf = buf[:0]
			}
			buf = append(buf, *h)
			mu.Unlock()
		}
		_ = sink
	})
}
