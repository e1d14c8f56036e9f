package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

// DeadLetter moves hits of the outstanding delivery d to the dead-letter
// stream ("<prefix>:dlq") with cause, their shard and original position,
// and acknowledges them: they leave their shard for good. d stays
// outstanding: the caller still Acks it (the other hits were applied) or
// Nacks it (they come back, without the dead-lettered ones).
//
// A hit that is not part of d is ErrInvalid; a d that is not outstanding
// (settled, timed out, lease lost) is ErrConflict.
func (q *Queue) DeadLetter(ctx context.Context, d *analytics.Delivery, hits []analytics.Hit, cause error) error {
	q.consMu.Lock()
	c := q.cons
	q.consMu.Unlock()
	if c == nil {
		return fmt.Errorf("redisqueue: dead-letter: delivery of %s is not outstanding: %w", d.Shard, analytics.ErrConflict)
	}
	del, err := c.settle(d, "dead-letter")
	if err != nil {
		return err
	}
	unmark := func() {
		c.mu.Lock()
		del.settling = false
		c.mu.Unlock()
	}
	index := make(map[analytics.Position]string, len(del.ids))
	for i, id := range del.ids {
		index[d.Hits[i].Pos] = id
	}
	text := "unknown"
	if cause != nil {
		text = cause.Error()
	}
	var pairs []any
	seen := map[analytics.Position]bool{}
	for i := range hits {
		h := hits[i]
		id, ok := index[h.Pos]
		if !ok || del.dead[h.Pos] || seen[h.Pos] {
			unmark()
			return fmt.Errorf("redisqueue: dead-letter: hit at %s is not an outstanding hit of the delivery of %s: %w", h.Pos, d.Shard, analytics.ErrInvalid)
		}
		seen[h.Pos] = true
		h.Pos = analytics.Position{}
		pairs = append(pairs, id, hitcodec.Append(nil, &h))
	}
	if len(pairs) == 0 {
		unmark()
		return nil
	}
	n := del.sh.n
	left := del.left - len(hits)
	args := append([]any{del.lease, group, n, left, text, d.Shard}, pairs...)
	res, err := scriptDeadLetter.Run(ctx, q.rdb,
		[]string{q.keys.leases[n], q.keys.streams[n], q.keys.inflight, q.keys.dlq}, args...).Int64()
	c.mu.Lock()
	defer c.mu.Unlock()
	del.settling = false
	if err != nil {
		return wrapErr("dead-letter", err)
	}
	if res == -1 {
		c.forget(del)
		if del.sh.lease == del.lease {
			c.lose(del.sh)
		}
		return fmt.Errorf("redisqueue: dead-letter: lease of %s lost: %w", d.Shard, analytics.ErrConflict)
	}
	if del.dead == nil {
		del.dead = map[analytics.Position]bool{}
	}
	for p := range seen {
		del.dead[p] = true
	}
	del.left = left
	q.opts.Logger.Named("redisqueue").Warn("hits dead-lettered", "shard", d.Shard, "hits", len(hits), "cause", text)
	return nil
}

// DeadLetter is a hit in the dead-letter stream.
type DeadLetter struct {
	ID    string             // its ID in the dead-letter stream (for Replay)
	Time  time.Time          // when it was dead-lettered
	Shard string             // the shard it came from ("redis:<prefix>:<n>")
	Pos   analytics.Position // its position there
	Cause string             // the error that made it fail
	Hit   analytics.Hit      // the hit; zero when Err is set
	Err   error              // the hit could not be decoded (Raw holds it)
	Raw   []byte
}

// DeadLetters returns up to limit dead-lettered hits, oldest first
// (limit ≤ 0: all).
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	var msgs []redis.XMessage
	var err error
	if limit > 0 {
		msgs, err = q.rdb.XRangeN(ctx, q.keys.dlq, "-", "+", int64(limit)).Result()
	} else {
		msgs, err = q.rdb.XRange(ctx, q.keys.dlq, "-", "+").Result()
	}
	if err != nil {
		return nil, wrapErr("dead letters", err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		dl := DeadLetter{ID: m.ID}
		if p, err := analytics.ParsePosition(m.ID); err == nil {
			dl.Time = time.UnixMilli(int64(p.Hi)).UTC()
		}
		dl.Cause, _ = m.Values["e"].(string)
		dl.Shard, _ = m.Values["s"].(string)
		if s, ok := m.Values["i"].(string); ok {
			dl.Pos, _ = analytics.ParsePosition(s)
		}
		raw, _ := m.Values[field].(string)
		dl.Raw = []byte(raw)
		if dl.Hit, dl.Err = hitcodec.Decode(dl.Raw); dl.Err == nil {
			dl.Hit.Pos = analytics.Position{}
		}
		out = append(out, dl)
	}
	return out, nil
}

// Replay moves dead-lettered hits back to the end of their shard (after
// the hits queued since; the visitor's order relative to those is lost)
// and reports how many it moved. No ids: every dead letter. Each move is
// atomic, so a Replay interrupted half-way neither loses nor duplicates.
// An ID that is not in the dead-letter stream is skipped; an entry whose
// hit cannot be decoded stays.
func (q *Queue) Replay(ctx context.Context, ids ...string) (int, error) {
	if len(ids) == 0 {
		all, err := q.DeadLetters(ctx, 0)
		if err != nil {
			return 0, err
		}
		for _, dl := range all {
			ids = append(ids, dl.ID)
		}
	}
	moved := 0
	for _, id := range ids {
		msgs, err := q.rdb.XRangeN(ctx, q.keys.dlq, id, id, 1).Result()
		if err != nil {
			return moved, wrapErr("replay", err)
		}
		if len(msgs) == 0 {
			continue
		}
		raw, _ := msgs[0].Values[field].(string)
		h, err := hitcodec.Decode([]byte(raw))
		if err != nil {
			return moved, fmt.Errorf("redisqueue: replay %s: %w", id, err)
		}
		n := int(h.ShardKey() % uint64(len(q.keys.streams)))
		err = scriptReplayDead.Run(ctx, q.rdb, []string{q.keys.dlq, q.keys.streams[n]}, id).Err()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return moved, wrapErr("replay", err)
		}
		moved++
	}
	return moved, nil
}

// DeleteDeadLetters removes dead letters for good and reports how many.
func (q *Queue) DeleteDeadLetters(ctx context.Context, ids ...string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n, err := q.rdb.XDel(ctx, q.keys.dlq, ids...).Result()
	if err != nil {
		return 0, wrapErr("delete dead letters", err)
	}
	return int(n), nil
}
