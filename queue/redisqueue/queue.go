package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

// Interface guards.
var (
	_ analytics.Queue        = (*Queue)(nil)
	_ analytics.DeadLetterer = (*Queue)(nil)
	_ analytics.Pinger       = (*Queue)(nil)
)

const (
	// group is the consumer group of every shard stream and owner the one
	// consumer name inside it: ownership is decided by leases, not by
	// Redis consumer names, so the whole pending list of a shard belongs
	// to whoever holds its lease.
	group = "footfall"
	owner = "owner"
	// field is the stream entry field that holds the encoded hit.
	field = "h"
	// formatVersion is stored in the meta hash.
	formatVersion = "1"
	// maxBatchHits caps the hits of one enqueue round trip.
	maxBatchHits = 1024
	// flushSlots is how many enqueue round trips may be in flight at once.
	flushSlots = 4
	// gatherYields bounds how often the batcher yields to let ready
	// callers join a batch before it is sent.
	gatherYields = 4
	// dedupKeep is how many enqueue round trips of a producer are
	// remembered for EnqueueSpooled.
	dedupKeep = 10000
	// roundTripTimeout bounds a round trip that no caller's context
	// bounds (a shared enqueue flush, lease upkeep).
	roundTripTimeout = 10 * time.Second
)

// Queue is an analytics.Queue on Redis Streams. See the package
// documentation for the design. It is safe for concurrent use.
type Queue struct {
	rdb       redis.UniversalClient
	ownClient bool
	opts      Options
	keys      keys
	producer  string // random id of this Queue's enqueue round trips

	// enqueue
	closeMu sync.RWMutex // held for reading while sending a request
	closed  bool
	reqs    chan *enqReq
	reqPool sync.Pool // *enqReq
	stopReq chan struct{}
	batcher sync.WaitGroup
	slots   chan struct{}
	seq     atomic.Uint64
	mem     memGauge

	// consumer side, started by the first Receive
	consMu sync.Mutex
	cons   *consumer

	closeOnce sync.Once
	done      chan struct{} // closed once shut down after Close (Done)
}

type keys struct {
	prefix    string
	meta      string
	fence     string
	consumers string
	inflight  string
	dlq       string
	streams   []string
	leases    []string
	shardName []string
}

func newKeys(prefix string, shards int) keys {
	k := keys{
		prefix:    prefix,
		meta:      prefix + ":meta",
		fence:     prefix + ":fence",
		consumers: prefix + ":consumers",
		inflight:  prefix + ":inflight",
		dlq:       prefix + ":dlq",
	}
	for n := range shards {
		s := strconv.Itoa(n)
		k.streams = append(k.streams, prefix+":s:"+s)
		k.leases = append(k.leases, prefix+":lease:"+s)
		k.shardName = append(k.shardName, "redis:"+prefix+":"+s)
	}
	return k
}

func (k keys) producer(id string) string { return k.prefix + ":p:" + id }
func (k keys) spool(id string) string    { return k.prefix + ":spool:" + id }

// New returns a queue on client. It checks (or, on first use, stores) the
// shard count and creates the streams and their consumer group; it fails
// with ErrUnavailable when Redis cannot be reached. The caller keeps
// ownership of client: Close does not close it.
func New(client redis.UniversalClient, opts Options) (*Queue, error) {
	return newQueue(context.Background(), client, false, opts)
}

// Open connects to the Redis at url and returns a queue on it; Close
// closes the connection. Accepted forms:
//
//	redis://[user:password@]host:port[/db]      one server (rediss:// for TLS)
//	redis+sentinel://[:password@]host:port[,host:port…]/master[/db]
//	redis+cluster://[:password@]host:port[,host:port…]
//
// Query parameters of go-redis (dial_timeout, pool_size, …) are accepted
// in the redis:// form.
func Open(url string, opts Options) (*Queue, error) {
	client, err := openClient(url)
	if err != nil {
		return nil, err
	}
	q, err := newQueue(context.Background(), client, true, opts)
	if err != nil {
		client.Close()
		return nil, err
	}
	return q, nil
}

func openClient(url string) (redis.UniversalClient, error) {
	bad := func(err error) error {
		return fmt.Errorf("redisqueue: url: %v: %w", err, analytics.ErrInvalid)
	}
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, bad(errors.New("no scheme"))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(url)
		if err != nil {
			return nil, bad(err)
		}
		return redis.NewClient(o), nil
	case "redis+sentinel":
		// [:password@]hosts/master[/db]
		var password string
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			rest = rest[at+1:]
			if _, p, ok := strings.Cut(userinfo, ":"); ok {
				password = p
			} else {
				password = userinfo
			}
		}
		hosts, path, _ := strings.Cut(rest, "/")
		master, dbs, _ := strings.Cut(path, "/")
		if hosts == "" || master == "" {
			return nil, bad(errors.New("sentinel URL needs hosts and a master name"))
		}
		db := 0
		if dbs != "" {
			n, err := strconv.Atoi(dbs)
			if err != nil {
				return nil, bad(fmt.Errorf("db %q", dbs))
			}
			db = n
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    master,
			SentinelAddrs: strings.Split(hosts, ","),
			Password:      password,
			DB:            db,
		}), nil
	case "redis+cluster":
		var password string
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			rest = rest[at+1:]
			if _, p, ok := strings.Cut(userinfo, ":"); ok {
				password = p
			} else {
				password = userinfo
			}
		}
		hosts, _, _ := strings.Cut(rest, "/")
		if hosts == "" {
			return nil, bad(errors.New("cluster URL needs hosts"))
		}
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(hosts, ","), Password: password}), nil
	}
	return nil, bad(fmt.Errorf("scheme %q not supported", scheme))
}

func newQueue(ctx context.Context, client redis.UniversalClient, own bool, opts Options) (*Queue, error) {
	if client == nil {
		return nil, fmt.Errorf("redisqueue: nil client: %w", analytics.ErrInvalid)
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if _, ok := client.(*redis.ClusterClient); ok && !hasHashTag(opts.Prefix) {
		return nil, fmt.Errorf("redisqueue: prefix %q: Redis Cluster needs a hash tag such as {footfall}: %w", opts.Prefix, analytics.ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, roundTripTimeout)
	defer cancel()
	shards, err := setupShards(ctx, client, opts.Prefix+":meta", opts.Shards)
	if err != nil {
		return nil, err
	}
	opts.Shards = shards
	q := &Queue{
		rdb:       client,
		ownClient: own,
		opts:      opts,
		keys:      newKeys(opts.Prefix, shards),
		producer:  strconv.FormatUint(rand.Uint64(), 36),
		reqs:      make(chan *enqReq, 4*maxBatchHits),
		stopReq:   make(chan struct{}),
		done:      make(chan struct{}),
		slots:     make(chan struct{}, flushSlots),
	}
	if err := q.ensureGroups(ctx); err != nil {
		return nil, err
	}
	q.batcher.Add(1)
	go q.runBatcher()
	return q, nil
}

func hasHashTag(s string) bool {
	i := strings.IndexByte(s, '{')
	return i >= 0 && strings.IndexByte(s[i+1:], '}') > 0
}

// setupShards stores the shard count on first use and checks it after.
func setupShards(ctx context.Context, rdb redis.UniversalClient, meta string, want int) (int, error) {
	n := want
	if n == 0 {
		n = defaultShards
	}
	if err := rdb.HSetNX(ctx, meta, "shards", n).Err(); err != nil {
		return 0, wrapErr("store shard count", err)
	}
	rdb.HSetNX(ctx, meta, "version", formatVersion)
	vals, err := rdb.HMGet(ctx, meta, "shards", "version").Result()
	if err != nil {
		return 0, wrapErr("read shard count", err)
	}
	stored, err := strconv.Atoi(fmt.Sprint(vals[0]))
	if err != nil || stored < 1 {
		return 0, fmt.Errorf("redisqueue: %s: stored shard count %v is not a number: %w", meta, vals[0], analytics.ErrInvalid)
	}
	if v := fmt.Sprint(vals[1]); v != formatVersion {
		return 0, fmt.Errorf("redisqueue: %s: stored format version %s, this build knows %s: %w", meta, v, formatVersion, analytics.ErrInvalid)
	}
	if want != 0 && stored != want {
		return 0, fmt.Errorf("redisqueue: %s: the queue has %d shards, opened with %d; re-sharding would break per-visitor order (drain the queue or use another prefix): %w",
			meta, stored, want, analytics.ErrInvalid)
	}
	return stored, nil
}

// ensureGroups creates each shard stream and its consumer group.
func (q *Queue) ensureGroups(ctx context.Context) error {
	cmds, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range q.keys.streams {
			p.XGroupCreateMkStream(ctx, s, group, "0")
		}
		return nil
	})
	if err != nil && !isBusyGroup(err) {
		for _, c := range cmds {
			if e := c.Err(); e != nil && !isBusyGroup(e) {
				return wrapErr("create consumer groups", e)
			}
		}
	}
	return nil
}

// ensureGroup recreates one shard's stream and group (after a Redis
// restart without persistence, or a deleted key).
func (q *Queue) ensureGroup(ctx context.Context, n int) error {
	err := q.rdb.XGroupCreateMkStream(ctx, q.keys.streams[n], group, "0").Err()
	if err != nil && !isBusyGroup(err) {
		return wrapErr("create consumer group", err)
	}
	q.rdb.HSetNX(ctx, q.keys.meta, "shards", len(q.keys.streams))
	q.rdb.HSetNX(ctx, q.keys.meta, "version", formatVersion)
	return nil
}

func isBusyGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") }
func isNoGroup(err error) bool   { return err != nil && strings.Contains(err.Error(), "NOGROUP") }

// wrapErr wraps a Redis error: context errors stay themselves, anything
// else is ErrUnavailable (the native error stays reachable).
func wrapErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redisqueue: %s: %w", op, err)
	}
	return fmt.Errorf("redisqueue: %s: %w: %w", op, analytics.ErrUnavailable, err)
}

// Shards returns the number of shards.
func (q *Queue) Shards() int { return len(q.keys.streams) }

// Consumer returns this queue's consumer name (its lease owner name).
func (q *Queue) Consumer() string { return q.opts.Consumer }

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return wrapErr("ping", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Enqueue: group commit
// ---------------------------------------------------------------------------

// EnqueueError is returned by Enqueue when a round trip to Redis failed
// after it was sent: its hits may or may not have been accepted. It wraps
// analytics.ErrUnavailable (or the context's error). Token names the
// round trip; EnqueueSpooled uses it to tell whether the hits made it, so
// the spool can replay them without duplicates.
type EnqueueError struct {
	Token string
	Err   error
}

func (e *EnqueueError) Error() string {
	return e.Err.Error() + " (outcome unknown, token " + e.Token + ")"
}
func (e *EnqueueError) Unwrap() error { return e.Err }

// EnqueueToken returns Token (the spool's spool.Uncertain interface).
func (e *EnqueueError) EnqueueToken() string { return e.Token }

type entry struct {
	shard int
	b     []byte
}

// MarshalBinary returns the encoded hit: a *entry is a script argument
// (go-redis writes an encoding.BinaryMarshaler as its bytes) that costs
// no allocation, unlike a []byte in an interface.
func (e *entry) MarshalBinary() ([]byte, error) { return e.b, nil }

// request states
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// enqReq is one Enqueue call's request to the batcher. Requests are
// reused (Queue.reqPool) once their caller has the outcome; one whose
// caller gave up is left to the garbage collector, as the batcher may
// still hold it.
type enqReq struct {
	entries []entry
	buf     []byte // the encoded hits, which entries point into
	state   atomic.Int32
	seq     atomic.Uint64 // the round trip that carries it, once taken
	done    chan error
}

type enqBatch struct {
	seq  uint64
	reqs []*enqReq
	n    int
}

// Enqueue adds hits, grouped with concurrent callers into one round trip
// (a script: all or none of a round trip is applied, and only once). It returns when
// that round trip is done. An error of type *EnqueueError means the
// outcome is unknown (any failed round trip: go-redis retries, so even a
// refused dial may follow an attempt that Redis applied); ErrUnavailable
// without it means nothing was accepted (above MaxMemory).
func (q *Queue) Enqueue(ctx context.Context, hits []analytics.Hit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisqueue: enqueue: %w", err)
	}
	if len(hits) == 0 {
		if q.isClosed() {
			return fmt.Errorf("redisqueue: enqueue: %w", analytics.ErrClosed)
		}
		return nil
	}
	r := q.newReq(hits)
	if err := q.submit(ctx, r); err != nil {
		q.putReq(r)
		return err
	}
	select {
	case err := <-r.done:
		q.putReq(r)
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return fmt.Errorf("redisqueue: enqueue: %w", ctx.Err())
		}
		return &EnqueueError{Token: q.token(r.seq.Load()), Err: fmt.Errorf("redisqueue: enqueue: %w", ctx.Err())}
	}
}

// newReq returns a request for hits, reusing a settled one.
func (q *Queue) newReq(hits []analytics.Hit) *enqReq {
	r, _ := q.reqPool.Get().(*enqReq)
	if r == nil {
		r = &enqReq{done: make(chan error, 1)}
	}
	r.state.Store(reqQueued)
	r.seq.Store(0)
	r.entries, r.buf = q.encodeTo(r.entries[:0], r.buf[:0], hits)
	return r
}

// putReq keeps r for reuse: its caller has the outcome, and the batcher
// and the round trip are done with it.
func (q *Queue) putReq(r *enqReq) {
	if cap(r.buf) <= 64<<10 {
		q.reqPool.Put(r)
	}
}

func (q *Queue) encode(hits []analytics.Hit) []entry {
	entries, _ := q.encodeTo(nil, nil, hits)
	return entries
}

// encodeTo appends the hits' entries to entries and their encodings to
// buf (the entries point into it).
func (q *Queue) encodeTo(entries []entry, buf []byte, hits []analytics.Hit) ([]entry, []byte) {
	buf = slices.Grow(buf, 256*len(hits))
	entries = slices.Grow(entries, len(hits))
	shards := uint64(len(q.keys.streams))
	for i := range hits {
		h := &hits[i]
		pos := h.Pos
		h.Pos = analytics.Position{} // the stream ID is the position
		start := len(buf)
		buf = hitcodec.Append(buf, h)
		h.Pos = pos
		entries = append(entries, entry{shard: int(h.ShardKey() % shards), b: buf[start:len(buf):len(buf)]})
	}
	return entries, buf
}

func (q *Queue) submit(ctx context.Context, r *enqReq) error {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return fmt.Errorf("redisqueue: enqueue: %w", analytics.ErrClosed)
	}
	select {
	case q.reqs <- r:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("redisqueue: enqueue: %w", ctx.Err())
	}
}

func (q *Queue) isClosed() bool {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	return q.closed
}

func (q *Queue) token(seq uint64) string { return q.producer + ":" + strconv.FormatUint(seq, 10) }

// runBatcher groups requests: while every flush slot is busy, requests
// pile up into the next round trip.
func (q *Queue) runBatcher() {
	defer q.batcher.Done()
	var b *enqBatch
	add := func(r *enqReq) {
		if b == nil {
			b = &enqBatch{seq: q.seq.Add(1)}
		}
		r.seq.Store(b.seq)
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			return // its caller gave up before it was sent
		}
		b.reqs = append(b.reqs, r)
		b.n += len(r.entries)
	}
	stopping := false
	stop := q.stopReq
	for {
		if b == nil {
			if stopping {
				// Take what is left, then wait for the flushes.
				select {
				case r := <-q.reqs:
					add(r)
					continue
				default:
				}
				for range flushSlots {
					q.slots <- struct{}{}
				}
				return
			}
			select {
			case r := <-q.reqs:
				add(r)
			case <-stop:
				stopping = true
			}
			continue
		}
		if len(b.reqs) == 0 { // all cancelled
			b = nil
			continue
		}
		if w := q.opts.BatchWait; w > 0 && !stopping {
			t := time.NewTimer(w)
		linger:
			for b.n < maxBatchHits {
				select {
				case r := <-q.reqs:
					add(r)
				case <-t.C:
					break linger
				}
			}
			t.Stop()
		}
		// Let the goroutines that are runnable now reach Enqueue before
		// the batch is cut: with few Ps (an HTTP server under load with
		// GOMAXPROCS=1), the caller that woke us is often the first of
		// many requests ready at once, and a round trip costs far more
		// than the hits it carries. Yield again while that brings more.
		for range gatherYields {
			runtime.Gosched()
			before := b.n
		drain:
			for b.n < maxBatchHits {
				select {
				case r := <-q.reqs:
					add(r)
				default:
					break drain
				}
			}
			if b.n == before {
				break
			}
		}
	collect:
		for b.n < maxBatchHits {
			// Queued requests first: a select with several ready cases
			// picks one at random, which would cut batches short.
			select {
			case r := <-q.reqs:
				add(r)
				continue
			default:
			}
			select {
			case r := <-q.reqs:
				add(r)
			case q.slots <- struct{}{}:
				go q.flush(b)
				b = nil
				break collect
			case <-stop:
				stopping = true
				stop = nil // closed: stop selecting it
			}
		}
		if b != nil { // full
			q.slots <- struct{}{}
			go q.flush(b)
			b = nil
		}
	}
}

// flush writes one batch.
func (q *Queue) flush(b *enqBatch) {
	defer func() { <-q.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), roundTripTimeout)
	defer cancel()
	err := q.writeBatch(ctx, b)
	for _, r := range b.reqs {
		r.done <- err
	}
}

// writeBatch adds a batch's entries with the enqueue script, which also
// records the round trip in the producer's dedup set and makes a client
// retry after a lost reply harmless.
func (q *Queue) writeBatch(ctx context.Context, b *enqBatch) error {
	if err := q.checkMemory(ctx); err != nil {
		return err
	}
	keys, args := q.entryArgs([]string{q.keys.producer(q.producer)}, []any{b.seq, dedupKeep, q.opts.DedupTTL.Milliseconds()}, b.reqs)
	err := scriptEnqueue.Run(ctx, q.rdb, keys, args...).Err()
	if err == nil {
		return nil
	}
	// Every failure is uncertain, even one that looks like it happened
	// before sending (a refused dial, a pool timeout, LOADING): go-redis
	// retries, and the last attempt's error says nothing about an earlier
	// attempt that Redis may have applied before its reply was lost.
	return &EnqueueError{Token: q.token(b.seq), Err: wrapErr("enqueue", err)}
}

// entryArgs appends the streams of the requests' entries to keys (each
// once) and (key index, bytes) pairs to args.
func (q *Queue) entryArgs(keys []string, args []any, reqs []*enqReq) ([]string, []any) {
	n := 0
	for _, r := range reqs {
		n += len(r.entries)
	}
	args = slices.Grow(args, 2*n)
	index := make([]int, len(q.keys.streams)) // shard → key index, 0: none yet
	for _, r := range reqs {
		for j := range r.entries {
			e := &r.entries[j]
			i := index[e.shard]
			if i == 0 {
				keys = append(keys, q.keys.streams[e.shard])
				i = len(keys) // Lua indexes from 1
				index[e.shard] = i
			}
			args = append(args, i, e) // *entry: no copy, no allocation
		}
	}
	return keys, args
}

// memGauge caches Redis used_memory for the MaxMemory mark.
type memGauge struct {
	mu    sync.Mutex
	at    time.Time
	used  int64
	error error
}

func (q *Queue) checkMemory(ctx context.Context) error {
	if q.opts.MaxMemory <= 0 {
		return nil
	}
	g := &q.mem
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.at) >= time.Second {
		used, err := usedMemory(ctx, q.rdb)
		g.at, g.used, g.error = time.Now(), used, err
	}
	if g.error != nil {
		return wrapErr("read used memory", g.error)
	}
	if g.used > q.opts.MaxMemory {
		return fmt.Errorf("redisqueue: enqueue: Redis uses %d bytes, above the mark of %d: %w", g.used, q.opts.MaxMemory, analytics.ErrUnavailable)
	}
	return nil
}

// usedMemory returns INFO memory's used_memory.
func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}

// ---------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------

// Stats reports per shard the stream length (every entry in a stream is
// unacknowledged: acknowledged entries are deleted), the age of its first
// entry, the memory of the stream key (MEMORY USAGE, sampled), the lease
// owner and lease age; InFlight counts the hits of outstanding deliveries
// of every consumer. One pipelined round trip.
func (q *Queue) Stats(ctx context.Context) (analytics.QueueStats, error) {
	type cmds struct {
		xlen  *redis.IntCmd
		first *redis.XMessageSliceCmd
		lease *redis.StringCmd
		mem   *redis.IntCmd
	}
	per := make([]cmds, len(q.keys.streams))
	var inflight *redis.MapStringStringCmd
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n, s := range q.keys.streams {
			per[n] = cmds{
				xlen:  p.XLen(ctx, s),
				first: p.XRangeN(ctx, s, "-", "+", 1),
				lease: p.Get(ctx, q.keys.leases[n]),
				mem:   p.MemoryUsage(ctx, s),
			}
		}
		inflight = p.HGetAll(ctx, q.keys.inflight)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		// A missing key is not an error here; anything else is.
		for _, c := range per {
			for _, e := range []error{c.xlen.Err(), c.first.Err(), c.lease.Err()} {
				if e != nil && !errors.Is(e, redis.Nil) {
					return analytics.QueueStats{}, wrapErr("stats", e)
				}
			}
		}
		if e := inflight.Err(); e != nil && !errors.Is(e, redis.Nil) {
			return analytics.QueueStats{}, wrapErr("stats", e)
		}
	}
	now := q.opts.Now()
	fl := inflight.Val()
	var st analytics.QueueStats
	for n, c := range per {
		ss := analytics.ShardStats{Shard: q.keys.shardName[n], Depth: c.xlen.Val()}
		if msgs := c.first.Val(); len(msgs) > 0 && ss.Depth > 0 {
			if p, err := analytics.ParsePosition(msgs[0].ID); err == nil {
				ss.OldestAge = max(now.Sub(time.UnixMilli(int64(p.Hi))), time.Nanosecond)
			}
		}
		if v := c.lease.Val(); v != "" {
			cons, _, at := parseLease(v)
			ss.Owner = cons
			if !at.IsZero() {
				ss.LeaseAge = max(now.Sub(at), 0)
			}
		}
		if f, ok := fl[strconv.Itoa(n)]; ok {
			k, _ := strconv.ParseInt(f, 10, 64)
			st.InFlight += min(max(k, 0), ss.Depth)
		}
		st.Depth += ss.Depth
		st.OldestAge = max(st.OldestAge, ss.OldestAge)
		st.Bytes += max(c.mem.Val(), 0)
		st.Shards = append(st.Shards, ss)
	}
	return st, nil
}

// parseLease splits a lease value "<consumer>|<token>|<unix ms>".
func parseLease(v string) (consumer string, token uint64, at time.Time) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 {
		return v, 0, time.Time{}
	}
	ms, _ := strconv.ParseInt(v[i+1:], 10, 64)
	rest := v[:i]
	j := strings.LastIndexByte(rest, '|')
	if j < 0 {
		return rest, 0, time.UnixMilli(ms)
	}
	token, _ = strconv.ParseUint(rest[j+1:], 10, 64)
	return rest[:j], token, time.UnixMilli(ms)
}

// ---------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------

// Close stops accepting hits (Enqueue fails with ErrClosed) after the
// round trips in flight are done. A consumer then drains: Receive keeps
// handing out the hits of the shards it holds until they are empty (or
// Options.DrainTimeout passed) and returns ErrClosed once its outstanding
// deliveries are settled; each lease is released as soon as its shard is
// drained, so other consumers take over at once. Hits left in Redis stay
// there for the others. Close does not block on the drain and is
// idempotent. When the queue was made by Open, the connection is closed
// once the drain is over.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.closeMu.Lock()
		q.closed = true
		q.closeMu.Unlock()
		close(q.stopReq)
		q.batcher.Wait()

		q.consMu.Lock()
		c := q.cons
		q.consMu.Unlock()
		if c != nil {
			c.close() // the consumer closes q.done when it has left
			return
		}
		if q.ownClient {
			q.rdb.Close()
		}
		close(q.done)
	})
	return nil
}

// Done returns a channel that is closed once the queue has shut down after
// Close: the consumer, if Receive was ever called, has settled its
// deliveries, released its leases and left the consumer set, and a
// connection made by Open is closed. Waiting on it before exiting lets the
// other consumers take this one's shards at once (a consumer that exits
// without leaving counts as live, and keeps its share from being taken,
// until its heartbeat expires after Options.LeaseTTL); a caller that
// passed its own client to New waits on it before closing that client.
// A delivery that is never settled keeps it open until
// Options.DrainTimeout has passed and the delivery's lease ran out.
func (q *Queue) Done() <-chan struct{} { return q.done }
