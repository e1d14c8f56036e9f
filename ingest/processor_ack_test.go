package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

// procFlakyAcker fails the first fails acks with err, then succeeds.
type procFlakyAcker struct {
	mu          sync.Mutex
	fails, acks int
	err         error
}

func (a *procFlakyAcker) Ack(ctx context.Context, d *analytics.Delivery) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks++
	if a.fails > 0 {
		a.fails--
		return a.err
	}
	return nil
}

func (a *procFlakyAcker) Nack(ctx context.Context, d *analytics.Delivery, cause error) error {
	return errors.New("unexpected nack")
}

// TestProcessAckRetried: an ack that fails while the queue backend is
// away is retried until it succeeds (found by faulttest's Redis restart:
// a given-up ack left its shard blocked until the ack timeout); a
// conflict (the delivery expired or its lease was lost) is not retried.
func TestProcessAckRetried(t *testing.T) {
	cases := []struct {
		name      string
		fails     int
		err       error
		wantAcks  int
		wantError bool
	}{
		{"unavailable, then ok", 7, fmt.Errorf("redis: %w", analytics.ErrUnavailable), 8, false},
		{"conflict", 1, fmt.Errorf("lease lost: %w", analytics.ErrConflict), 1, true},
		{"closed", 1, fmt.Errorf("queue: %w", analytics.ErrClosed), 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newProcHarness(t, procTestSites(), nil, nil)
			a := &procFlakyAcker{fails: c.fails, err: c.err}
			d := h.delivery(procPV(0), procPV(time.Minute))
			d.Acker = a
			err := h.p.Process(t.Context(), d)
			if (err != nil) != c.wantError || a.acks != c.wantAcks {
				t.Errorf("Process = %v after %d acks; want error %v after %d", err, a.acks, c.wantError, c.wantAcks)
			}
			procWantActions(t, h.store, 2)
		})
	}
	// A cancelled context stops the retries.
	h := newProcHarness(t, procTestSites(), nil, nil)
	h.p.backoff = func(int) time.Duration { return time.Hour }
	a := &procFlakyAcker{fails: 1 << 30, err: analytics.ErrUnavailable}
	d := h.delivery(procPV(0))
	d.Acker = a
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := h.p.Process(ctx, d); err == nil || a.acks != 1 {
		t.Errorf("Process with a dead queue and a cancelled context = %v after %d acks", err, a.acks)
	}
}
