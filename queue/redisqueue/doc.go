// Package redisqueue is the production analytics.Queue: Redis Streams,
// shared by any number of ingest nodes (producers) and workers
// (consumers). It replaces Matomo's QueuedTracking plugin, whose
// per-queue locks had to match the number of worker processes.
//
// # Keys
//
// With Prefix "footfall":
//
//	footfall:meta          hash: shard count and format version (checked on open)
//	footfall:s:<n>         stream of shard n; entries {h: hitcodec bytes}; consumer group "footfall"
//	footfall:lease:<n>     lease of shard n: "<consumer>|<fencing token>|<acquired ms>", PX LeaseTTL
//	footfall:fence         hash: per-shard fencing counter (HINCRBY on every acquisition)
//	footfall:consumers     sorted set: live consumers, scored by heartbeat expiry (server clock)
//	footfall:inflight      hash: hits of each shard's outstanding delivery (Stats.InFlight)
//	footfall:dlq           stream of dead-lettered hits {h, e: cause, s: shard, i: original ID}
//	footfall:p:<producer>  sorted set: the producer's last 10 000 enqueue round trips (dedup)
//	footfall:spool:<id>    highest spool record accepted from disk spool <id> (dedup)
//
// A hit goes to shard Hit.ShardKey() % Shards, so a visitor's hits share
// a stream and keep their order; its Position is its stream ID (ms, seq),
// which only grows, also across restarts.
//
// # Enqueue
//
// Concurrent Enqueue calls share round trips: a batching goroutine
// collects requests while earlier round trips are in flight (at most 4),
// and before it sends a batch it yields the processor so that callers
// that are runnable at that moment join it (an HTTP server under load
// with few cores has many requests ready at once: with GOMAXPROCS=1 a
// round trip then carries ~40 hits instead of ~2). It writes each batch
// with one script call that XADDs every entry (no
// MAXLEN: unconsumed hits are never trimmed) and records the round trip in
// the producer's dedup set — unless that set already has it, so a go-redis
// retry after a lost reply cannot add a batch twice. Each caller waits for
// its own batch. Above the
// MaxMemory mark Enqueue fails with ErrUnavailable at once so that ingest
// spools to disk (package spool).
//
// # Leases, fencing and rebalancing
//
// A consumer (the first Receive starts it) registers in the consumers set
// every LeaseTTL/5 and targets ceil(shards / live consumers) leases: it
// releases extras (idle ones first, busy ones once settled) and takes free
// shards (SET NX in a script that also increments the shard's fencing
// counter). 1, 3 or 40 workers share the shards without any setting that
// must match the number of processes; a new worker gets its share within
// about two renew periods; a dead worker's shards are taken after its
// leases expire (LeaseTTL).
//
// The Redis consumer group has a single consumer name: whoever holds a
// shard's lease owns its whole pending list (PEL). Every read, ack,
// nack and dead-letter runs in a Lua script that first compares the
// caller's lease value with the stored one, so a consumer that lost its
// lease (paused, partitioned, presumed dead) can neither pull entries
// into the PEL nor acknowledge them: its Ack fails with ErrConflict, and
// its hits stay pending for the new owner. The store's shard checkpoint
// (LogBatch.From) is the second fence, for writes already made.
//
// # Delivery
//
// Receive hands out a batch of one held shard at a time (round-robin over
// the shards with data), with at most one outstanding Delivery per shard
// in the process. Since a shard is only read while it has no outstanding
// delivery, everything in its PEL is due again — nacked, timed out
// (AckTimeout), held by a dead worker, or taken by a read whose reply was
// lost — so every read drains the PEL first, from its start, in ID order,
// with the original Positions and Attempt = delivery count, before new
// entries (XREADGROUP ">"). Idle shards are waited on with XREAD BLOCK (BlockTimeout) from one
// goroutine, so Receive honours its context at once. Ack is XACK + XDEL
// (the stream holds only unacknowledged hits, so XLEN is the depth); Nack
// leaves the entries pending.
//
// # Poison hits
//
// When the first pending hit of a shard has been delivered DeadLetterAfter
// times, it is delivered alone. The processor's contract: a one-hit
// delivery with Attempt > DeadLetterAfter that fails again with an error
// that is not retryable (analytics.IsRetryable) is passed to DeadLetter,
// which moves it to the dead-letter stream with the error and acknowledges
// it, then the delivery is acked. Retryable failures (the store is down)
// never dead-letter anything. Entries that cannot even be decoded are
// dead-lettered by Receive itself. DeadLetters, Replay and
// DeleteDeadLetters serve the CLI.
//
// # Duplicates from the disk spool
//
// An Enqueue whose round trip failed (possibly after Redis applied it)
// returns *EnqueueError with a token naming it; the spool keeps the token
// with the hits.
// EnqueueSpooled (spool.Replayer) drops, atomically with the replay,
// records whose round trip had in fact succeeded and records already
// replayed before a crash (see EnqueueSpooled).
//
// # Close
//
// Close stops Enqueue; a consumer drains the shards it holds (bounded by
// DrainTimeout) and releases each lease as soon as its shard is empty, so
// others take over at once. Redis is durable: hits left are delivered to
// the next owner. Done is closed once the consumer has also left the
// consumer set (and a connection made by Open is closed): a process waits
// on it before exiting so that the remaining consumers rebalance at once
// rather than after its heartbeat expires (LeaseTTL).
//
// With Redis Cluster, the prefix needs a hash tag ("{footfall}") so that
// all keys of the queue share a slot.
package redisqueue
