package redisqueue

import (
	"context"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/queuetest"
)

type harness struct{ prefix string }

func (h *harness) MakeQueue(ctx context.Context, t *testing.T, o queuetest.Options) (analytics.Queue, error) {
	c := testClient(t)
	if h.prefix == "" {
		h.prefix = testPrefix(t, c)
	}
	return New(c, Options{Prefix: h.prefix, Shards: o.Shards, AckTimeout: o.AckTimeout})
}

func (h *harness) ReopenQueue(ctx context.Context, t *testing.T, q analytics.Queue, o queuetest.Options) (analytics.Queue, error) {
	return New(testClient(t), Options{Prefix: h.prefix, Shards: o.Shards, AckTimeout: o.AckTimeout})
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Harness { return &harness{} }, queuetest.Features{
		Durable:        true,
		DeadLetter:     true,
		StatsInFlight:  true,
		StatsOldestAge: true,
		StatsShards:    true,
	})
}
