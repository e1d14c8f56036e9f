// Package standard wires Footfall's default backends from a config.Config:
// the store (SQLite or MySQL), the queue (in-memory or Redis, with the
// ingest spool), geolocation, and the options of the ingest Handler and
// Processor. The footfall binary and anything else that starts Footfall
// from a config file use it; programs that embed Footfall as a library can
// build the same parts by hand (see examples/full).
package standard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/queue/redisqueue"
	"github.com/footfall/analytics/queue/spool"
	"github.com/footfall/analytics/store/sqlitestore"
)

// StoreOptions says how to open the store.
type StoreOptions struct {
	// Migrate applies pending migrations (the migrate and all roles).
	// Without it a store whose schema is not current is refused.
	Migrate bool
	Logger  hclog.Logger
}

// OpenStore opens the store named by cfg.Store.
func OpenStore(ctx context.Context, cfg *config.Config, o StoreOptions) (analytics.Store, error) {
	logger := o.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	switch cfg.Store.Driver {
	case "sqlite":
		path := cfg.SQLitePath()
		if o.Migrate {
			if err := os.MkdirAll(dirOf(path), 0o750); err != nil {
				return nil, fmt.Errorf("standard: data directory: %w", err)
			}
		}
		return sqlitestore.Open(ctx, sqlitestore.Options{
			Path:    path,
			Logger:  logger.Named("sqlite"),
			Migrate: o.Migrate,
		})
	case "mysql":
		return openMySQL(ctx, cfg, o.Migrate, logger.Named("mysql"))
	}
	return nil, fmt.Errorf("standard: store.driver %q: %w", cfg.Store.Driver, analytics.ErrInvalid)
}

// QueueRole says which side of the queue a process is on.
type QueueRole int

const (
	// Producer: the ingest role. A Redis queue is wrapped in the disk
	// spool, so hits survive Redis being away.
	Producer QueueRole = iota + 1
	// Consumer: the worker role.
	Consumer
	// InProcess: the all role; producer and consumer in one process.
	InProcess
)

// Queue is an opened queue with what must run beside it.
type Queue struct {
	analytics.Queue
	// Run, when non-nil, must run while the queue is used (the spool
	// replay).
	Run     func(ctx context.Context) error
	closers []io.Closer
}

// DeadLetter forwards to the wrapped queue, so that the Processor finds
// analytics.DeadLetterer through the wrapper (embedding the interface
// would hide it) and poison hits reach the dead-letter stream instead of
// being dropped.
func (q *Queue) DeadLetter(ctx context.Context, d *analytics.Delivery, hits []analytics.Hit, cause error) error {
	dl, ok := q.Queue.(analytics.DeadLetterer)
	if !ok {
		return fmt.Errorf("standard: queue %T cannot dead-letter: %w", q.Queue, analytics.ErrInvalid)
	}
	return dl.DeadLetter(ctx, d, hits, cause)
}

var _ analytics.DeadLetterer = (*Queue)(nil)

// Close closes the queue and what it wraps. Idempotent like the drivers.
func (q *Queue) Close() error {
	err := q.Queue.Close()
	for _, c := range q.closers {
		err = errors.Join(err, c.Close())
	}
	return err
}

// Done is the wrapped queue's Done when it has one (redisqueue: closed
// once, after Close, the consumer has settled its deliveries, released
// its leases and left the consumer set); for a queue without one it is a
// closed channel.
func (q *Queue) Done() <-chan struct{} {
	if d, ok := q.Queue.(interface{ Done() <-chan struct{} }); ok {
		return d.Done()
	}
	return closedChan
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// OpenQueue opens the queue named by cfg.Queue for role.
func OpenQueue(ctx context.Context, cfg *config.Config, role QueueRole, logger hclog.Logger) (*Queue, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	switch cfg.Queue.Driver {
	case "memory":
		if role != InProcess {
			return nil, fmt.Errorf("standard: queue.driver \"memory\" works only when ingest and workers share a process (the all role); use \"redis\": %w", analytics.ErrInvalid)
		}
		q, err := memqueue.New(memqueue.Options{
			Shards:     cfg.Queue.Shards,
			AckTimeout: cfg.Queue.AckTimeout,
			Logger:     logger.Named("memqueue"),
		})
		if err != nil {
			return nil, err
		}
		return &Queue{Queue: q}, nil
	case "redis":
		rq, err := redisqueue.Open(cfg.Queue.Redis.URL, redisqueue.Options{
			Prefix:          cfg.Queue.Redis.Prefix,
			Shards:          cfg.Queue.Shards,
			LeaseTTL:        cfg.Queue.Redis.LeaseTTL,
			AckTimeout:      cfg.Queue.AckTimeout,
			DeadLetterAfter: cfg.Queue.Redis.DeadLetterAfter,
			MaxMemory:       int64(cfg.Queue.Redis.MaxMemory),
			Logger:          logger.Named("redisqueue"),
		})
		if err != nil {
			return nil, err
		}
		if role == Consumer {
			return &Queue{Queue: rq}, nil
		}
		sp, err := spool.New(rq, spool.Options{
			Dir:      cfg.SpoolDir(),
			MaxBytes: int64(cfg.Queue.Spool.MaxBytes),
			Logger:   logger.Named("spool"),
		})
		if err != nil {
			rq.Close()
			return nil, err
		}
		return &Queue{Queue: sp, Run: sp.Run}, nil
	}
	return nil, fmt.Errorf("standard: queue.driver %q: %w", cfg.Queue.Driver, analytics.ErrInvalid)
}

// Geo is an opened geolocation database with its file watcher.
type Geo struct {
	analytics.Geo
	Run   func(ctx context.Context) error
	Close func() error
}

// HandlerOptions returns the ingest Handler's options from cfg; the
// caller sets Queue, Sites, Scripts and Logger.
func HandlerOptions(cfg *config.Config) ingest.HandlerOptions {
	return ingest.HandlerOptions{
		Tokens:                   cfg.Ingest.TrackingTokens,
		TrustedProxies:           cfg.TrustedProxyPrefixes(),
		ClientIPHeaders:          cfg.Ingest.ClientIPHeaders,
		ProxyIPReadFirst:         !cfg.Ingest.ProxyIPReadLast,
		MaxBodyBytes:             int64(cfg.Ingest.MaxBodyBytes),
		MaxBulkItems:             cfg.Ingest.MaxBulkItems,
		MaxFieldLength:           cfg.Ingest.MaxFieldLength,
		MaxURLLength:             cfg.Ingest.MaxURLLength,
		Disabled:                 !cfg.Ingest.RecordStatistics,
		SiteRefresh:              cfg.Ingest.SiteRefresh,
		CustomTimestampAuthAfter: cfg.Ingest.CustomTimestampRequiresAuthAfter,
		BulkRequiresAuth:         cfg.Ingest.BulkRequiresAuth,
		Privacy:                  cfg.PrivacyDefaults(),
	}
}

// ProcessorOptions returns the Processor's options from cfg; the caller
// sets Queue, Store, Geo, Logger and OnBatch.
func ProcessorOptions(cfg *config.Config) ingest.ProcessorOptions {
	return ingest.ProcessorOptions{
		Workers:                         cfg.Worker.Processors,
		BatchSize:                       cfg.Worker.BatchSize,
		VisitLength:                     cfg.Tracker.VisitLength,
		DisableNewVisitAtMidnight:       !cfg.Tracker.NewVisitAtMidnight,
		DisableNewVisitOnCampaignChange: !cfg.Tracker.NewVisitOnCampaignChange,
		NewVisitOnReferrerChange:        cfg.Tracker.NewVisitOnReferrerChange,
		MaxActionsPerVisit:              cfg.Tracker.MaxActionsPerVisit,
		ExcludedQueryParams:             cfg.Tracker.ExcludedQueryParams,
		ExcludedIPs:                     cfg.Tracker.ExcludedIPs,
		ExcludedUserAgents:              cfg.Tracker.ExcludedUserAgents,
		TrackBots:                       cfg.Tracker.TrackBots,
		Privacy:                         cfg.PrivacyDefaults(),
		UserIDSalt:                      cfg.Privacy.Salt,
		SaltGrace:                       saltGrace(cfg),
		SiteRefresh:                     cfg.Ingest.SiteRefresh,
	}
}

// saltGrace is privacy.salt_grace as ProcessorOptions.SaltGrace reads it:
// the option takes 0 for its default (24h), so "0s" (no grace) becomes
// negative.
func saltGrace(cfg *config.Config) time.Duration {
	if cfg.Privacy.SaltGrace == 0 {
		return -1
	}
	return cfg.Privacy.SaltGrace
}

// Logger builds the process logger from cfg.Log.
func Logger(cfg *config.Config, name string, w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      cfg.LogLevel(),
		JSONFormat: cfg.Log.Format == "json",
		Output:     w,
	})
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i]
		}
	}
	return "."
}
