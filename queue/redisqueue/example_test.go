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
	defer q.Close()
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
}
