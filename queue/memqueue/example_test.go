package memqueue_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
)

func ExampleNew() {
	ctx := context.Background()
	q, err := memqueue.New(memqueue.Options{Shards: 4})
	if err != nil {
		panic(err)
	}

	// Ingest enqueues parsed hits.
	hit := analytics.Hit{
		ID:        analytics.NewHitID(time.Now()),
		SiteID:    1,
		Time:      time.Now(),
		Kind:      analytics.KindPageview,
		IP:        netip.MustParseAddr("192.0.2.1"),
		UserAgent: "Mozilla/5.0",
		UserID:    "alice",
		URL:       "https://example.com/",
	}
	if err := q.Enqueue(ctx, []analytics.Hit{hit}); err != nil {
		panic(err)
	}

	// A worker receives a batch of one shard, commits it, then acks.
	d, err := q.Receive(ctx, 100)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Shard, len(d.Hits), d.Hits[0].URL, d.Attempt)
	if err := d.Ack(ctx); err != nil {
		panic(err)
	}

	// Graceful shutdown: Close, then drain until ErrClosed.
	q.Close()
	_, err = q.Receive(ctx, 100)
	fmt.Println(errors.Is(err, analytics.ErrClosed))
	// Output:
	// mem/0 1 https://example.com/ 1
	// true
}

func ExampleQueue_DeadLetter() {
	ctx := context.Background()
	q, _ := memqueue.New(memqueue.Options{})
	defer q.Close()
	q.Enqueue(ctx, []analytics.Hit{{SiteID: 1, Kind: analytics.KindPageview, UserID: "bob", URL: "https://example.com/a"}})

	d, _ := q.Receive(ctx, 10)
	// The hit cannot be processed, whatever the retries: set it aside so
	// that it no longer blocks its shard, then settle the rest.
	q.DeadLetter(ctx, d, d.Hits[:1], errors.New("site 1 does not exist"))
	d.Ack(ctx)

	for _, l := range q.DeadLetters() {
		fmt.Println(l.Shard != "", l.Hit.URL, l.Cause)
	}
	st, _ := q.Stats(ctx)
	fmt.Println("depth", st.Depth)
	// Output:
	// true https://example.com/a site 1 does not exist
	// depth 0
}
