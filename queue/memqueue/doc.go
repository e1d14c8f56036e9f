// Package memqueue is the in-process analytics.Queue, the embedded default:
// ingest and workers in one process, no service to run.
//
// # Semantics
//
// A Queue has Options.Shards shards; a hit goes to shard
// Hit.ShardKey() % Shards, named Options.Name+"/"+index ("mem/7"), so one
// visitor's hits stay in one shard, in order. Delivery is at least once:
//
//   - Receive hands out up to max hits of one shard that has no
//     outstanding Delivery, oldest first, taking ready shards in turn
//     (round robin) so that a busy shard cannot starve the others. It
//     returns as soon as one hit is ready.
//   - Ack removes the hits of a Delivery. Nack gives them back: they are
//     delivered again first, with the same Positions and the next
//     Attempt. A Delivery neither acked nor nacked within
//     Options.AckTimeout is given back the same way (its consumer is
//     presumed dead) and its late Ack fails with analytics.ErrConflict.
//   - DeadLetter (analytics.DeadLetterer) takes hits that always fail out
//     of their shard; DeadLetters lists them.
//
// Positions: Hi is a generation taken from the wall clock when the Queue
// is made (nanoseconds since 1970), Lo counts the shard's hits from 1. So
// the positions of a queue made after a process restart are greater than
// any checkpoint a store recorded before it, and a store keyed by shard
// name keeps working (assuming the clock did not go back).
//
// # Not durable
//
// Hits live in memory only: those not yet acknowledged when the process
// exits are lost, and a crash loses them all. Use it where that is
// acceptable (a single process, development, tests) and
// queue/redisqueue where it is not. For a graceful shutdown, stop ingest,
// Close the queue, and let the workers Receive until it returns
// analytics.ErrClosed: Close refuses new hits while Receive keeps handing
// out what is queued (and what is given back or expires) until every hit
// is acknowledged.
//
// # Limits and cost
//
// Options.MaxHits bounds the hits held; Enqueue beyond it fails with
// analytics.ErrUnavailable (backpressure, never a silent drop) and ingest
// answers 503. Enqueue copies the Hit values (sub-structs are shared: do
// not change them after Enqueue) and never blocks: it takes only the lock
// of the hit's shard and costs no allocation once the shard's ring buffer
// has grown. Receive allocates the Delivery and its hits.
package memqueue
