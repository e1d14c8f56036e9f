package queuetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/queue/queuetest"
)

// harness makes memqueue queues for the suite; a Redis driver's harness
// would give each queue its own key prefix and delete it in t.Cleanup.
type harness struct{}

func (harness) MakeQueue(_ context.Context, _ *testing.T, o queuetest.Options) (analytics.Queue, error) {
	return memqueue.New(memqueue.Options{Shards: o.Shards, AckTimeout: o.AckTimeout})
}

// A driver runs the suite from one test function:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, func(*testing.T) queuetest.Harness { return harness{} },
//			queuetest.Features{DeadLetter: true, StatsInFlight: true})
//	}
func ExampleRun() {
	var h queuetest.Harness = harness{}
	_ = h
}

func ExampleFullHit() {
	h := queuetest.FullHit()
	fmt.Println(h.Kind, h.Order.OrderID, len(h.Order.Items), h.IP)
	// Output: ecommerce_order A-1 2 2001:db8:85a3::8a2e:370:7334
}
