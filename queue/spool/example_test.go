package spool_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/spool"
)

// downQueue is an inner queue whose backend is away.
type downQueue struct{ analytics.Queue }

func (downQueue) Enqueue(context.Context, []analytics.Hit) error {
	return fmt.Errorf("backend down: %w", analytics.ErrUnavailable)
}
func (downQueue) Close() error { return nil }

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(dir)
	q, err := spool.New(downQueue{}, spool.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer q.Close()
	// go q.Run(ctx) replays the hits once the inner queue is back.

	err = q.Enqueue(context.Background(), []analytics.Hit{{ID: analytics.NewHitID(time.Now()), SiteID: 1}})
	hits, _ := q.Spooled()
	fmt.Println(err, hits)
	// Output: <nil> 1
}
