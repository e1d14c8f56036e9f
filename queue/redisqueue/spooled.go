package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/spool"
)

var (
	_ spool.Replayer  = (*Queue)(nil)
	_ spool.Uncertain = (*EnqueueError)(nil)
)

// EnqueueSpooled replays records of a disk spool exactly once
// (spool.Replayer). Redis keeps, per spool, the highest record Seq it
// accepted ("<prefix>:spool:<id>", kept DedupTTL), and, per producer, the
// enqueue round trips that succeeded ("<prefix>:p:<producer>", the last
// 10 000). In one round trip it reads both; it then drops the records at
// or below the spool's Seq (already replayed: a crash came between the
// accept and the segment's deletion) and the records whose Token names a
// round trip that succeeded (the Enqueue that failed and spooled them had
// in fact been applied), and atomically enqueues the rest and stores the
// batch's highest Seq. A record whose token can no longer be
// checked (older than the 10 000 remembered) is enqueued and logged: a
// possible duplicate rather than a possible loss. The enqueue is a script
// that re-checks the spool's Seq, so a client retry after a lost reply
// does not add the batch twice.
func (q *Queue) EnqueueSpooled(ctx context.Context, b spool.Batch) error {
	if q.isClosed() {
		return fmt.Errorf("redisqueue: enqueue spooled: %w", analytics.ErrClosed)
	}
	if len(b.Records) == 0 {
		return nil
	}
	if b.Spool == "" || strings.ContainsAny(b.Spool, " \r\n") {
		return fmt.Errorf("redisqueue: enqueue spooled: spool id %q: %w", b.Spool, analytics.ErrInvalid)
	}
	cursorKey := q.keys.spool(b.Spool)

	type tokenCheck struct {
		seq   uint64
		score *redis.FloatCmd
		first *redis.ZSliceCmd
	}
	checks := map[string]*tokenCheck{}
	var cursor *redis.StringCmd
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cursor = p.Get(ctx, cursorKey)
		for _, r := range b.Records {
			if r.Token == "" || checks[r.Token] != nil {
				continue
			}
			producer, seqs, ok := strings.Cut(r.Token, ":")
			seq, err := strconv.ParseUint(seqs, 10, 64)
			if !ok || err != nil {
				checks[r.Token] = &tokenCheck{} // unknown form: enqueue
				continue
			}
			pk := q.keys.producer(producer)
			checks[r.Token] = &tokenCheck{
				seq:   seq,
				score: p.ZScore(ctx, pk, seqs),
				first: p.ZRangeWithScores(ctx, pk, 0, 0),
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrapErr("enqueue spooled", err)
	}
	var done uint64
	if v, err := cursor.Result(); err == nil {
		done, _ = strconv.ParseUint(v, 10, 64)
	}
	applied := func(tok string) bool {
		c := checks[tok]
		if c == nil || c.score == nil {
			return false
		}
		if c.score.Err() == nil {
			return true
		}
		if first := c.first.Val(); len(first) > 0 && uint64(first[0].Score) > c.seq {
			q.opts.Logger.Named("redisqueue").Warn("cannot tell whether a failed enqueue was applied; replaying it (possible duplicate)", "token", tok)
		}
		return false
	}
	var entries []entry
	last := done
	skipped := 0
	for _, r := range b.Records {
		last = max(last, r.Seq)
		if r.Seq <= done || r.Token != "" && applied(r.Token) {
			skipped += len(r.Hits)
			continue
		}
		entries = append(entries, q.encode(r.Hits)...)
	}
	if skipped > 0 {
		q.opts.Logger.Named("redisqueue").Info("spool replay: skipped hits already accepted", "spool", b.Spool, "hits", skipped)
	}
	if last == done {
		return nil
	}
	if len(entries) > 0 {
		if err := q.checkMemory(ctx); err != nil {
			return err
		}
	}
	keys, args := q.entryArgs([]string{cursorKey}, []any{last, q.opts.DedupTTL.Milliseconds()}, []*enqReq{{entries: entries}})
	if err := scriptEnqueueSpooled.Run(ctx, q.rdb, keys, args...).Err(); err != nil {
		return wrapErr("enqueue spooled", err)
	}
	return nil
}
