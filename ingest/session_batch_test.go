package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// procBatchStore gives the fake store the analytics.BatchVisitFinder
// capability, counting its calls.
type procBatchStore struct {
	*procFakeStore
	batches, matches int
	err              error
}

func (s *procBatchStore) LastVisits(ctx context.Context, ms []analytics.VisitorMatch) (map[analytics.VisitorMatch]analytics.Visit, error) {
	s.batches++
	s.matches += len(ms)
	if s.err != nil {
		return nil, s.err
	}
	out := make(map[analytics.VisitorMatch]analytics.Visit)
	for _, m := range ms {
		v, err := s.procFakeStore.LastVisit(ctx, m)
		if errors.Is(err, analytics.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[m] = v
	}
	return out, nil
}

var _ analytics.BatchVisitFinder = (*procBatchStore)(nil)

// TestSessionizeBatchLookups runs every sessionization scenario with a
// store that looks visitors up in batches: the stored result is the same,
// and no visitor is looked up one by one.
func TestSessionizeBatchLookups(t *testing.T) {
	for _, tc := range procSessCases() {
		for _, mode := range []string{"one delivery", "restart per hit"} {
			if mode == "restart per hit" && tc.noSlow {
				continue
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				var bs *procBatchStore
				h := newProcHarness(t, procTestSites(), procGoals(), func(o *ProcessorOptions) {
					o.Now = func() time.Time { return procBase }
					if tc.opts != nil {
						tc.opts(o)
					}
				})
				bs = &procBatchStore{procFakeStore: h.store}
				h.opts.Store = bs
				h.restart()
				if mode == "one delivery" {
					h.process(tc.hits...)
				} else {
					for _, x := range tc.hits {
						h.restart()
						h.process(x)
					}
				}
				tc.check(t, h.store)
				procEq(t, "nacks", len(h.queue.nacks), 0)
				procEq(t, "single lookups outside batches", h.store.lastVisitCalls, bs.matches)
				if mode == "one delivery" && bs.batches > 1 {
					t.Errorf("%d batch lookups for one delivery, want at most 1", bs.batches)
				}
			})
		}
	}
}

// TestPrefetchFailureNacks: a failed batch lookup is a store read failure:
// the delivery goes back to the queue, nothing is written or isolated.
func TestPrefetchFailureNacks(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	bs := &procBatchStore{procFakeStore: h.store, err: analytics.ErrUnavailable}
	h.opts.Store = bs
	h.restart()
	d := h.delivery(procPV(0, procSite1(1)), procPV(1, procSite1(1)))
	if err := h.p.Process(t.Context(), d); err == nil {
		t.Fatal("Process succeeded with a failing lookup")
	}
	procEq(t, "actions", len(h.store.actions), 0)
	if len(h.queue.nacks) != 1 {
		t.Fatalf("nacks = %d, want 1", len(h.queue.nacks))
	}
}

// TestOneVisitRowPerDelivery: a delivery's LogBatch carries each visit it
// changed once (however many of its hits the visit has), and every visit
// its actions belong to.
func TestOneVisitRowPerDelivery(t *testing.T) {
	st := newProcFakeStore(procBenchSite())
	st.sites[0].ID = 1
	var batches []analytics.LogBatch
	st.writeErr = func(lb *analytics.LogBatch) error {
		batches = append(batches, *lb)
		return nil
	}
	p, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: st, Now: func() time.Time { return procBase }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range procBenchDeliveries(6) {
		if err := p.Process(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if len(batches) != 6 {
		t.Fatalf("%d batches written, want 6", len(batches))
	}
	repeated := 0
	for i, lb := range batches {
		visits := map[int64]bool{}
		for _, v := range lb.Visits {
			if visits[v.ID] {
				t.Errorf("batch %d: visit %d written twice", i, v.ID)
			}
			visits[v.ID] = true
		}
		perVisit := map[int64]int{}
		for _, a := range lb.Actions {
			if !visits[a.VisitID] {
				t.Errorf("batch %d: action %d of visit %d, which the batch does not write", i, a.ID, a.VisitID)
			}
			perVisit[a.VisitID]++
		}
		for _, n := range perVisit {
			if n > 1 {
				repeated++
			}
		}
	}
	if repeated == 0 {
		t.Fatal("no visit has two actions in one delivery: the test checks nothing")
	}
}
