package redisqueue

import (
	"context"
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
