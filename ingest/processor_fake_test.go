package ingest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

// procFakeStore is an in-memory ProcessorStore with the LogWriter
// semantics of the contract (checkpoint fencing, upserted visits, actions
// inserted once, conversions deduplicated, the cart replaced) and hooks to
// inject failures.
type procFakeStore struct {
	mu          sync.Mutex
	sites       []analytics.Site
	goals       map[int][]analytics.Goal
	checkpoints map[string]analytics.Position
	visits      map[int64]analytics.Visit
	// byVisitor and byConfig index the visits by (site, visitor id) and
	// (site, config id), so that LastVisit costs what a store's index
	// lookup does, not a scan growing with the benchmark.
	byVisitor, byConfig map[procFakeKey][]int64
	actions             map[int64]analytics.Action
	convs               []analytics.Conversion
	// convIdx finds the stored conversion a new one deduplicates against.
	convIdx map[procFakeConvKey]int
	invalid map[analytics.SiteDay]bool
	salts   map[analytics.SiteDay][]byte
	seq     [3]int64

	writes, lastVisitCalls int
	// writeErr, when set, is asked before each WriteBatch; an error is
	// returned and nothing is written.
	writeErr func(b *analytics.LogBatch) error
	// lastVisitErr, when set, fails LastVisit.
	lastVisitErr error
}

var _ ProcessorStore = (*procFakeStore)(nil)

type procFakeKey struct {
	site int
	id   analytics.VisitorID
}

// procFakeConvKey is what makes two conversions the same: the cart of a
// visit, an order id of a site, a goal of a visit with its buster.
type procFakeConvKey struct {
	kind    byte
	site    int
	visit   int64
	goal    int
	buster  int64
	orderID string
}

func procFakeConvKeyOf(c analytics.Conversion) (procFakeConvKey, bool) {
	switch {
	case c.GoalID == analytics.GoalCart:
		return procFakeConvKey{kind: 'c', visit: c.VisitID}, true
	case c.GoalID == analytics.GoalEcommerceOrder:
		return procFakeConvKey{kind: 'o', site: c.SiteID, orderID: c.OrderID}, true
	case c.GoalID > 0:
		return procFakeConvKey{kind: 'g', visit: c.VisitID, goal: c.GoalID, buster: c.Buster}, true
	}
	return procFakeConvKey{}, false
}

func newProcFakeStore(sites ...analytics.Site) *procFakeStore {
	return &procFakeStore{
		sites:       sites,
		goals:       make(map[int][]analytics.Goal),
		checkpoints: make(map[string]analytics.Position),
		visits:      make(map[int64]analytics.Visit),
		byVisitor:   make(map[procFakeKey][]int64),
		byConfig:    make(map[procFakeKey][]int64),
		convIdx:     make(map[procFakeConvKey]int),
		actions:     make(map[int64]analytics.Action),
		invalid:     make(map[analytics.SiteDay]bool),
		salts:       make(map[analytics.SiteDay][]byte),
	}
}

func (s *procFakeStore) Sites(ctx context.Context) ([]analytics.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sites), nil
}

func (s *procFakeStore) Site(ctx context.Context, id int) (analytics.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sites {
		if x.ID == id {
			return x, nil
		}
	}
	return analytics.Site{}, analytics.ErrNotFound
}

func (s *procFakeStore) CreateSite(ctx context.Context, x *analytics.Site) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	x.ID = len(s.sites) + 1
	s.sites = append(s.sites, *x)
	return nil
}

func (s *procFakeStore) UpdateSite(ctx context.Context, x analytics.Site) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.sites {
		if s.sites[i].ID == x.ID {
			s.sites[i] = x
			return nil
		}
	}
	return analytics.ErrNotFound
}

func (s *procFakeStore) Goals(ctx context.Context, siteID int) ([]analytics.Goal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.goals[siteID]), nil
}

func (s *procFakeStore) CreateGoal(ctx context.Context, g *analytics.Goal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == 0 {
		g.ID = len(s.goals[g.SiteID]) + 1
	}
	s.goals[g.SiteID] = append(s.goals[g.SiteID], *g)
	return nil
}

func (s *procFakeStore) Checkpoint(ctx context.Context, shard string) (analytics.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpoints[shard], nil
}

func (s *procFakeStore) WriteBatch(ctx context.Context, b *analytics.LogBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.writeErr != nil {
		if err := s.writeErr(b); err != nil {
			return err
		}
	}
	if s.checkpoints[b.Shard] != b.From {
		return fmt.Errorf("fake: checkpoint %v, batch from %v: %w", s.checkpoints[b.Shard], b.From, analytics.ErrConflict)
	}
	for _, v := range b.Visits {
		if v.IP.IsValid() && v.IP.Is4() {
			a := v.IP.As4()
			if a[3] != 0 && a[2] != 0 {
				// Every test site masks at least the last byte.
				panic(fmt.Sprintf("fake: unmasked ip %v stored", v.IP))
			}
		}
		old, seen := s.visits[v.ID]
		s.visits[v.ID] = v
		if seen && old.VisitorID == v.VisitorID && old.ConfigID == v.ConfigID && old.SiteID == v.SiteID {
			continue
		}
		if seen {
			s.unindex(old)
		}
		if !v.VisitorID.IsZero() {
			k := procFakeKey{v.SiteID, v.VisitorID}
			s.byVisitor[k] = append(s.byVisitor[k], v.ID)
		}
		if !v.ConfigID.IsZero() {
			k := procFakeKey{v.SiteID, v.ConfigID}
			s.byConfig[k] = append(s.byConfig[k], v.ID)
		}
	}
	for _, a := range b.Actions {
		if _, ok := s.actions[a.ID]; !ok {
			s.actions[a.ID] = a
		}
	}
	for _, c := range b.Conversions {
		k, dedup := procFakeConvKeyOf(c)
		if i, ok := s.convIdx[k]; dedup && ok {
			if c.GoalID == analytics.GoalCart {
				s.convs[i] = c // the cart is replaced
			}
			continue
		}
		if dedup {
			s.convIdx[k] = len(s.convs)
		}
		s.convs = append(s.convs, c)
	}
	for _, d := range b.Invalidated {
		s.invalid[d] = true
	}
	s.checkpoints[b.Shard] = b.To
	return nil
}

func (s *procFakeStore) ReserveIDs(ctx context.Context, kind analytics.IDKind, n int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.seq[kind] + 1
	s.seq[kind] += int64(n)
	return first, nil
}

func (s *procFakeStore) LastVisit(ctx context.Context, m analytics.VisitorMatch) (analytics.Visit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastVisitCalls++
	if s.lastVisitErr != nil {
		return analytics.Visit{}, s.lastVisitErr
	}
	var ids []int64
	switch {
	case !m.VisitorID.IsZero():
		ids = s.byVisitor[procFakeKey{m.SiteID, m.VisitorID}]
	case !m.ConfigID.IsZero():
		ids = s.byConfig[procFakeKey{m.SiteID, m.ConfigID}]
	}
	var best analytics.Visit
	found := false
	for _, id := range ids {
		v := s.visits[id]
		if v.SiteID != m.SiteID {
			continue
		}
		if !m.VisitorID.IsZero() && v.VisitorID != m.VisitorID || !m.ConfigID.IsZero() && v.ConfigID != m.ConfigID {
			continue
		}
		if m.VisitorID.IsZero() && m.ConfigID.IsZero() {
			continue
		}
		if !found || v.LastActionTime.After(best.LastActionTime) || v.LastActionTime.Equal(best.LastActionTime) && v.ID > best.ID {
			best, found = v, true
		}
	}
	if !found {
		return analytics.Visit{}, analytics.ErrNotFound
	}
	return best, nil
}

// unindex removes v from the visitor and config indexes.
func (s *procFakeStore) unindex(v analytics.Visit) {
	for _, ix := range []struct {
		m  map[procFakeKey][]int64
		id analytics.VisitorID
	}{{s.byVisitor, v.VisitorID}, {s.byConfig, v.ConfigID}} {
		k := procFakeKey{v.SiteID, ix.id}
		ix.m[k] = slices.DeleteFunc(ix.m[k], func(id int64) bool { return id == v.ID })
	}
}

func (s *procFakeStore) DailySalt(ctx context.Context, siteID int, day string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := analytics.SiteDay{SiteID: siteID, Day: day}
	if salt, ok := s.salts[k]; ok {
		return salt, nil
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	s.salts[k] = salt
	return salt, nil
}

func (s *procFakeStore) DeleteSaltsBefore(ctx context.Context, day string, sites ...int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.salts {
		if k.Day < day && (len(sites) == 0 || slices.Contains(sites, k.SiteID)) {
			delete(s.salts, k)
			n++
		}
	}
	return n, nil
}

func (s *procFakeStore) hasSalt(siteID int, day string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.salts[analytics.SiteDay{SiteID: siteID, Day: day}]
	return ok
}

// sortedVisits returns the stored visits by first action time, then ID.
func (s *procFakeStore) sortedVisits() []analytics.Visit {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := make([]analytics.Visit, 0, len(s.visits))
	for _, v := range s.visits {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool {
		if !vs[i].FirstActionTime.Equal(vs[j].FirstActionTime) {
			return vs[i].FirstActionTime.Before(vs[j].FirstActionTime)
		}
		return vs[i].ID < vs[j].ID
	})
	return vs
}

// sortedActions returns the stored actions by time, then ID.
func (s *procFakeStore) sortedActions() []analytics.Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	as := make([]analytics.Action, 0, len(s.actions))
	for _, a := range s.actions {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool {
		if !as[i].Time.Equal(as[j].Time) {
			return as[i].Time.Before(as[j].Time)
		}
		return as[i].ID < as[j].ID
	})
	return as
}

func (s *procFakeStore) conversions() []analytics.Conversion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.convs)
}

// procFakeQueue is a Queue whose deliveries are made by the test; it
// records acks, nacks and dead letters.
type procFakeQueue struct {
	mu     sync.Mutex
	acks   int
	nacks  []error
	dead   []analytics.Hit
	ackErr error
}

var (
	_ analytics.Queue        = (*procFakeQueue)(nil)
	_ analytics.Acker        = (*procFakeQueue)(nil)
	_ analytics.DeadLetterer = (*procFakeQueue)(nil)
)

func (q *procFakeQueue) Enqueue(ctx context.Context, hits []analytics.Hit) error { return nil }
func (q *procFakeQueue) Receive(ctx context.Context, max int) (*analytics.Delivery, error) {
	return nil, analytics.ErrClosed
}
func (q *procFakeQueue) Stats(ctx context.Context) (analytics.QueueStats, error) {
	return analytics.QueueStats{}, nil
}
func (q *procFakeQueue) Close() error { return nil }
func (q *procFakeQueue) Ack(ctx context.Context, d *analytics.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.acks++
	return q.ackErr
}
func (q *procFakeQueue) Nack(ctx context.Context, d *analytics.Delivery, cause error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nacks = append(q.nacks, cause)
	return nil
}
func (q *procFakeQueue) DeadLetter(ctx context.Context, d *analytics.Delivery, hits []analytics.Hit, cause error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = append(q.dead, hits...)
	return nil
}

// procHarness drives a Processor over a fake store and queue.
type procHarness struct {
	t     *testing.T
	store *procFakeStore
	queue *procFakeQueue
	opts  ProcessorOptions
	p     *Processor
	pos   uint64
}

// procBase is the reference time of the tests: a Sunday, 10:00 UTC.
var procBase = time.Date(2024, 3, 10, 10, 0, 0, 0, time.UTC)

func newProcHarness(t *testing.T, sites []analytics.Site, goals []analytics.Goal, tweak func(*ProcessorOptions)) *procHarness {
	t.Helper()
	h := &procHarness{t: t, store: newProcFakeStore(sites...), queue: &procFakeQueue{}}
	for _, g := range goals {
		h.store.goals[g.SiteID] = append(h.store.goals[g.SiteID], g)
	}
	h.opts = ProcessorOptions{
		Queue: h.queue,
		Store: h.store,
		Now:   func() time.Time { return procBase.Add(30 * 24 * time.Hour) },
	}
	if tweak != nil {
		tweak(&h.opts)
	}
	h.restart()
	return h
}

// restart replaces the processor by a fresh one (an empty cache), as
// after a crash.
func (h *procHarness) restart() {
	h.t.Helper()
	p, err := NewProcessor(h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	p.backoff = func(int) time.Duration { return 0 }
	h.p = p
}

// delivery makes a delivery of hits on shard "s", with fresh positions.
func (h *procHarness) delivery(hits ...analytics.Hit) *analytics.Delivery {
	d := &analytics.Delivery{Shard: "s", Attempt: 1, Acker: h.queue}
	for _, x := range hits {
		h.pos++
		x.Pos = analytics.Position{Hi: 1, Lo: h.pos}
		if x.ID.IsZero() {
			x.ID = analytics.NewHitID(x.Time)
		}
		d.Hits = append(d.Hits, x)
	}
	return d
}

// process sends hits as one delivery and fails the test on an error.
func (h *procHarness) process(hits ...analytics.Hit) {
	h.t.Helper()
	if err := h.p.Process(h.t.Context(), h.delivery(hits...)); err != nil {
		h.t.Fatalf("Process: %v", err)
	}
}
