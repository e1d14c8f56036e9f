package ingest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

func TestProcessorOptionsValidate(t *testing.T) {
	q, s := &procFakeQueue{}, newProcFakeStore()
	cases := []struct {
		name string
		o    ProcessorOptions
		ok   bool
	}{
		{"defaults", ProcessorOptions{Queue: q, Store: s}, true},
		{"no queue", ProcessorOptions{Store: s}, false},
		{"no store", ProcessorOptions{Queue: q}, false},
		{"negative workers", ProcessorOptions{Queue: q, Store: s, Workers: -1}, false},
		{"short visit", ProcessorOptions{Queue: q, Store: s, VisitLength: time.Millisecond}, false},
		{"bad mask", ProcessorOptions{Queue: q, Store: s, Privacy: analytics.Privacy{IPv4MaskBytes: 5}}, false},
		{"no masking", ProcessorOptions{Queue: q, Store: s, Privacy: analytics.Privacy{IPv4MaskBytes: -1, IPv6MaskBits: -1}}, true},
		{"bad DNT mode", ProcessorOptions{Queue: q, Store: s, Privacy: analytics.Privacy{DNT: 9}}, false},
	}
	for _, c := range cases {
		_, err := NewProcessor(c.o)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
		if err != nil && !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", c.name, err)
		}
	}
}

// TestProcessRedeliveryAfterCommit: the same delivery applied twice (a
// worker that committed and died before the ack) changes nothing.
func TestProcessRedeliveryAfterCommit(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", restart), func(t *testing.T) {
			h := newProcHarness(t, procTestSites(), procGoals(), nil)
			d := h.delivery(procPV(0), procPV(time.Minute, procGoalHit(1, 0)), procPV(2*time.Minute))
			crash := errors.New("worker died")
			h.p.afterCommit = func(*analytics.Delivery) error { return crash }
			if err := h.p.Process(t.Context(), d); !errors.Is(err, crash) {
				t.Fatalf("Process = %v, want the crash", err)
			}
			procEq(t, "acks after crash", h.queue.acks, 0)
			writes := h.store.writes
			if restart {
				h.restart()
			}
			h.p.afterCommit = nil
			d.Attempt = 2
			if err := h.p.Process(t.Context(), d); err != nil {
				t.Fatal(err)
			}
			procEq(t, "acks", h.queue.acks, 1)
			procEq(t, "writes", h.store.writes, writes)
			v := procWantVisits(t, h.store, 1)[0]
			procWantActions(t, h.store, 2)
			procEq(t, "visit actions", v.Actions, 2)
			procEq(t, "conversions", len(h.store.conversions()), 1)
		})
	}
}

// TestProcessWriteFailure: a failed write leaves store and cache as they
// were; the redelivery gives the right result.
func TestProcessWriteFailure(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.process(procPV(0))
	sh := h.p.shard("s")
	before := *sh.get(analytics.VisitorMatch{SiteID: 1, VisitorID: procVisitorA})

	down := fmt.Errorf("fake: database away: %w", analytics.ErrUnavailable)
	h.store.writeErr = func(*analytics.LogBatch) error { return down }
	d := h.delivery(procPV(time.Minute), procPV(2*time.Minute, procCookie(procVisitorB)))
	if err := h.p.Process(t.Context(), d); !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("Process = %v, want ErrUnavailable", err)
	}
	procEq(t, "write attempts (1 + retries)", h.store.writes, 1+1+h.p.maxRetries)
	procEq(t, "nacks", len(h.queue.nacks), 1)
	procEq(t, "acks", h.queue.acks, 1)
	after := sh.get(analytics.VisitorMatch{SiteID: 1, VisitorID: procVisitorA})
	procEq(t, "cached actions", after.v.Actions, before.v.Actions)
	procEq(t, "cached last action", after.v.LastActionTime, before.v.LastActionTime)
	if sh.get(analytics.VisitorMatch{SiteID: 1, VisitorID: procVisitorB}) != nil {
		t.Error("the failed batch's new visitor is cached")
	}
	procEq(t, "cached checkpoint", sh.cp, h.store.checkpoints["s"])
	procWantVisits(t, h.store, 1)
	procWantActions(t, h.store, 1)

	h.store.writeErr = nil
	d.Attempt = 2
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	vs := procWantVisits(t, h.store, 2)
	procWantActions(t, h.store, 3)
	procEq(t, "visit A actions", vs[0].Actions, 2)
	procEq(t, "visit A total time", vs[0].TotalTime, 61)
}

// TestProcessRetryThenSuccess: a retryable error is retried in place.
func TestProcessRetryThenSuccess(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	fails := 2
	h.store.writeErr = func(*analytics.LogBatch) error {
		if fails > 0 {
			fails--
			return fmt.Errorf("fake: busy: %w", analytics.ErrUnavailable)
		}
		return nil
	}
	h.process(procPV(0), procPV(time.Minute))
	procEq(t, "nacks", len(h.queue.nacks), 0)
	procEq(t, "acks", h.queue.acks, 1)
	v := procWantVisits(t, h.store, 1)[0]
	procEq(t, "actions", v.Actions, 2)
}

// TestProcessConflict: another writer moved the checkpoint; the processor
// drops its shard state, nacks, and the redelivery starts from the store.
func TestProcessConflict(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.process(procPV(0))
	sh := h.p.shard("s")

	// Another worker (another process) took the shard over and applied a
	// hit of the same visitor.
	other := newProcHarness(t, procTestSites(), nil, nil)
	other.store = h.store
	other.opts.Store = h.store
	other.restart()
	other.pos = h.pos
	other.process(procPV(5 * time.Minute))
	h.pos = other.pos

	d := h.delivery(procPV(10 * time.Minute))
	err := h.p.Process(t.Context(), d)
	if !errors.Is(err, analytics.ErrConflict) {
		t.Fatalf("Process = %v, want ErrConflict", err)
	}
	procEq(t, "nacks", len(h.queue.nacks), 1)
	procEq(t, "checkpoint forgotten", sh.cpKnown, false)
	if sh.get(analytics.VisitorMatch{SiteID: 1, VisitorID: procVisitorA}) != nil {
		t.Error("visit state kept after a conflict")
	}

	d.Attempt = 2
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	v := procWantVisits(t, h.store, 1)[0]
	procEq(t, "actions", v.Actions, 3)
	procEq(t, "last action", v.LastActionTime, procBase.Add(10*time.Minute))
}

// TestProcessIsolatesBadHit: a hit the store refuses for good is
// dead-lettered and skipped; the others of its delivery are applied.
func TestProcessIsolatesBadHit(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	d := h.delivery(procPV(0), procPV(time.Minute, procURL("https://example.com/poison")), procPV(2*time.Minute))
	bad := d.Hits[1].ID
	h.store.writeErr = func(b *analytics.LogBatch) error {
		for _, a := range b.Actions {
			if a.HitID == bad {
				return fmt.Errorf("fake: value too long: %w", analytics.ErrInvalid)
			}
		}
		return nil
	}
	var infos []BatchInfo
	h.p.o.OnBatch = func(i BatchInfo) { infos = append(infos, i) }
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	procEq(t, "acks", h.queue.acks, 1)
	procEq(t, "nacks", len(h.queue.nacks), 0)
	procEq(t, "dead letters", len(h.queue.dead), 1)
	if len(h.queue.dead) == 1 {
		procEq(t, "dead hit", h.queue.dead[0].ID, bad)
	}
	procEq(t, "checkpoint", h.store.checkpoints["s"], d.Hits[2].Pos)
	v := procWantVisits(t, h.store, 1)[0]
	procEq(t, "actions", v.Actions, 2)
	if len(infos) != 1 || infos[0].Failed != 1 || infos[0].Actions != 2 {
		t.Errorf("batch info %+v", infos)
	}
	// The redelivery of the whole delivery is skipped.
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	procEq(t, "actions after redelivery", len(h.store.sortedActions()), 2)
}

// TestProcessReadFailure: a retryable lookup error gives the delivery
// back without writing.
func TestProcessReadFailure(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.store.lastVisitErr = fmt.Errorf("fake: timeout: %w", analytics.ErrUnavailable)
	d := h.delivery(procPV(0))
	if err := h.p.Process(t.Context(), d); !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("Process = %v", err)
	}
	procEq(t, "writes", h.store.writes, 0)
	procEq(t, "nacks", len(h.queue.nacks), 1)
	h.store.lastVisitErr = nil
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	procWantVisits(t, h.store, 1)
}

// TestProcessSkipsCheckpointedHits: hits at or before the checkpoint are
// not applied again, even in a delivery that also has new hits.
func TestProcessSkipsCheckpointedHits(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	d1 := h.delivery(procPV(0), procPV(time.Minute))
	h.process(d1.Hits...)
	h.pos -= 2 // the same positions again
	var info BatchInfo
	h.p.o.OnBatch = func(i BatchInfo) { info = i }
	d := h.delivery(procPV(0), procPV(time.Minute))
	d.Hits = append(d.Hits, h.delivery(procPV(2*time.Minute)).Hits...)
	if err := h.p.Process(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	procEq(t, "skipped", info.Skipped, 2)
	v := procWantVisits(t, h.store, 1)[0]
	procEq(t, "actions", v.Actions, 3)
}

func TestProcessUnknownSiteAppears(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.process(procPV(0, procSite1(9)))
	procWantVisits(t, h.store, 0)
	h.store.CreateSite(t.Context(), &analytics.Site{Name: "late", URLs: []string{"https://late.example"}})
	id := len(h.store.sites)
	h.p.sites.invalidate()
	h.process(procPV(time.Minute, procSite1(id)))
	procWantVisits(t, h.store, 1)
}

// TestProcessReadFailureNotIsolated: a store read that fails for good is
// not a hit's fault: the delivery goes back, nothing is dead-lettered.
func TestProcessReadFailureNotIsolated(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.store.lastVisitErr = fmt.Errorf("fake: corrupt index: %w", analytics.ErrInvalid)
	d := h.delivery(procPV(0), procPV(time.Minute, procCookie(procVisitorB)))
	if err := h.p.Process(t.Context(), d); !errors.Is(err, analytics.ErrInvalid) {
		t.Fatalf("Process = %v", err)
	}
	procEq(t, "nacks", len(h.queue.nacks), 1)
	procEq(t, "dead letters", len(h.queue.dead), 0)
	procEq(t, "writes", h.store.writes, 0)
}

// FuzzProcess feeds arbitrary texts through the whole processor: it must
// neither fail nor panic (a panic would show as a dead-lettered hit).
func FuzzProcess(f *testing.F) {
	f.Add("https://example.com/?utm_campaign=x&gclid=1#f", "https://www.google.com/search?q=a", procChromeUA, "T", "", uint8(1))
	f.Add("%", "%zz://", "", "\xff", "u", uint8(9))
	f.Add("https://example.com/?q=", "android-app://x", "Mozilla/5.0 (", "", "", uint8(12))
	f.Add("", "", procBotUA, "", "", uint8(10))
	f.Fuzz(func(t *testing.T, url, ref, ua, title, uid string, kind uint8) {
		h := newProcHarness(t, procTestSites(), procGoals(), nil)
		hit := procPV(0, procURL(url), procRef(ref), procUA(ua), procTitle(title), procUID(uid),
			procKind(analytics.HitKind(kind%14)), procFlags(analytics.FlagTrackBots))
		hit.Event = &analytics.Event{Category: title, Action: url}
		hit.Order = &analytics.Order{OrderID: title, Items: []analytics.Item{{SKU: ua}}}
		hit.GoalID = int(kind % 4)
		for _, site := range []int{1, 4, 5, 6} {
			hit.SiteID = site
			if err := h.p.Process(t.Context(), h.delivery(hit)); err != nil {
				t.Fatalf("Process: %v", err)
			}
		}
		if len(h.queue.dead) > 0 {
			t.Fatalf("hit dead-lettered (a panic?)")
		}
	})
}
