package redisqueue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/redisqueue"
)

func ExampleOpen() {
	q, err := redisqueue.Open("redis://127.0.0.1:6379/0", redisqueue.Options{Prefix: "example", Shards: 16})
	if err != nil {
		fmt.Println("no Redis:", err)
		return
	}
	ctx := context.Background()

	// Ingest: enqueue a hit.
	now := time.Now()
	err = q.Enqueue(ctx, []analytics.Hit{{ID: analytics.NewHitID(now), SiteID: 1, Time: now, Kind: analytics.KindPageview}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Worker: take a delivery of one shard, apply it, acknowledge it.
	d, err := q.Receive(ctx, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Shard != "", len(d.Hits) > 0)
	if err := d.Ack(ctx); err != nil {
		fmt.Println(err)
	}

	// Shutdown: stop enqueueing, drain the shards this consumer holds
	// (Receive fails with ErrClosed once they are empty), then wait until
	// it has left, so that the other workers take its shards at once.
	q.Close()
	for {
		d, err := q.Receive(ctx, 100)
		if err != nil {
			break
		}
		d.Ack(ctx)
	}
	<-q.Done()
}
