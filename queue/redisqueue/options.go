package redisqueue

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

// Options configure a Queue. A zero field means its documented default.
type Options struct {
	// Prefix starts every Redis key of the queue ("<prefix>:s:<n>" …).
	// With Redis Cluster it must contain a hash tag ("{footfall}") so that
	// all keys of the queue live in one slot (the queue's scripts and
	// transactions touch several keys at once).
	// Default: "footfall".
	Prefix string

	// Shards is the number of streams hits are spread over (by
	// Hit.ShardKey), the upper bound of parallel consumers. It is stored
	// in Redis on first use; opening an existing queue with another
	// non-zero count fails with ErrInvalid instead of silently
	// re-sharding (which would break per-visitor order).
	// Default: the stored count, else 16.
	Shards int

	// Consumer names this process in leases and the consumer registry; it
	// must be unique among live consumers.
	// Default: "<hostname>-<pid>-<random>".
	Consumer string

	// LeaseTTL is how long a shard lease lasts without renewal: the time
	// after which a dead consumer's shards are taken over. Leases are
	// renewed every LeaseTTL/5.
	// Default: 15s.
	LeaseTTL time.Duration

	// AckTimeout is how long a Delivery may stay unsettled before this
	// process presumes its handler dead and delivers the hits again (its
	// late Ack then fails with ErrConflict).
	// Default: 5m.
	AckTimeout time.Duration

	// BatchWait is how long Enqueue waits for concurrent callers to share
	// a round trip. Concurrent calls are grouped anyway while earlier
	// round trips are in flight, so the default adds no latency.
	// Default: 0.
	BatchWait time.Duration

	// BlockTimeout bounds one blocking wait for new entries (XREAD BLOCK)
	// and so the delay before a consumer notices an idle shard's first
	// new hit in the worst case.
	// Default: 200ms.
	BlockTimeout time.Duration

	// DeadLetterAfter: once the first pending hit of a shard has been
	// delivered this many times without an Ack, it is delivered alone
	// (a one-hit Delivery with Attempt > DeadLetterAfter), so that the
	// consumer can tell the poison hit and DeadLetter it.
	// Default: 5.
	DeadLetterAfter int

	// MaxMemory is a high-water mark of Redis used_memory in bytes:
	// above it Enqueue fails with ErrUnavailable (so ingest spools to
	// disk) instead of letting Redis run out. 0 = no mark. Checked at
	// most once a second.
	MaxMemory int64

	// DrainTimeout bounds the drain after Close: Receive keeps handing
	// out the hits of the shards this consumer holds until they are
	// empty or DrainTimeout has passed, then the leases are released.
	// Negative: no drain, Close releases every lease not held by an
	// outstanding delivery at once.
	// Default: 5s.
	DrainTimeout time.Duration

	// DedupTTL is how long Redis remembers what the spool replayed and
	// which enqueue round trips succeeded, to drop duplicate replays
	// (see EnqueueSpooled).
	// Default: 168h (7 days).
	DedupTTL time.Duration

	// Logger receives warnings (lost leases, dead-lettered entries).
	// Default: a null logger.
	Logger hclog.Logger

	// Now is the clock of Stats ages and lease ages.
	// Default: time.Now.
	Now func() time.Time
}

const defaultShards = 16

func (o *Options) setDefaults() {
	if o.Prefix == "" {
		o.Prefix = "footfall"
	}
	if o.Consumer == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "consumer"
		}
		o.Consumer = host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(rand.Uint64()&0xffffff, 16)
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 15 * time.Second
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = 5 * time.Minute
	}
	if o.BlockTimeout == 0 {
		o.BlockTimeout = 200 * time.Millisecond
	}
	if o.DeadLetterAfter == 0 {
		o.DeadLetterAfter = 5
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 5 * time.Second
	}
	if o.DedupTTL == 0 {
		o.DedupTTL = 7 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports the first invalid field, wrapping analytics.ErrInvalid.
// It expects defaults to be filled (New does that).
func (o *Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("redisqueue: options: "+format+": %w", append(args, analytics.ErrInvalid)...)
	}
	switch {
	case strings.ContainsAny(o.Prefix, " \t\r\n"):
		return bad("prefix %q contains white space", o.Prefix)
	case o.Shards < 0 || o.Shards > 1<<16:
		return bad("shards %d not in 1..65536", o.Shards)
	case strings.Contains(o.Consumer, "|"):
		return bad("consumer %q contains '|'", o.Consumer)
	case o.LeaseTTL < 50*time.Millisecond:
		return bad("lease TTL %v below 50ms", o.LeaseTTL)
	case o.AckTimeout < 0:
		return bad("negative ack timeout %v", o.AckTimeout)
	case o.BatchWait < 0 || o.BatchWait > time.Second:
		return bad("batch wait %v not in 0..1s", o.BatchWait)
	case o.BlockTimeout < time.Millisecond:
		return bad("block timeout %v below 1ms", o.BlockTimeout)
	case o.DeadLetterAfter < 1:
		return bad("dead letter after %d below 1", o.DeadLetterAfter)
	case o.MaxMemory < 0:
		return bad("negative max memory %d", o.MaxMemory)
	case o.DedupTTL < time.Second:
		return bad("dedup TTL %v below 1s", o.DedupTTL)
	}
	return nil
}
