package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest/internal/refdata"
	"github.com/hashicorp/go-hclog"
)

// ProcessorStore is what a Processor needs from storage: sites and goals,
// the log writer, visit lookup and the daily salts. analytics.Store
// satisfies it.
type ProcessorStore interface {
	analytics.SiteStore
	analytics.LogWriter
	analytics.VisitFinder
	analytics.SaltStore
}

// ProcessorOptions configure a Processor. A zero field means the documented
// default.
type ProcessorOptions struct {
	// Queue is consumed by Run; hits that always fail are dead-lettered
	// to it when it implements analytics.DeadLetterer. Required.
	Queue analytics.Queue
	// Store receives the processed log data. Required.
	Store ProcessorStore
	// Geo resolves the full client address before it is anonymized.
	// Default: nil, no geolocation.
	Geo analytics.Geo
	// Logger receives diagnostics. Default: hclog.NewNullLogger().
	Logger hclog.Logger

	// Workers is the number of goroutines Run uses. Default: 2.
	Workers int
	// BatchSize is the most hits asked for per Delivery. Default: 500.
	BatchSize int

	// VisitLength is the idle time after which the next hit opens a new
	// visit (Matomo's visit_standard_length). Default: 30m.
	VisitLength time.Duration
	// DisableNewVisitAtMidnight keeps visits open across midnight in the
	// site's time zone (Matomo's create_new_visit_after_midnight=0).
	// Default: false, a visit ends at local midnight.
	DisableNewVisitAtMidnight bool
	// DisableNewVisitOnCampaignChange keeps the visit when a hit arrives
	// with another campaign (create_new_visit_when_campaign_changes=0).
	// Default: false, a new campaign opens a new visit.
	DisableNewVisitOnCampaignChange bool
	// NewVisitOnReferrerChange opens a new visit when a hit arrives from
	// another website (create_new_visit_when_website_referrer_changes).
	// Default: false.
	NewVisitOnReferrerChange bool
	// MaxActionsPerVisit opens a new visit once a visit has this many
	// actions (create_new_visit_after_x_actions). Default: 10000.
	MaxActionsPerVisit int

	// ExcludedQueryParams are stripped from every page URL, in addition
	// to Matomo's default list and each site's ExcludedParams.
	ExcludedQueryParams []string
	// ExcludedIPs (single address, a.b.c.* wildcard, CIDR, IPv6) and
	// ExcludedUserAgents (case-insensitive substrings) exclude hits on
	// every site, in addition to each site's lists.
	ExcludedIPs        []string
	ExcludedUserAgents []string
	// TrackBots records hits from bots as if every hit had bots=1.
	// Default: false, bots are excluded.
	TrackBots bool

	// Privacy is the instance default of every site's privacy settings;
	// a site's non-zero fields override it. Zero fields here take
	// Footfall's defaults: IPv4MaskBytes 2, IPv6MaskBits 80 (negative:
	// no masking), StoreIP On, Cookieless Off, DNT and GPC DNTIgnore,
	// HashUserID Off, Consent ConsentNone, ScrubPII Off.
	Privacy analytics.Privacy
	// UserIDSalt is mixed into hashed user ids (Privacy.HashUserID).
	// Default: "", plain SHA-1 as Matomo's anonymizeUserId without salt.
	UserIDSalt string

	// SaltGrace is how long a cookieless daily salt is kept after its
	// day is over in its site's time zone (see SiteSaltCutoff), so that
	// late hits of the day still join their visits. Default: 24h;
	// negative: none.
	SaltGrace time.Duration
	// SaltPruneInterval is how often Run deletes expired salts (and once
	// when it starts). Default: 1h; negative: Run never deletes them
	// (`footfall retention run` or PruneSalts does).
	SaltPruneInterval time.Duration

	// SiteRefresh is how often the site and goal cache is reloaded.
	// Default: 30s.
	SiteRefresh time.Duration
	// VisitCacheSize bounds the cached visitor states (about 1 KiB each),
	// shared evenly by the shards this processor handles; a visitor that
	// fell out is looked up in the store again. Default: 100000.
	VisitCacheSize int
	// UACacheSize bounds the parsed user agent cache (entries).
	// Default: 20000.
	UACacheSize int
	// IDBlock is how many visit or action IDs are reserved from the store
	// at a time. Default: 1024.
	IDBlock int

	// Now is the clock, used to tell late data. Default: time.Now.
	Now func() time.Time
	// OnBatch, when set, is called after each committed delivery.
	OnBatch func(BatchInfo)
}

// BatchInfo describes one committed delivery (ProcessorOptions.OnBatch).
type BatchInfo struct {
	Shard string
	// Hits is the size of the delivery; Skipped of those were at or
	// before the shard checkpoint (a redelivery), Excluded were dropped by
	// exclusions or an unknown site, Discarded were pings without a visit
	// or conversions that could not apply, Failed were isolated as bad.
	Hits, Skipped, Excluded, Discarded, Failed int
	// Visits, Actions and Conversions written.
	Visits, Actions, Conversions int
	Duration                     time.Duration
}

func (o *ProcessorOptions) setDefaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.VisitLength == 0 {
		o.VisitLength = 30 * time.Minute
	}
	if o.MaxActionsPerVisit == 0 {
		o.MaxActionsPerVisit = 10000
	}
	if o.SiteRefresh == 0 {
		o.SiteRefresh = 30 * time.Second
	}
	if o.VisitCacheSize == 0 {
		o.VisitCacheSize = 100000
	}
	if o.UACacheSize == 0 {
		o.UACacheSize = 20000
	}
	if o.IDBlock == 0 {
		o.IDBlock = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SaltGrace == 0 {
		o.SaltGrace = 24 * time.Hour
	}
	if o.SaltPruneInterval == 0 {
		o.SaltPruneInterval = time.Hour
	}
	privacyFillDefaults(&o.Privacy)
}

// Validate reports the first invalid option (after defaults are filled).
func (o *ProcessorOptions) Validate() error {
	switch {
	case o.Queue == nil:
		return fmt.Errorf("ingest: processor: Queue is required: %w", analytics.ErrInvalid)
	case o.Store == nil:
		return fmt.Errorf("ingest: processor: Store is required: %w", analytics.ErrInvalid)
	case o.Workers < 1:
		return fmt.Errorf("ingest: processor: Workers %d < 1: %w", o.Workers, analytics.ErrInvalid)
	case o.BatchSize < 1:
		return fmt.Errorf("ingest: processor: BatchSize %d < 1: %w", o.BatchSize, analytics.ErrInvalid)
	case o.VisitLength < time.Second:
		return fmt.Errorf("ingest: processor: VisitLength %v < 1s: %w", o.VisitLength, analytics.ErrInvalid)
	case o.MaxActionsPerVisit < 1:
		return fmt.Errorf("ingest: processor: MaxActionsPerVisit %d < 1: %w", o.MaxActionsPerVisit, analytics.ErrInvalid)
	case o.SiteRefresh < 0 || o.VisitCacheSize < 1 || o.UACacheSize < 1 || o.IDBlock < 1:
		return fmt.Errorf("ingest: processor: SiteRefresh, VisitCacheSize, UACacheSize and IDBlock must be positive: %w", analytics.ErrInvalid)
	}
	if err := procValidatePrivacy(o.Privacy); err != nil {
		return err
	}
	if _, errs := newProcIPMatcher(o.ExcludedIPs); len(errs) > 0 {
		return fmt.Errorf("ingest: processor: ExcludedIPs: %w", errs[0])
	}
	return nil
}

func procValidatePrivacy(p analytics.Privacy) error {
	if p.IPv4MaskBytes > 4 {
		return fmt.Errorf("ingest: processor: IPv4MaskBytes %d not in 1–4 (or negative: no masking): %w", p.IPv4MaskBytes, analytics.ErrInvalid)
	}
	if p.IPv6MaskBits > 128 {
		return fmt.Errorf("ingest: processor: IPv6MaskBits %d not in 1–128 (or negative: no masking): %w", p.IPv6MaskBits, analytics.ErrInvalid)
	}
	if p.DNT > analytics.DNTCount || p.GPC > analytics.DNTCount {
		return fmt.Errorf("ingest: processor: unknown DNT/GPC mode: %w", analytics.ErrInvalid)
	}
	if p.Consent > analytics.ConsentTracking {
		return fmt.Errorf("ingest: processor: unknown consent mode %d: %w", p.Consent, analytics.ErrInvalid)
	}
	return nil
}

// Processor is the worker: it takes deliveries from the queue, enriches
// and sessionizes their hits and writes each delivery to the store in one
// transaction with the shard checkpoint, then acknowledges it. See the
// package documentation for the pipeline. It is safe for concurrent use;
// deliveries of different shards are processed in parallel, one shard is
// processed by one goroutine at a time.
type Processor struct {
	o   ProcessorOptions
	log hclog.Logger

	ref   *refdata.Table
	ua    *procUACache
	sites *procSites
	salts *procSalts
	ids   *procIDs
	ipEx  procIPMatcher // instance-wide excluded IPs

	mu        sync.Mutex
	shards    map[string]*procShard
	cacheHalf atomic.Int64 // entries per generation of a shard's visit cache
	logLimit  procLogLimiter

	// backoff is the wait before retry i (0-based) of a retryable error.
	backoff func(i int) time.Duration
	// maxRetries is how often a retryable error is retried before Nack.
	maxRetries int
	// hitBufs holds *[]procHit for sessBatch.build to reuse (a delivery's
	// enriched hits are some 300 KB).
	hitBufs sync.Pool

	// afterCommit, when set (tests), runs after a batch is committed and
	// before it is acknowledged; an error stops Process there, as if the
	// worker died.
	afterCommit func(d *analytics.Delivery) error
}

// NewProcessor returns a Processor; it does no I/O (sites are loaded on
// first use).
func NewProcessor(o ProcessorOptions) (*Processor, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ipEx, _ := newProcIPMatcher(o.ExcludedIPs)
	p := &Processor{
		o:      o,
		log:    o.Logger.Named("processor"),
		ref:    refdata.Default(),
		ua:     newProcUACache(o.UACacheSize),
		salts:  newProcSalts(o.Store),
		ids:    &procIDs{store: o.Store, block: o.IDBlock},
		ipEx:   ipEx,
		shards: make(map[string]*procShard),
		backoff: func(i int) time.Duration {
			return min(50*time.Millisecond<<(2*i), 5*time.Second)
		},
		maxRetries: 3,
	}
	p.sites = newProcSites(p)
	return p, nil
}

// Run processes deliveries with Workers goroutines until ctx is done or
// the queue is closed and drained; then it returns nil. It returns an
// error only when the store is closed under it. Beside the workers it
// deletes expired cookieless salts (PruneSalts) at once and every
// SaltPruneInterval, until the workers are done.
func (p *Processor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg, pruner sync.WaitGroup
	if p.o.SaltPruneInterval > 0 {
		p.pruneSalts(ctx) // before the workers: done even when they have nothing to do
		pruner.Add(1)
		go func() {
			defer pruner.Done()
			p.pruneSaltsLoop(ctx)
		}()
	}
	var once sync.Once
	var runErr error
	for i := 0; i < p.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.work(ctx); err != nil {
				once.Do(func() { runErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	cancel()
	pruner.Wait()
	return runErr
}

func (p *Processor) work(ctx context.Context) error {
	fails := 0
	for {
		d, err := p.o.Queue.Receive(ctx, p.o.BatchSize)
		if err != nil {
			if errors.Is(err, analytics.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			p.log.Warn("receive failed", "error", err)
			if !procSleep(ctx, p.backoff(min(fails, 4))) {
				return nil
			}
			fails++
			continue
		}
		fails = 0
		if err := p.Process(ctx, d); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, analytics.ErrClosed) {
				return fmt.Errorf("ingest: processor: %w", err)
			}
			p.log.Warn("delivery failed", "shard", d.Shard, "hits", len(d.Hits), "error", err)
		}
	}
}

// Process applies one delivery: it skips hits at or before the shard
// checkpoint, builds one LogBatch from the rest, writes it and acknowledges
// the delivery. On ErrConflict it drops the shard's cached state and nacks;
// a retryable error is retried a few times, then nacked; a non-retryable
// one is isolated to its hit, which is logged, dead-lettered when the queue
// supports it and skipped, so one bad hit never blocks its shard.
func (p *Processor) Process(ctx context.Context, d *analytics.Delivery) error {
	start := time.Now()
	sh := p.shard(d.Shard)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	info := BatchInfo{Shard: d.Shard, Hits: len(d.Hits)}
	cp, err := p.checkpoint(ctx, sh)
	if err != nil {
		return p.fail(ctx, d, fmt.Errorf("ingest: processor: checkpoint of %s: %w", d.Shard, err))
	}
	hits := d.Hits
	for len(hits) > 0 && !cp.Less(hits[0].Pos) {
		hits = hits[1:]
		info.Skipped++
	}
	if len(hits) == 0 {
		return p.ack(ctx, d)
	}

	b, err := p.commit(ctx, sh, cp, hits)
	switch {
	case err == nil:
		b.addInfo(&info)
	case errors.Is(err, analytics.ErrConflict):
		sh.reset()
		return p.fail(ctx, d, err)
	case p.isTransient(ctx, err):
		return p.fail(ctx, d, err)
	default:
		p.log.Warn("batch failed, isolating the bad hit", "shard", d.Shard, "hits", len(hits), "error", err)
		if err := p.isolate(ctx, sh, cp, hits, d, &info); err != nil {
			return err
		}
	}
	if p.afterCommit != nil {
		if err := p.afterCommit(d); err != nil {
			return err
		}
	}
	info.Duration = time.Since(start)
	if p.o.OnBatch != nil {
		p.o.OnBatch(info)
	}
	return p.ack(ctx, d)
}

// isTransient reports whether err should make the delivery go back to the
// queue as a whole rather than be isolated hit by hit: the backend is
// away or closed, ctx is done, or a store read failed (not a hit's fault).
func (p *Processor) isTransient(ctx context.Context, err error) bool {
	var re *procReadError
	return ctx.Err() != nil || analytics.IsRetryable(err) || errors.Is(err, analytics.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &re)
}

// commit builds and writes hits as one batch, retrying retryable errors
// (not ErrConflict) with backoff. On success the shard cache and
// checkpoint are updated; on failure they are as before.
func (p *Processor) commit(ctx context.Context, sh *procShard, cp analytics.Position, hits []analytics.Hit) (*sessBatch, error) {
	for attempt := 0; ; attempt++ {
		b, err := p.buildAndWrite(ctx, sh, cp, hits)
		if err == nil {
			b.install()
			return b, nil
		}
		if errors.Is(err, analytics.ErrConflict) || !analytics.IsRetryable(err) || attempt >= p.maxRetries || ctx.Err() != nil {
			return nil, err
		}
		p.log.Debug("retrying batch", "shard", sh.name, "attempt", attempt+1, "error", err)
		if !procSleep(ctx, p.backoff(attempt)) {
			return nil, err
		}
	}
}

func (p *Processor) buildAndWrite(ctx context.Context, sh *procShard, cp analytics.Position, hits []analytics.Hit) (*sessBatch, error) {
	b := newSessBatch(p, sh, cp, hits[len(hits)-1].Pos)
	if err := b.build(ctx, hits); err != nil {
		return nil, err
	}
	if b.empty() {
		return b, nil
	}
	if err := p.o.Store.WriteBatch(ctx, &b.lb); err != nil {
		return nil, fmt.Errorf("ingest: processor: write batch of %s (%d hits): %w", sh.name, len(hits), err)
	}
	b.written = true
	return b, nil
}

// isolate applies hits one by one so that the one that fails for good is
// found, reported and skipped (the checkpoint moves past it).
func (p *Processor) isolate(ctx context.Context, sh *procShard, cp analytics.Position, hits []analytics.Hit, d *analytics.Delivery, info *BatchInfo) error {
	for i := range hits {
		h := &hits[i]
		b, err := p.commit(ctx, sh, cp, hits[i:i+1])
		if err == nil {
			b.addInfo(info)
			if b.written {
				cp = h.Pos
			}
			continue
		}
		if errors.Is(err, analytics.ErrConflict) {
			sh.reset()
			return p.fail(ctx, d, err)
		}
		if p.isTransient(ctx, err) {
			return p.fail(ctx, d, err)
		}
		info.Failed++
		p.log.Error("hit failed for good, skipping it", "shard", d.Shard, "hit", h.ID.String(), "site", h.SiteID, "pos", h.Pos.String(), "error", err)
		if dl, ok := p.o.Queue.(analytics.DeadLetterer); ok {
			if derr := dl.DeadLetter(ctx, d, []analytics.Hit{*h}, err); derr != nil {
				p.log.Error("dead-lettering failed; the hit is dropped", "hit", h.ID.String(), "error", derr)
			}
		}
		skip := &analytics.LogBatch{Shard: d.Shard, From: cp, To: h.Pos}
		if err := p.writeRetry(ctx, skip); err != nil {
			if errors.Is(err, analytics.ErrConflict) {
				sh.reset()
			}
			return p.fail(ctx, d, fmt.Errorf("ingest: processor: skipping hit %s: %w", h.ID, err))
		}
		cp = h.Pos
		sh.setCheckpoint(cp)
	}
	return nil
}

func (p *Processor) writeRetry(ctx context.Context, b *analytics.LogBatch) error {
	for attempt := 0; ; attempt++ {
		err := p.o.Store.WriteBatch(ctx, b)
		if err == nil || errors.Is(err, analytics.ErrConflict) || !analytics.IsRetryable(err) || attempt >= p.maxRetries {
			return err
		}
		if !procSleep(ctx, p.backoff(attempt)) {
			return err
		}
	}
}

// fail gives d back to the queue and returns cause. Retryable causes wait
// a little first so that a backend outage does not turn into a hot loop.
func (p *Processor) fail(ctx context.Context, d *analytics.Delivery, cause error) error {
	var re *procReadError
	if (analytics.IsRetryable(cause) || errors.As(cause, &re)) && !errors.Is(cause, analytics.ErrConflict) && !errors.Is(cause, analytics.ErrClosed) {
		procSleep(ctx, p.backoff(min(max(d.Attempt-1, 0), 4)))
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if d.Acker != nil {
		if err := d.Nack(nctx, cause); err != nil {
			p.log.Warn("nack failed", "shard", d.Shard, "error", err)
		}
	}
	return cause
}

// ack acknowledges a committed delivery. A retryable failure (the queue
// backend away for a moment) is retried with backoff until the ack
// succeeds, fails for good (ErrConflict: the delivery expired or its lease
// was lost) or ctx is done: a delivery left unacknowledged stays
// outstanding, and its shard blocked, until the queue's ack timeout.
func (p *Processor) ack(ctx context.Context, d *analytics.Delivery) error {
	if d.Acker == nil {
		return nil
	}
	for i := 0; ; i++ {
		err := d.Ack(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, analytics.ErrConflict) || !analytics.IsRetryable(err) || !procSleep(ctx, p.backoff(min(i, 4))) {
			// The batch is committed: a redelivery will be skipped by the
			// checkpoint, so this costs only a little work.
			return fmt.Errorf("ingest: processor: ack of %s: %w", d.Shard, err)
		}
	}
}

// checkpoint returns the shard's checkpoint, from the cache or the store.
func (p *Processor) checkpoint(ctx context.Context, sh *procShard) (analytics.Position, error) {
	if sh.cpKnown {
		return sh.cp, nil
	}
	cp, err := p.o.Store.Checkpoint(ctx, sh.name)
	if err != nil {
		return analytics.Position{}, err
	}
	sh.cp, sh.cpKnown = cp, true
	return cp, nil
}

func (p *Processor) shard(name string) *procShard {
	p.mu.Lock()
	defer p.mu.Unlock()
	sh := p.shards[name]
	if sh == nil {
		sh = newProcShard(name, &p.cacheHalf)
		p.shards[name] = sh
		// Each generation of each shard's cache holds a share of the total.
		p.cacheHalf.Store(int64(max(p.o.VisitCacheSize/(2*len(p.shards)), 64)))
	}
	return sh
}

func procSleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ---------------------------------------------------------------------------
// Shard state
// ---------------------------------------------------------------------------

// procShard is the cached state of one queue shard: its checkpoint and the
// last visit of recently seen visitors, in a bounded two-generation map.
// mu is held for the whole processing of a delivery of the shard.
type procShard struct {
	mu      sync.Mutex
	name    string
	cp      analytics.Position
	cpKnown bool
	half    *atomic.Int64
	cur     map[analytics.VisitorMatch]*sessState
	old     map[analytics.VisitorMatch]*sessState
}

func newProcShard(name string, half *atomic.Int64) *procShard {
	return &procShard{name: name, half: half, cur: make(map[analytics.VisitorMatch]*sessState)}
}

func (s *procShard) get(k analytics.VisitorMatch) *sessState {
	if st, ok := s.cur[k]; ok {
		return st
	}
	if st, ok := s.old[k]; ok {
		s.put(k, st)
		return st
	}
	return nil
}

func (s *procShard) put(k analytics.VisitorMatch, st *sessState) {
	if _, ok := s.cur[k]; !ok && int64(len(s.cur)) >= s.half.Load() {
		s.old = s.cur
		s.cur = make(map[analytics.VisitorMatch]*sessState)
	}
	s.cur[k] = st
}

func (s *procShard) setCheckpoint(cp analytics.Position) { s.cp, s.cpKnown = cp, true }

// reset forgets everything cached about the shard (after a conflict).
func (s *procShard) reset() {
	s.cp, s.cpKnown = analytics.Position{}, false
	s.cur = make(map[analytics.VisitorMatch]*sessState)
	s.old = nil
}

// ---------------------------------------------------------------------------
// ID blocks and salts
// ---------------------------------------------------------------------------

// procIDs hands out visit and action IDs from blocks reserved in the store.
type procIDs struct {
	store analytics.LogWriter
	block int
	mu    sync.Mutex
	next  [3]int64
	end   [3]int64
}

func (ids *procIDs) get(ctx context.Context, kind analytics.IDKind) (int64, error) {
	if kind != analytics.IDVisit && kind != analytics.IDAction {
		return 0, fmt.Errorf("ingest: processor: id kind %d: %w", kind, analytics.ErrInvalid)
	}
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if ids.next[kind] >= ids.end[kind] {
		first, err := ids.store.ReserveIDs(ctx, kind, ids.block)
		if err != nil {
			return 0, fmt.Errorf("ingest: processor: reserve ids: %w", err)
		}
		ids.next[kind], ids.end[kind] = first, first+int64(ids.block)
	}
	id := ids.next[kind]
	ids.next[kind]++
	return id, nil
}

type procSaltKey struct {
	site int
	day  procDay
}

// procSalts caches the daily salts of the store.
type procSalts struct {
	store analytics.SaltStore
	mu    sync.Mutex
	m     map[procSaltKey][]byte
}

func newProcSalts(s analytics.SaltStore) *procSalts {
	return &procSalts{store: s, m: make(map[procSaltKey][]byte)}
}

func (s *procSalts) get(ctx context.Context, site int, day procDay) ([]byte, error) {
	k := procSaltKey{site, day}
	s.mu.Lock()
	salt, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return salt, nil
	}
	salt, err := s.store.DailySalt(ctx, site, day.String())
	if err != nil {
		return nil, fmt.Errorf("ingest: processor: daily salt of site %d %s: %w", site, day, err)
	}
	s.mu.Lock()
	if len(s.m) >= 4096 {
		clear(s.m)
	}
	s.m[k] = salt
	s.mu.Unlock()
	return salt, nil
}

// forgetExpired drops the cached salts that the store deletes
// (PruneSalts): those of days before their site's cutoff ("2006-01-02"),
// or before global for a site without one.
func (s *procSalts) forgetExpired(cutoffs map[int]string, global string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.m {
		cutoff, ok := cutoffs[k.site]
		if !ok {
			cutoff = global
		}
		if k.day.String() < cutoff {
			delete(s.m, k)
		}
	}
}

// procLogLimiter lets a repeated log line through once a minute per key
// (an unknown site, a failing geolocation database), so a misconfigured
// tracker cannot flood the log.
type procLogLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *procLogLimiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = make(map[string]time.Time)
	}
	if t, ok := l.last[key]; ok && now.Sub(t) < time.Minute {
		return false
	}
	if len(l.last) > 1024 {
		clear(l.last)
	}
	l.last[key] = now
	return true
}

// hitBuf returns n zeroed procHits, reused from an earlier delivery when
// one is free; putHitBuf gives them back.
func (p *Processor) hitBuf(n int) []procHit {
	if b, ok := p.hitBufs.Get().(*[]procHit); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]procHit, n)
}

func (p *Processor) putHitBuf(b []procHit) {
	clear(b) // drop the references to the delivery's hits
	p.hitBufs.Put(&b)
}
