// Package queuetest is the conformance suite of analytics.Queue drivers.
//
// A driver's test supplies a Harness that makes fresh, isolated queues and
// declares the optional behaviour it claims in Features; Run then checks the
// Queue contract of package analytics as subtests:
//
//   - every field of a Hit survives Enqueue and Receive, and Receive sets a
//     non-zero Position that strictly increases within a shard;
//   - one visitor's hits are delivered in order, across batches and
//     concurrent consumers, and each exactly once when every delivery is
//     acknowledged;
//   - a shard has at most one outstanding Delivery;
//   - Receive returns at most max hits, returns as soon as one is ready,
//     blocks while the queue is empty and honours its context;
//   - Ack removes hits; Nack gives them back ahead of newer hits with the
//     same Positions and a higher Attempt; a second Ack or Nack fails with
//     analytics.ErrConflict;
//   - a Delivery that is never acknowledged (a dead worker) is delivered
//     again after the ack timeout with the same Positions, so the store's
//     shard checkpoint can skip what the dead worker already committed;
//   - Close refuses new hits, lets Receive drain what is queued, then makes
//     it return analytics.ErrClosed, and wakes a blocked Receive;
//   - Stats reports depth, in-flight hits and the age of the oldest hit;
//   - a stress run of concurrent producers and consumers that ack and nack
//     at random loses nothing and duplicates nothing that was acknowledged;
//   - Enqueue with a cancelled context fails.
//
// Dead-lettering (analytics.DeadLetterer) and durability across a reopen
// are checked when Features claims them.
//
// Usage, in a driver's _test.go file:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T) queuetest.Harness { return harness{} },
//			queuetest.Features{DeadLetter: true, StatsInFlight: true})
//	}
//
// The suite runs its subtests in parallel, needs no injected clock (drivers
// get a short ack timeout through Options and the suite waits with polling
// deadlines, never asserting speed) and takes a few seconds under -race.
package queuetest
