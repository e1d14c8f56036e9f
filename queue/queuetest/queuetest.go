package queuetest

import (
	"context"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// Harness makes queues for the suite. Each subtest gets its own Harness
// from the newHarness function given to Run, so a harness may keep
// per-test state (a key prefix, a database name) and register its cleanup
// with t.Cleanup.
type Harness interface {
	// MakeQueue returns a fresh, empty queue isolated from every other
	// test (its own key prefix, database or process state), configured
	// from opts. The suite closes it when the test ends; the harness
	// releases whatever else it created.
	MakeQueue(ctx context.Context, t *testing.T, opts Options) (analytics.Queue, error)
}

// Reopener is implemented by harnesses of durable drivers (Features.Durable).
type Reopener interface {
	// ReopenQueue returns a new Queue over the same backend as q — the
	// same shards and the same stored hits — as a process restart would
	// see it. q has been closed by the suite, possibly with hits still
	// queued and deliveries outstanding.
	ReopenQueue(ctx context.Context, t *testing.T, q analytics.Queue, opts Options) (analytics.Queue, error)
}

// Options are the settings the suite asks of a queue. Drivers map them to
// their own options.
type Options struct {
	// Shards is the number of shards; always at least 1.
	Shards int
	// AckTimeout is how long a Delivery may stay unacknowledged before it
	// is delivered again. The suite uses a short one (200ms) in the tests
	// about redelivery and a long one (30s) elsewhere, where a spurious
	// redelivery would be a bug.
	AckTimeout time.Duration
}

// Features declares what a driver claims beyond the mandatory contract.
// The zero value claims nothing optional.
type Features struct {
	// Durable: accepted hits survive Close and a reopen of the queue over
	// the same backend (the harness implements Reopener), keeping their
	// Positions; unacknowledged deliveries are delivered again after the
	// reopen.
	Durable bool
	// DeadLetter: the queue implements analytics.DeadLetterer.
	DeadLetter bool
	// AsyncEnqueue: Enqueue may accept hits into a local buffer or spool,
	// so a failed Enqueue (for example with a cancelled context) may still
	// have accepted some. Without it the suite checks that an Enqueue with
	// a cancelled context accepted nothing.
	AsyncEnqueue bool
	// StatsInFlight: QueueStats.InFlight counts exactly the hits of
	// outstanding deliveries.
	StatsInFlight bool
	// StatsOldestAge: QueueStats.OldestAge is the age of the oldest
	// unacknowledged hit (and zero when there is none).
	StatsOldestAge bool
	// StatsShards: QueueStats.Shards lists every shard, and their Depth
	// sums to QueueStats.Depth.
	StatsShards bool
}

// Timing of the suite.
const (
	// eventually bounds every wait for something that must happen.
	eventually = 10 * time.Second
	// quiet is how long the suite watches for something that must not
	// happen (a second delivery of a held shard, a hit in an empty queue).
	quiet = 150 * time.Millisecond
	// shortAckTimeout is the ack timeout of the redelivery tests.
	shortAckTimeout = 200 * time.Millisecond
	// longAckTimeout is the ack timeout everywhere else.
	longAckTimeout = 30 * time.Second
)

// suite is what every test gets.
type suite struct {
	newHarness func(t *testing.T) Harness
	f          Features
}

// Run runs the conformance suite against the driver that newHarness makes
// queues of. Each test is a parallel subtest of t and calls newHarness
// once.
func Run(t *testing.T, newHarness func(t *testing.T) Harness, f Features) {
	t.Helper()
	s := &suite{newHarness: newHarness, f: f}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"RoundTrip", testRoundTrip},
		{"Positions", testPositions},
		{"EnqueueEmpty", testEnqueueEmpty},
		{"EnqueueCancelled", testEnqueueCancelled},
		{"OrderOneVisitor", testOrderOneVisitor},
		{"OrderManyVisitors", testOrderManyVisitors},
		{"OneDeliveryPerShard", testOneDeliveryPerShard},
		{"ReceiveMax", testReceiveMax},
		{"ReceiveInvalidMax", testReceiveInvalidMax},
		{"ReceiveReturnsEarly", testReceiveReturnsEarly},
		{"ReceiveBlocksWhenEmpty", testReceiveBlocksWhenEmpty},
		{"ReceiveCancel", testReceiveCancel},
		{"Ack", testAck},
		{"Nack", testNack},
		{"AckConflict", testAckConflict},
		{"AckTimeoutRedelivery", testAckTimeoutRedelivery},
		{"LateAck", testLateAck},
		{"CloseRejectsEnqueue", testCloseRejectsEnqueue},
		{"CloseDrains", testCloseDrains},
		{"CloseWakesReceive", testCloseWakesReceive},
		{"Stats", testStats},
		{"Stress", testStress},
		{"DeadLetter", testDeadLetter},
		{"Durable", testDurable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s)
		})
	}
}

// makeQueue makes a queue with opts (defaults: 4 shards, long ack
// timeout) and closes it when t ends.
func (s *suite) makeQueue(t *testing.T, opts Options) analytics.Queue {
	t.Helper()
	if opts.Shards == 0 {
		opts.Shards = 4
	}
	if opts.AckTimeout == 0 {
		opts.AckTimeout = longAckTimeout
	}
	h := s.newHarness(t)
	q, err := h.MakeQueue(t.Context(), t, opts)
	if err != nil {
		t.Fatalf("MakeQueue(%+v): %v", opts, err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}
