package redisqueue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics/internal/testenv"
)

// testClient connects to the test Redis (or skips; fails in CI).
func testClient(t testing.TB) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("redis URL: %v", err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a fresh key prefix whose keys are deleted when t ends.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	p := testenv.Name("rq")
	t.Cleanup(func() { deletePrefix(t, c, p) })
	return p
}

func deletePrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleaning up prefix %s: %v", prefix, err)
	}
}

// scriptCounter is a go-redis hook that counts enqueue script calls
// (EVALSHA/EVAL of scriptEnqueue): the enqueue round trips.
type scriptCounter struct{ n atomic.Int64 }

func (h *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); len(args) > 1 {
			if s, _ := args[1].(string); s == scriptEnqueue.Hash() || s == enqueueSource {
				h.n.Add(1)
			}
		}
		return next(ctx, cmd)
	}
}

func (h *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
