package memqueue

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

// Options configure a Queue. A zero field means its default.
type Options struct {
	// Shards is the number of shards; a hit goes to shard
	// Hit.ShardKey() % Shards. It bounds how many consumers can work at
	// once. Default: 16.
	Shards int
	// AckTimeout is how long a Delivery may stay neither acknowledged nor
	// given back before its consumer is presumed dead and its hits are
	// delivered again. Default: 1m.
	AckTimeout time.Duration
	// MaxHits bounds the hits held (queued or in flight). Enqueue beyond
	// it fails with analytics.ErrUnavailable: backpressure, never a
	// silent drop. Default: 1_000_000.
	MaxHits int
	// MaxDeadLetters bounds the dead letters kept for DeadLetters; beyond
	// it the oldest are dropped (with an error in the log).
	// Default: 10_000.
	MaxDeadLetters int
	// Name prefixes shard names: shard i is Name+"/"+i. Stores key their
	// checkpoints by shard name, so two queues feeding one store need
	// different names. Default: "mem".
	Name string
	// Logger receives nacks, expired deliveries and dead letters.
	// Default: a null logger.
	Logger hclog.Logger
	// Now returns the current time; it decides ack timeouts and the ages
	// in Stats. Default: time.Now.
	Now func() time.Time
}

// Limits of Options.
const (
	maxShards = 1 << 16
)

func (o *Options) setDefaults() {
	if o.Shards == 0 {
		o.Shards = 16
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = time.Minute
	}
	if o.MaxHits == 0 {
		o.MaxHits = 1_000_000
	}
	if o.MaxDeadLetters == 0 {
		o.MaxDeadLetters = 10_000
	}
	if o.Name == "" {
		o.Name = "mem"
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports the first invalid option, wrapping analytics.ErrInvalid.
// Zero fields are valid: they mean the default.
func (o Options) Validate() error {
	switch {
	case o.Shards < 0 || o.Shards > maxShards:
		return fmt.Errorf("memqueue: Shards %d: want 1 to %d: %w", o.Shards, maxShards, analytics.ErrInvalid)
	case o.AckTimeout < 0:
		return fmt.Errorf("memqueue: AckTimeout %v: want a positive duration: %w", o.AckTimeout, analytics.ErrInvalid)
	case o.MaxHits < 0:
		return fmt.Errorf("memqueue: MaxHits %d: want a positive number: %w", o.MaxHits, analytics.ErrInvalid)
	case o.MaxDeadLetters < 0:
		return fmt.Errorf("memqueue: MaxDeadLetters %d: want a positive number: %w", o.MaxDeadLetters, analytics.ErrInvalid)
	}
	return nil
}

// Queue is an in-process analytics.Queue. It is safe for concurrent use.
// See the package documentation for its semantics.
type Queue struct {
	opts    Options
	log     hclog.Logger
	gen     uint64    // Position.Hi of every hit of this queue
	base    time.Time // origin of the monotonic nanoseconds in entries
	timeout int64     // AckTimeout in nanoseconds
	maxHits int64
	shards  []*shard

	// notify carries one wake-up token to the Receive calls waiting for a
	// ready shard; a Receive that takes a token and gets a delivery passes
	// a token on, so every ready shard finds a waiting receiver.
	notify    chan struct{}
	done      chan struct{} // closed by Close
	closed    atomic.Bool
	closeOnce sync.Once
	cursor    atomic.Uint32 // shard after the last one delivered: round robin

	_        [64]byte     // keep the hot counter on its own cache line
	reserved atomic.Int64 // hits held, for MaxHits
	_        [56]byte

	deadMu sync.Mutex
	dead   []DeadLetter
}

// DeadLetter is a hit taken out of its shard by DeadLetter.
type DeadLetter struct {
	Shard   string
	Hit     analytics.Hit
	Attempt int   // times the hit had been delivered
	Cause   error // what the consumer gave as the reason
	Time    time.Time
}

// shard is one ordered sequence of hits. Its unacknowledged entries sit in
// a deque, oldest first; the outstanding delivery, if any, holds the first
// outN of them.
//
// A shard is also the analytics.Acker of its deliveries, so that settling
// one needs no lookup and Delivery.Acker no allocation.
type shard struct {
	q        *Queue
	mu       sync.Mutex
	name     string
	seq      uint64 // last Position.Lo handed out
	buf      deque  // unacknowledged entries, oldest first
	live     int    // entries not dead-lettered
	bytes    int64
	out      *analytics.Delivery // the outstanding delivery, nil when none
	outN     int                 // entries it covers
	outDead  int                 // of those, dead-lettered
	outAt    int64               // when it was made
	deadline int64               // when it expires
}

type entry struct {
	hit      analytics.Hit
	at       int64 // when it was enqueued (nanoseconds since Queue.base)
	size     int32 // estimate of its memory, for Stats.Bytes
	attempts int32 // deliveries so far
	dead     bool  // dead-lettered (only inside the outstanding delivery)
}

// New returns an empty Queue.
func New(opts Options) (*Queue, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	q := &Queue{
		opts:    opts,
		log:     opts.Logger.Named("memqueue"),
		gen:     uint64(time.Now().UnixNano()),
		base:    opts.Now(),
		timeout: int64(opts.AckTimeout),
		maxHits: int64(opts.MaxHits),
		shards:  make([]*shard, opts.Shards),
		notify:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for i := range q.shards {
		q.shards[i] = &shard{q: q, name: opts.Name + "/" + strconv.Itoa(i)}
	}
	return q, nil
}

// Interface guards.
var (
	_ analytics.Queue        = (*Queue)(nil)
	_ analytics.DeadLetterer = (*Queue)(nil)
	_ analytics.Acker        = (*shard)(nil)
)

// mono returns the time as nanoseconds since q.base (monotonic when Now is
// time.Now).
func (q *Queue) mono() int64 { return int64(q.opts.Now().Sub(q.base)) }

// signal hands out a wake-up token unless one is pending.
func (q *Queue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Enqueue adds copies of hits (sub-structs are shared, not copied: do not
// change them afterwards), each to its shard, and never blocks. It fails
// with ctx's error when ctx is done, analytics.ErrUnavailable when the
// hits would exceed MaxHits (accepting none), analytics.ErrInvalid when
// they are more than MaxHits, analytics.ErrClosed after Close. Only a
// Close racing with Enqueue leaves part of the hits accepted.
func (q *Queue) Enqueue(ctx context.Context, hits []analytics.Hit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: enqueue: %w", err)
	}
	if q.closed.Load() {
		return fmt.Errorf("memqueue: enqueue: %w", analytics.ErrClosed)
	}
	k := int64(len(hits))
	if k == 0 {
		return nil
	}
	if k > q.maxHits {
		return fmt.Errorf("memqueue: enqueue: %d hits at once, MaxHits is %d: %w", k, q.maxHits, analytics.ErrInvalid)
	}
	if q.reserved.Add(k) > q.maxHits {
		q.reserved.Add(-k)
		return fmt.Errorf("memqueue: enqueue: queue full (MaxHits %d): %w", q.maxHits, analytics.ErrUnavailable)
	}
	at := q.mono()
	nshards := uint64(len(q.shards))
	for i := range hits {
		s := q.shards[hits[i].ShardKey()%nshards]
		s.mu.Lock()
		// Checked under the shard lock: once Close has set the flag, no
		// hit gets in that a draining Receive could miss.
		if q.closed.Load() {
			s.mu.Unlock()
			q.reserved.Add(-(k - int64(i)))
			return fmt.Errorf("memqueue: enqueue: closed after %d of %d hits: %w", i, k, analytics.ErrClosed)
		}
		wake := s.push(&hits[i], q.gen, at)
		s.mu.Unlock()
		if wake {
			q.signal()
		}
	}
	return nil
}

// push appends a copy of h and reports whether the shard just became
// ready (it had nothing to deliver before).
func (s *shard) push(h *analytics.Hit, gen uint64, at int64) bool {
	e := s.buf.push()
	e.hit = *h
	s.seq++
	e.hit.Pos = analytics.Position{Hi: gen, Lo: s.seq}
	e.at = at
	e.size = hitSize(h)
	e.attempts = 0
	e.dead = false
	wake := s.out == nil && s.live == 0
	s.live++
	s.bytes += int64(e.size)
	return wake
}

// deliver hands out up to max of the shard's entries. The shard must be
// ready: no outstanding delivery (so no dead entries) and live > 0.
func (s *shard) deliver(max int, now, timeout int64) *analytics.Delivery {
	k := min(max, s.buf.n)
	hits := make([]analytics.Hit, k)
	it := s.buf.iter()
	for i := range hits {
		e := it.next()
		e.attempts++
		hits[i] = e.hit
	}
	d := &analytics.Delivery{Shard: s.name, Hits: hits, Attempt: int(s.buf.at(0).attempts), Acker: s}
	s.out, s.outN, s.outDead = d, k, 0
	s.outAt, s.deadline = now, now+timeout
	if s.deadline < now {
		s.deadline = math.MaxInt64 // an ack timeout of centuries
	}
	return d
}

// requeue ends the outstanding delivery and gives its entries back, in
// order, without the dead-lettered ones.
func (s *shard) requeue() {
	if s.outDead > 0 {
		// Keep the live entries of the delivery, in order, at its end,
		// then drop its front. Rare (dead letters), so a copy is fine.
		live := make([]entry, 0, s.outN-s.outDead)
		it := s.buf.iter()
		for range s.outN {
			if e := it.next(); !e.dead {
				live = append(live, *e)
			}
		}
		it = s.buf.iter()
		for range s.outDead {
			it.next()
		}
		for i := range live {
			*it.next() = live[i]
		}
		s.buf.dropFront(s.outDead)
	}
	s.out, s.outN, s.outDead = nil, 0, 0
}

// oldest returns when the oldest live entry was enqueued; the shard must
// have one.
func (s *shard) oldest() int64 {
	it := s.buf.iter()
	for range s.buf.n {
		if e := it.next(); !e.dead {
			return e.at
		}
	}
	return 0
}

// expire gives back the outstanding delivery of s when its ack timeout has
// passed, and reports whether it did.
func (q *Queue) expire(s *shard, now int64) bool {
	if s.out == nil || now < s.deadline {
		return false
	}
	q.log.Warn("delivery not settled within the ack timeout; delivering it again",
		"shard", s.name, "hits", s.outN-s.outDead, "attempt", s.out.Attempt, "ack_timeout", q.opts.AckTimeout)
	s.requeue()
	return true
}

// Receive returns up to max hits of one shard that has no outstanding
// delivery, oldest first, taking shards in turn (round robin) so that a
// busy shard does not starve the others. It waits while there is none,
// until ctx is done (ctx.Err()) or the queue is closed and holds no hit
// (analytics.ErrClosed). After Close it keeps handing out queued hits, and
// those given back or expiring, until every hit is acknowledged or
// dead-lettered. max below 1 is analytics.ErrInvalid.
func (q *Queue) Receive(ctx context.Context, max int) (*analytics.Delivery, error) {
	if max < 1 {
		return nil, fmt.Errorf("memqueue: receive: max %d: want at least 1: %w", max, analytics.ErrInvalid)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			q.signal() // pass on a token this call may have taken
			return nil, err
		}
		closed := q.closed.Load() // before the scan: no hit arrives after
		d, wait, depth := q.scan(max)
		if d != nil {
			q.signal() // another shard may be ready for another receiver
			return d, nil
		}
		if closed && depth == 0 {
			q.signal() // wake the next waiter to see the same
			return nil, fmt.Errorf("memqueue: receive: %w", analytics.ErrClosed)
		}
		var expiry <-chan time.Time
		if wait > 0 {
			if wait < time.Millisecond {
				wait = time.Millisecond // no spinning on a clock that stands still
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			expiry = timer.C
		}
		var done <-chan struct{}
		if !closed {
			done = q.done
		}
		select {
		case <-ctx.Done():
		case <-q.notify:
		case <-done:
		case <-expiry:
		}
	}
}

// scan takes a delivery from the first ready shard at or after the cursor.
// When none is ready it returns how long until the first outstanding
// delivery expires (0 when there is none) and the number of hits held.
func (q *Queue) scan(max int) (d *analytics.Delivery, wait time.Duration, depth int64) {
	now := q.mono()
	n := len(q.shards)
	start := int(q.cursor.Load() % uint32(n))
	next := int64(math.MaxInt64)
	for i := range n {
		idx := start + i
		if idx >= n {
			idx -= n
		}
		s := q.shards[idx]
		s.mu.Lock()
		q.expire(s, now)
		if s.out == nil && s.live > 0 {
			d = s.deliver(max, now, q.timeout)
			s.mu.Unlock()
			q.cursor.Store(uint32(idx + 1))
			return d, 0, 0
		}
		if s.out != nil {
			next = min(next, s.deadline-now)
		}
		depth += int64(s.live)
		s.mu.Unlock()
	}
	if next == math.MaxInt64 {
		next = 0
	}
	return nil, time.Duration(next), depth
}

// Ack acknowledges every hit of d: they are gone. It never blocks and
// ignores ctx. It fails with analytics.ErrConflict, changing nothing, when
// d is not the shard's outstanding delivery: already settled, or its ack
// timeout passed (its hits are then delivered again).
func (s *shard) Ack(_ context.Context, d *analytics.Delivery) error {
	if err := s.own(d, "ack"); err != nil {
		return err
	}
	released := s.outN - s.outDead
	it := s.buf.iter()
	for range s.outN {
		if e := it.next(); !e.dead {
			s.bytes -= int64(e.size)
		}
	}
	s.buf.dropFront(s.outN)
	s.live -= released
	s.out, s.outN, s.outDead = nil, 0, 0
	wake := s.live > 0
	s.mu.Unlock()
	s.q.reserved.Add(-int64(released))
	if wake || s.q.closed.Load() {
		s.q.signal()
	}
	return nil
}

// Nack gives the hits of d back: they are delivered again, first of their
// shard, with the next Attempt. cause is logged at debug level. Errors as
// for Ack.
func (s *shard) Nack(_ context.Context, d *analytics.Delivery, cause error) error {
	if err := s.own(d, "nack"); err != nil {
		return err
	}
	n := s.outN - s.outDead
	s.requeue()
	wake := s.live > 0
	s.mu.Unlock()
	s.q.log.Debug("delivery given back", "shard", s.name, "hits", n, "attempt", d.Attempt, "cause", cause)
	if wake || s.q.closed.Load() {
		s.q.signal()
	}
	return nil
}

// own locks s when d is its outstanding delivery, and fails with
// analytics.ErrConflict otherwise.
func (s *shard) own(d *analytics.Delivery, op string) error {
	if d == nil {
		return fmt.Errorf("memqueue: %s: nil delivery: %w", op, analytics.ErrInvalid)
	}
	q := s.q
	s.mu.Lock()
	mine := s.out == d
	if q.expire(s, q.mono()) {
		s.mu.Unlock()
		q.signal() // the shard is ready again
		if mine {
			return fmt.Errorf("memqueue: %s: delivery of shard %s: ack timeout passed: %w", op, s.name, analytics.ErrConflict)
		}
		return fmt.Errorf("memqueue: %s: delivery of shard %s already settled or expired: %w", op, s.name, analytics.ErrConflict)
	}
	if !mine {
		s.mu.Unlock()
		return fmt.Errorf("memqueue: %s: delivery of shard %s already settled or expired: %w", op, s.name, analytics.ErrConflict)
	}
	return nil
}

// DeadLetter takes hits, which must be hits of the outstanding delivery d
// (matched by Position), out of their shard for good and keeps them, with
// cause, for DeadLetters. d stays outstanding for its other hits: Ack or
// Nack it as usual. It fails with analytics.ErrConflict when d is settled
// or expired, analytics.ErrInvalid when a hit is not (or no longer) in d;
// then it changes nothing.
func (q *Queue) DeadLetter(_ context.Context, d *analytics.Delivery, hits []analytics.Hit, cause error) error {
	if d == nil {
		return fmt.Errorf("memqueue: dead letter: nil delivery: %w", analytics.ErrInvalid)
	}
	s, ok := d.Acker.(*shard)
	if !ok || s.q != q {
		return fmt.Errorf("memqueue: dead letter: delivery of %q is not from this queue: %w", d.Shard, analytics.ErrInvalid)
	}
	if err := s.own(d, "dead letter"); err != nil {
		return err
	}
	idx := make([]int, 0, len(hits))
	for i := range hits {
		p := hits[i].Pos
		j := s.find(p)
		if j < 0 || slices.Contains(idx, j) {
			s.mu.Unlock()
			return fmt.Errorf("memqueue: dead letter: hit at %s is not in the delivery of shard %s: %w", p, s.name, analytics.ErrInvalid)
		}
		idx = append(idx, j)
	}
	now := q.opts.Now()
	letters := make([]DeadLetter, len(idx))
	for i, j := range idx {
		e := s.buf.at(j)
		e.dead = true
		s.live--
		s.outDead++
		s.bytes -= int64(e.size)
		letters[i] = DeadLetter{Shard: s.name, Hit: e.hit, Attempt: int(e.attempts), Cause: cause, Time: now}
	}
	s.mu.Unlock()
	q.reserved.Add(-int64(len(idx)))
	for i := range letters {
		q.log.Warn("hit dead-lettered", "shard", s.name, "hit", letters[i].Hit.ID, "pos", letters[i].Hit.Pos,
			"attempt", letters[i].Attempt, "cause", cause)
	}
	q.deadMu.Lock()
	q.dead = append(q.dead, letters...)
	if over := len(q.dead) - q.opts.MaxDeadLetters; over > 0 {
		q.log.Error("too many dead letters; forgetting the oldest", "dropped", over, "max", q.opts.MaxDeadLetters)
		q.dead = slices.Delete(q.dead, 0, over)
	}
	q.deadMu.Unlock()
	return nil
}

// find returns the index of the live entry at p within the outstanding
// delivery, or -1.
func (s *shard) find(p analytics.Position) int {
	lo, hi := 0, s.outN
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.buf.at(m).hit.Pos.Less(p) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < s.outN {
		if e := s.buf.at(lo); e.hit.Pos == p && !e.dead {
			return lo
		}
	}
	return -1
}

// DeadLetters returns the hits dead-lettered so far (at most
// MaxDeadLetters, the newest), oldest first.
func (q *Queue) DeadLetters() []DeadLetter {
	q.deadMu.Lock()
	defer q.deadMu.Unlock()
	return slices.Clone(q.dead)
}

// Stats reports the hits held (Depth), those in outstanding deliveries
// (InFlight), the age of the oldest, an estimate of their memory (Bytes)
// and the same per shard. It never blocks and works after Close. Owner is
// empty: consumers of an in-process queue are anonymous.
func (q *Queue) Stats(_ context.Context) (analytics.QueueStats, error) {
	now := q.mono()
	st := analytics.QueueStats{Shards: make([]analytics.ShardStats, len(q.shards))}
	wake := false
	for i, s := range q.shards {
		s.mu.Lock()
		wake = q.expire(s, now) || wake
		ss := analytics.ShardStats{Shard: s.name, Depth: int64(s.live)}
		if s.live > 0 {
			ss.OldestAge = time.Duration(max(0, now-s.oldest()))
		}
		if s.out != nil {
			st.InFlight += int64(s.outN - s.outDead)
			ss.LeaseAge = time.Duration(max(0, now-s.outAt))
		}
		st.Bytes += s.bytes
		s.mu.Unlock()
		st.Depth += ss.Depth
		st.OldestAge = max(st.OldestAge, ss.OldestAge)
		st.Shards[i] = ss
	}
	if wake {
		q.signal()
	}
	return st, nil
}

// Close stops accepting hits; Receive drains what is held, then returns
// analytics.ErrClosed. Hits still held when the process exits are lost.
// Close is idempotent and always returns nil.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.closed.Store(true)
		close(q.done)
	})
	return nil
}

// Sizes for the Bytes estimate.
const (
	entrySize = int32(unsafe.Sizeof(entry{}))
)

// hitSize estimates the memory a queued copy of h holds: the entry, its
// strings and its sub-structs.
func hitSize(h *analytics.Hit) int32 {
	n := len(h.UserAgent) + len(h.Lang) + len(h.UAData) + len(h.UserID) + len(h.URL) +
		len(h.Title) + len(h.Referrer) + len(h.PageViewID) + len(h.Link)
	if h.Event != nil {
		n += int(unsafe.Sizeof(*h.Event)) + len(h.Event.Category) + len(h.Event.Action) + len(h.Event.Name)
	}
	if h.Search != nil {
		n += int(unsafe.Sizeof(*h.Search)) + len(h.Search.Keyword) + len(h.Search.Category)
	}
	if h.Content != nil {
		n += int(unsafe.Sizeof(*h.Content)) + len(h.Content.Name) + len(h.Content.Piece) + len(h.Content.Target) + len(h.Content.Interaction)
	}
	if h.Order != nil {
		n += int(unsafe.Sizeof(*h.Order)) + len(h.Order.OrderID) + len(h.Order.Items)*int(unsafe.Sizeof(analytics.Item{}))
	}
	if h.Product != nil {
		n += int(unsafe.Sizeof(*h.Product)) + len(h.Product.SKU) + len(h.Product.Name)
	}
	if h.Timing != nil {
		n += int(unsafe.Sizeof(*h.Timing))
	}
	if h.Attribution != nil {
		n += int(unsafe.Sizeof(*h.Attribution)) + len(h.Attribution.ReferrerURL)
	}
	if h.Location != nil {
		n += int(unsafe.Sizeof(*h.Location))
	}
	n += len(h.Dimensions) * int(unsafe.Sizeof(analytics.Dimension{}))
	return entrySize + int32(min(n, math.MaxInt32-int(entrySize)))
}
