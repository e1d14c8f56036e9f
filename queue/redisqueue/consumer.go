package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

// shardState is this process's view of one shard. Guarded by consumer.mu,
// but n, which never changes after the consumer starts.
type shardState struct {
	n       int
	lease   string    // lease value while held, else ""
	renewed time.Time // last successful acquire or renew (local clock)
	idle    bool      // the last read found nothing
	bound   string    // the newest entry ID when idle
	busy    bool      // a Receive or a release is talking to Redis about it
	out     *delivery // the outstanding delivery
	release bool      // release the lease once out is settled
}

func (s *shardState) held() bool { return s.lease != "" }

// delivery is the driver's record of an outstanding analytics.Delivery.
type delivery struct {
	d        *analytics.Delivery
	sh       *shardState
	lease    string
	ids      []string
	deadline time.Time
	settling bool
	left     int                         // hits not dead-lettered
	dead     map[analytics.Position]bool // dead-lettered hits
}

// consumer holds the leases of this process and hands out deliveries.
type consumer struct {
	q   *Queue
	log hclog.Logger

	mu         sync.Mutex
	shards     []*shardState
	deliveries map[*analytics.Delivery]*delivery
	notify     chan struct{} // closed and replaced on every change
	rr         int
	closing    bool
	drainUntil time.Time
	stopped    bool

	kick chan struct{}
	done chan struct{} // closed when stopped
	wg   sync.WaitGroup
}

// acker settles deliveries for a consumer.
type acker struct{ c *consumer }

func (a acker) Ack(ctx context.Context, d *analytics.Delivery) error { return a.c.ack(ctx, d) }
func (a acker) Nack(ctx context.Context, d *analytics.Delivery, cause error) error {
	return a.c.nack(ctx, d, cause)
}

func (c *consumer) broadcast() {
	close(c.notify)
	c.notify = make(chan struct{})
}

// consumer returns the consumer, starting it on first use: it registers
// in the consumer set and takes its share of the leases before returning.
func (q *Queue) consumer(ctx context.Context) (*consumer, error) {
	q.consMu.Lock()
	defer q.consMu.Unlock()
	if q.cons != nil {
		return q.cons, nil
	}
	if q.isClosed() {
		return nil, fmt.Errorf("redisqueue: receive: %w", analytics.ErrClosed)
	}
	c := &consumer{
		q:          q,
		log:        q.opts.Logger.Named("redisqueue").With("consumer", q.opts.Consumer),
		deliveries: map[*analytics.Delivery]*delivery{},
		notify:     make(chan struct{}),
		kick:       make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	for n := range q.keys.streams {
		c.shards = append(c.shards, &shardState{n: n})
	}
	if err := c.tick(ctx); err != nil {
		return nil, err
	}
	q.cons = c
	c.wg.Add(2)
	go c.runLeases()
	go c.runWaiter()
	return c, nil
}

// Receive returns a delivery of one shard this consumer holds, pending
// (redelivered) hits of the shard before new ones. See analytics.Queue.
// The first call registers the process as a consumer and takes its share
// of the shard leases. While Redis cannot be reached it fails at once with
// an error wrapping ErrUnavailable: the caller backs off and calls again.
func (q *Queue) Receive(ctx context.Context, max int) (*analytics.Delivery, error) {
	if max < 1 {
		return nil, fmt.Errorf("redisqueue: receive max %d: %w", max, analytics.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := q.consumer(ctx)
	if err != nil {
		return nil, err
	}
	return c.receive(ctx, max)
}

func (c *consumer) receive(ctx context.Context, limit int) (*analytics.Delivery, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.expire(time.Now())
		if c.closing {
			if idle := c.takeIdle(); len(idle) > 0 {
				c.mu.Unlock()
				c.releaseAll(ctx, idle)
				continue
			}
			if c.stopped || c.heldCount() == 0 {
				settled := len(c.deliveries) == 0
				c.mu.Unlock()
				if settled {
					// Nothing left to settle: leave the consumer set now,
					// not at the next lease tick (the caller may exit).
					select {
					case c.kick <- struct{}{}:
					default:
					}
				}
				return nil, fmt.Errorf("redisqueue: receive: %w", analytics.ErrClosed)
			}
		}
		if sh := c.pick(); sh != nil {
			sh.busy = true
			lease := sh.lease
			c.mu.Unlock()
			d, err := c.read(ctx, sh, lease, limit)
			if d != nil || err != nil {
				return d, err
			}
			continue
		}
		wake := c.notify
		wait := c.q.opts.LeaseTTL
		if dl, ok := c.nextDeadline(); ok {
			wait = min(wait, max(time.Until(dl), time.Millisecond))
		}
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// pick returns the next held shard that may have hits and is free,
// round-robin. Called with mu held.
func (c *consumer) pick() *shardState {
	n := len(c.shards)
	for i := range n {
		sh := c.shards[(c.rr+i)%n]
		if sh.held() && !sh.busy && sh.out == nil && !sh.idle && !sh.release {
			c.rr = (c.rr + i + 1) % n
			return sh
		}
	}
	return nil
}

func (c *consumer) heldCount() int {
	k := 0
	for _, sh := range c.shards {
		if sh.held() {
			k++
		}
	}
	return k
}

func (c *consumer) nextDeadline() (time.Time, bool) {
	var t time.Time
	for _, d := range c.deliveries {
		if !d.settling && (t.IsZero() || d.deadline.Before(t)) {
			t = d.deadline
		}
	}
	return t, !t.IsZero()
}

// expire gives back deliveries past the ack timeout: their hits are
// delivered again from the pending list, and their late Ack or Nack fails
// with ErrConflict. Called with mu held.
func (c *consumer) expire(now time.Time) {
	for _, d := range c.deliveries {
		if d.settling || now.Before(d.deadline) {
			continue
		}
		c.log.Warn("delivery not settled within the ack timeout; delivering again",
			"shard", d.d.Shard, "hits", len(d.d.Hits), "ack_timeout", c.q.opts.AckTimeout)
		c.forget(d)
		d.sh.idle = false
		c.broadcast()
	}
}

// forget drops an outstanding delivery. Called with mu held.
func (c *consumer) forget(d *delivery) {
	delete(c.deliveries, d.d)
	if d.sh.out == d {
		d.sh.out = nil
	}
}

// lose drops a shard whose lease is gone. Called with mu held.
func (c *consumer) lose(sh *shardState) {
	if !sh.held() {
		return
	}
	c.log.Warn("lost the lease of a shard", "shard", c.q.keys.shardName[sh.n])
	if sh.out != nil {
		c.forget(sh.out)
	}
	c.reset(sh)
	c.broadcast()
}

// reset forgets what is known of a shard: every field but n and busy
// (a field added to shardState is added here). It leaves n alone:
// n never changes, so it is read without mu (a whole-struct assignment
// would write it under a reader that holds no lock).
func (c *consumer) reset(sh *shardState) {
	sh.lease, sh.renewed, sh.idle, sh.bound, sh.out, sh.release = "", time.Time{}, false, "", nil, false
}

// read runs the read script on a shard marked busy and turns its answer
// into a delivery (nil when there was nothing to deliver).
func (c *consumer) read(ctx context.Context, sh *shardState, lease string, max int) (*analytics.Delivery, error) {
	q := c.q
	keys := []string{q.keys.leases[sh.n], q.keys.streams[sh.n], q.keys.inflight}
	run := func() ([]any, error) {
		return scriptRead.Run(ctx, q.rdb, keys, lease, group, owner, max, q.opts.DeadLetterAfter, sh.n).Slice()
	}
	res, err := run()
	if isNoGroup(err) {
		if err = q.ensureGroup(ctx, sh.n); err == nil {
			res, err = run()
		}
	}
	c.mu.Lock()
	sh.busy = false
	if err != nil {
		c.mu.Unlock()
		return nil, wrapErr("receive", err)
	}
	if sh.lease != lease { // lost or released meanwhile
		c.broadcast()
		c.mu.Unlock()
		return nil, nil
	}
	status, _ := res[0].(int64)
	switch status {
	case -1:
		c.lose(sh)
		c.mu.Unlock()
		return nil, nil
	case 0:
		sh.idle = true
		sh.bound, _ = res[1].(string)
		c.broadcast()
		c.mu.Unlock()
		return nil, nil
	case 2: // pending entries that were deleted: acknowledged, skipped
		c.mu.Unlock()
		return nil, nil
	}
	attempt, _ := res[1].(int64)
	d := &analytics.Delivery{Shard: q.keys.shardName[sh.n], Attempt: int(attempt), Acker: acker{c}}
	del := &delivery{d: d, sh: sh, lease: lease, deadline: time.Now().Add(q.opts.AckTimeout)}
	var corrupt []any
	for i := 4; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		raw, _ := res[i+1].(string)
		pos, err := analytics.ParsePosition(id)
		if err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("redisqueue: receive: stream ID %q: %w", id, analytics.ErrUnavailable)
		}
		h, err := hitcodec.Decode([]byte(raw))
		if err != nil {
			c.log.Error("undecodable queue entry; dead-lettering it", "shard", d.Shard, "id", id, "error", err)
			corrupt = append(corrupt, id, raw)
			continue
		}
		h.Pos = pos
		d.Hits = append(d.Hits, h)
		del.ids = append(del.ids, id)
	}
	if len(d.Hits) > 0 {
		del.left = len(d.Hits)
		sh.out = del
		c.deliveries[d] = del
	} else {
		sh.busy = true // keep it while the corrupt entries are moved
	}
	c.mu.Unlock()
	if len(corrupt) > 0 {
		args := append([]any{lease, group, sh.n, len(d.Hits), "hitcodec: undecodable entry", d.Shard}, corrupt...)
		err := scriptDeadLetter.Run(ctx, q.rdb, append(keys, q.keys.dlq), args...).Err()
		if len(d.Hits) == 0 {
			c.mu.Lock()
			sh.busy = false
			c.mu.Unlock()
		}
		if err != nil {
			c.log.Error("dead-lettering undecodable entries failed", "shard", d.Shard, "error", err)
		}
	}
	if len(d.Hits) == 0 {
		return nil, nil
	}
	return d, nil
}

// settle starts settling d: it returns d's record, marked settling, or
// ErrConflict when d is not outstanding here.
func (c *consumer) settle(d *analytics.Delivery, what string) (*delivery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	del := c.deliveries[d]
	if del == nil || del.settling {
		return nil, fmt.Errorf("redisqueue: %s: delivery of %s is not outstanding (settled, timed out or lease lost): %w",
			what, d.Shard, analytics.ErrConflict)
	}
	del.settling = true
	return del, nil
}

// settled finishes settling: on a lost lease the delivery and the shard
// are dropped; on success the delivery is dropped and the shard freed.
func (c *consumer) settled(ctx context.Context, del *delivery, res int64, err error, what string) error {
	c.mu.Lock()
	sh := del.sh
	if err != nil {
		del.settling = false
		c.mu.Unlock()
		return wrapErr(what, err)
	}
	c.forget(del)
	if res == -1 {
		if sh.lease == del.lease {
			c.lose(sh)
		}
		c.mu.Unlock()
		return fmt.Errorf("redisqueue: %s: lease of %s lost: %w", what, del.d.Shard, analytics.ErrConflict)
	}
	if sh.lease == del.lease {
		sh.idle = false
	}
	var rel []*shardState
	if sh.held() && !sh.busy && (sh.release || c.closing && !time.Now().Before(c.drainUntil)) {
		sh.busy = true
		rel = append(rel, sh)
	}
	c.broadcast()
	c.mu.Unlock()
	if len(rel) > 0 {
		c.releaseAll(ctx, rel)
	}
	return nil
}

func (c *consumer) ack(ctx context.Context, d *analytics.Delivery) error {
	del, err := c.settle(d, "ack")
	if err != nil {
		return err
	}
	q := c.q
	n := del.sh.n
	args := make([]any, 0, 3+len(del.ids))
	args = append(args, del.lease, group, n)
	for _, id := range del.ids {
		args = append(args, id)
	}
	res, err := scriptAck.Run(ctx, q.rdb, []string{q.keys.leases[n], q.keys.streams[n], q.keys.inflight}, args...).Int64()
	return c.settled(ctx, del, res, err, "ack")
}

func (c *consumer) nack(ctx context.Context, d *analytics.Delivery, cause error) error {
	del, err := c.settle(d, "nack")
	if err != nil {
		return err
	}
	q := c.q
	n := del.sh.n
	res, err := scriptNack.Run(ctx, q.rdb, []string{q.keys.leases[n], q.keys.inflight}, del.lease, n).Int64()
	if err == nil && res != -1 {
		c.log.Debug("delivery given back", "shard", d.Shard, "hits", len(d.Hits), "attempt", d.Attempt, "cause", cause)
	}
	return c.settled(ctx, del, res, err, "nack")
}

// takeIdle marks busy and returns the held shards that were found empty
// and have nothing outstanding (drained, while closing). Called with mu
// held.
func (c *consumer) takeIdle() []*shardState {
	var out []*shardState
	for _, sh := range c.shards {
		if sh.held() && sh.idle && sh.out == nil && !sh.busy {
			sh.busy = true
			out = append(out, sh)
		}
	}
	return out
}

// releaseAll releases the leases of shards marked busy.
func (c *consumer) releaseAll(ctx context.Context, shards []*shardState) {
	q := c.q
	for _, sh := range shards {
		c.mu.Lock()
		lease := sh.lease
		c.mu.Unlock()
		if lease != "" {
			if err := scriptRelease.Run(ctx, q.rdb, []string{q.keys.leases[sh.n], q.keys.inflight}, lease, sh.n).Err(); err != nil {
				c.log.Warn("releasing a lease failed; it will expire", "shard", q.keys.shardName[sh.n], "error", err)
			}
		}
		c.mu.Lock()
		sh.busy = false
		if sh.lease == lease {
			c.reset(sh)
		}
		c.broadcast()
		c.mu.Unlock()
	}
}

// ---------------------------------------------------------------------------
// Leases
// ---------------------------------------------------------------------------

// runLeases renews, releases and acquires leases every LeaseTTL/5.
func (c *consumer) runLeases() {
	defer c.wg.Done()
	t := time.NewTicker(c.q.opts.LeaseTTL / 5)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), min(roundTripTimeout, c.q.opts.LeaseTTL))
		if err := c.tick(ctx); err != nil {
			c.log.Warn("lease upkeep failed", "error", err)
		}
		if c.finished() {
			c.stop(ctx)
			cancel()
			return
		}
		cancel()
	}
}

// finished reports whether a closing consumer holds nothing any more.
func (c *consumer) finished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing && c.heldCount() == 0 && len(c.deliveries) == 0
}

// stop leaves the consumer set and ends the consumer.
func (c *consumer) stop(ctx context.Context) {
	q := c.q
	scriptHeartbeat.Run(ctx, q.rdb, []string{q.keys.consumers}, q.opts.Consumer, q.opts.LeaseTTL.Milliseconds(), "1")
	c.mu.Lock()
	c.stopped = true
	close(c.done)
	c.broadcast()
	c.mu.Unlock()
	go func() {
		c.wg.Wait() // the waiter
		if q.ownClient {
			q.rdb.Close()
		}
		close(q.done)
	}()
}

// close starts the drain (Queue.Close).
func (c *consumer) close() {
	c.mu.Lock()
	c.closing = true
	c.drainUntil = time.Now().Add(c.q.opts.DrainTimeout)
	c.broadcast()
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// tick is one round of lease upkeep: heartbeat, renew, expire, rebalance.
func (c *consumer) tick(ctx context.Context) error {
	q := c.q
	now := time.Now()
	ttl := q.opts.LeaseTTL.Milliseconds()
	live, err := scriptHeartbeat.Run(ctx, q.rdb, []string{q.keys.consumers}, q.opts.Consumer, ttl, "0").Int64()
	if err != nil {
		c.renewFailed(now)
		return wrapErr("heartbeat", err)
	}

	// Renew what is held.
	c.mu.Lock()
	c.expire(now)
	var held []*shardState
	var keys []string
	args := []any{ttl}
	for _, sh := range c.shards {
		if sh.held() {
			held = append(held, sh)
			keys = append(keys, q.keys.leases[sh.n])
			args = append(args, sh.lease)
		}
	}
	c.mu.Unlock()
	if len(held) > 0 {
		res, err := scriptRenew.Run(ctx, q.rdb, keys, args...).Int64Slice()
		if err != nil {
			c.renewFailed(now)
			return wrapErr("renew leases", err)
		}
		c.mu.Lock()
		for i, sh := range held {
			if sh.lease != args[i+1] {
				continue // changed meanwhile
			}
			if res[i] == 1 {
				sh.renewed = now
			} else {
				c.lose(sh)
			}
		}
		c.mu.Unlock()
	}

	// Rebalance: each live consumer targets ceil(shards / live).
	shards := len(c.shards)
	target := (shards + int(max(live, 1)) - 1) / int(max(live, 1))
	c.mu.Lock()
	var rel []*shardState
	if c.closing {
		drainOver := !now.Before(c.drainUntil)
		for _, sh := range c.shards {
			if sh.held() && sh.out == nil && !sh.busy && (drainOver || sh.idle) {
				sh.busy = true
				rel = append(rel, sh)
			} else if sh.held() && drainOver {
				sh.release = true
			}
		}
		target = 0
	} else if extra := c.heldCount() - target; extra > 0 {
		// Give up idle shards first, then busy ones once settled.
		for pass := 0; pass < 3 && extra > 0; pass++ {
			for _, sh := range c.shards {
				if extra == 0 {
					break
				}
				if !sh.held() || sh.release {
					continue
				}
				switch {
				case pass == 0 && sh.idle && sh.out == nil && !sh.busy,
					pass == 1 && sh.out == nil && !sh.busy:
					sh.busy = true
					rel = append(rel, sh)
					extra--
				case pass == 2:
					sh.release = true
					extra--
				}
			}
		}
	}
	need := target - c.heldCount()
	var free []int
	if need > 0 {
		for _, sh := range c.shards {
			if !sh.held() {
				free = append(free, sh.n)
			}
		}
	}
	c.mu.Unlock()
	if len(rel) > 0 {
		c.releaseAll(ctx, rel)
	}
	if need <= 0 || len(free) == 0 {
		return nil
	}
	return c.acquire(ctx, free, need)
}

// acquire takes up to need of the shards free (not held here) whose lease
// is not held by anyone, starting at a place that depends on the consumer
// name so that consumers starting together collide less.
func (c *consumer) acquire(ctx context.Context, free []int, need int) error {
	q := c.q
	h := fnv.New32a()
	h.Write([]byte(q.opts.Consumer))
	off := int(h.Sum32() % uint32(len(free)))
	free = append(free[off:], free[:off]...)
	keys := make([]string, len(free))
	for i, n := range free {
		keys[i] = q.keys.leases[n]
	}
	owners, err := q.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return wrapErr("read leases", err)
	}
	now := q.opts.Now()
	for i, n := range free {
		if need == 0 {
			break
		}
		if owners[i] != nil {
			continue
		}
		v, err := scriptAcquire.Run(ctx, q.rdb, []string{q.keys.leases[n], q.keys.fence},
			q.opts.Consumer, q.opts.LeaseTTL.Milliseconds(), now.UnixMilli(), n).Text()
		if errors.Is(err, redis.Nil) {
			continue // someone was quicker
		}
		if err != nil {
			return wrapErr("acquire lease", err)
		}
		c.mu.Lock()
		sh := c.shards[n]
		if c.closing || sh.held() {
			c.mu.Unlock()
			scriptRelease.Run(ctx, q.rdb, []string{q.keys.leases[n], q.keys.inflight}, v, n)
			continue
		}
		busy := sh.busy
		*sh = shardState{n: n, lease: v, renewed: time.Now(), busy: busy}
		c.log.Debug("acquired a shard", "shard", q.keys.shardName[n], "lease", v)
		c.broadcast()
		c.mu.Unlock()
		need--
	}
	return nil
}

// renewFailed drops, when Redis cannot be reached, the leases that may
// have expired by now (a safety margin of a fifth of the TTL).
func (c *consumer) renewFailed(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.q.opts.LeaseTTL * 4 / 5
	for _, sh := range c.shards {
		if sh.held() && now.Sub(sh.renewed) > limit {
			c.lose(sh)
		}
	}
}

// runWaiter blocks on the idle shards (XREAD BLOCK, from each one's newest
// entry) and wakes receivers when one of them gets a new entry.
func (c *consumer) runWaiter() {
	defer c.wg.Done()
	q := c.q
	for {
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			return
		}
		var streams, ids []string
		for _, sh := range c.shards {
			if sh.held() && sh.idle && sh.out == nil && !sh.busy {
				streams = append(streams, q.keys.streams[sh.n])
				ids = append(ids, sh.bound)
			}
		}
		wake := c.notify
		c.mu.Unlock()
		if len(streams) == 0 {
			select {
			case <-wake:
			case <-c.done:
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), q.opts.BlockTimeout+roundTripTimeout)
		res, err := q.rdb.XRead(ctx, &redis.XReadArgs{Streams: append(streams, ids...), Count: 1, Block: q.opts.BlockTimeout}).Result()
		cancel()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			c.log.Debug("waiting for entries failed", "error", err)
			select {
			case <-time.After(q.opts.BlockTimeout):
			case <-c.done:
			}
			continue
		}
		c.mu.Lock()
		for _, s := range res {
			for _, sh := range c.shards {
				if q.keys.streams[sh.n] == s.Stream && sh.idle {
					sh.idle = false
				}
			}
		}
		c.broadcast()
		c.mu.Unlock()
	}
}

// FencingToken returns the fencing token of the lease under which d was
// delivered (it grows with every acquisition of the shard's lease), and
// whether d is outstanding here.
func (q *Queue) FencingToken(d *analytics.Delivery) (uint64, bool) {
	q.consMu.Lock()
	c := q.cons
	q.consMu.Unlock()
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	del := c.deliveries[d]
	if del == nil {
		return 0, false
	}
	_, tok, _ := parseLease(del.lease)
	return tok, true
}
