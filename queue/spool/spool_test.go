package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

// fakeInner is an inner queue whose Enqueue fails on demand.
type fakeInner struct {
	mu       sync.Mutex
	fail     error // Enqueue and EnqueueSpooled return it when set
	lostAck  int   // EnqueueSpooled accepts, then fails, this many times
	got      []analytics.Hit
	replayer bool
	done     uint64 // highest Seq accepted (replayer dedup)
	batches  []Batch
	closed   bool
}

func (f *fakeInner) Enqueue(ctx context.Context, hits []analytics.Hit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.got = append(f.got, hits...)
	return nil
}

func (f *fakeInner) Receive(ctx context.Context, max int) (*analytics.Delivery, error) {
	return nil, errors.New("fake: no receive")
}

func (f *fakeInner) Stats(ctx context.Context) (analytics.QueueStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return analytics.QueueStats{Depth: int64(len(f.got)), Bytes: 7}, nil
}

func (f *fakeInner) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeInner) set(fail error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *fakeInner) hits() []analytics.Hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]analytics.Hit(nil), f.got...)
}

// replayingInner adds the Replayer capability with seq-based dedup.
type replayingInner struct{ *fakeInner }

func (r replayingInner) EnqueueSpooled(ctx context.Context, b Batch) error {
	f := r.fakeInner
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.batches = append(f.batches, b)
	for _, rec := range b.Records {
		if rec.Seq <= f.done {
			continue
		}
		f.got = append(f.got, rec.Hits...)
		f.done = rec.Seq
	}
	if f.lostAck > 0 {
		f.lostAck--
		return fmt.Errorf("fake: reply lost: %w", analytics.ErrUnavailable)
	}
	return nil
}

// uncertainErr is an inner error whose outcome is unknown.
type uncertainErr struct{ token string }

func (e uncertainErr) Error() string        { return "fake: timeout after send" }
func (e uncertainErr) Unwrap() error        { return analytics.ErrUnavailable }
func (e uncertainErr) EnqueueToken() string { return e.token }

func hit(i int) analytics.Hit {
	return analytics.Hit{
		ID:         analytics.NewHitID(time.Now()),
		SiteID:     1,
		Kind:       analytics.KindPageview,
		URL:        fmt.Sprintf("https://example.com/%d", i),
		PageViewID: fmt.Sprint(i),
	}
}

func hitsFrom(first, n int) []analytics.Hit {
	var hs []analytics.Hit
	for i := range n {
		hs = append(hs, hit(first+i))
	}
	return hs
}

// checkOrder checks that got is hits 0..n-1 in order, each once.
func checkOrder(t *testing.T, got []analytics.Hit, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("inner got %d hits, want %d", len(got), n)
	}
	for i, h := range got {
		if h.PageViewID != fmt.Sprint(i) {
			t.Fatalf("hit %d is %q, want %d (order or duplicate)", i, h.PageViewID, i)
		}
	}
}

func newSpool(t *testing.T, inner analytics.Queue, opts Options) *Queue {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.RetryInterval == 0 {
		opts.RetryInterval = 5 * time.Millisecond
	}
	s, err := New(inner, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runSpool runs s.Run until the test ends.
func runSpool(t *testing.T, s *Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	})
}

func waitEmpty(t *testing.T, s *Queue) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h, b := s.Spooled(); h == 0 && b == 0 {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("spool still holds %d hits, %d bytes", h, b)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPassThrough(t *testing.T) {
	inner := &fakeInner{}
	s := newSpool(t, inner, Options{})
	if err := s.Enqueue(t.Context(), hitsFrom(0, 3)); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	checkOrder(t, inner.hits(), 3)
	if h, b := s.Spooled(); h != 0 || b != 0 {
		t.Errorf("Spooled = %d hits, %d bytes; want nothing", h, b)
	}
	if segs := segments(t, s.opts.Dir); len(segs) != 0 {
		t.Errorf("segment files %v with a healthy inner queue", segs)
	}
}

func TestSpoolAndReplay(t *testing.T) {
	for _, replayer := range []bool{false, true} {
		t.Run(fmt.Sprintf("replayer=%v", replayer), func(t *testing.T) {
			fi := &fakeInner{}
			var inner analytics.Queue = fi
			if replayer {
				inner = replayingInner{fi}
			}
			s := newSpool(t, inner, Options{SegmentBytes: 4096, RetryInterval: time.Hour})
			fi.set(fmt.Errorf("fake: redis down: %w", analytics.ErrUnavailable))
			for i := 0; i < 100; i += 4 {
				if err := s.Enqueue(t.Context(), hitsFrom(i, 4)); err != nil {
					t.Fatalf("Enqueue while inner is down: %v", err)
				}
			}
			if h, _ := s.Spooled(); h != 100 {
				t.Fatalf("Spooled hits = %d, want 100", h)
			}
			if segs := segments(t, s.opts.Dir); len(segs) < 2 {
				t.Errorf("%d segment files, want several with 4 KiB segments", len(segs))
			}
			st, err := s.Stats(t.Context())
			if err != nil || st.Depth != 100 || st.Bytes <= 7 {
				t.Errorf("Stats = %+v, %v; want the spooled hits and bytes added", st, err)
			}

			// Inner is back; the spool still holds hits, so new hits queue
			// behind them (even with the breaker closed).
			fi.set(nil)
			s.mu.Lock()
			s.breaker = time.Time{}
			s.mu.Unlock()
			if err := s.Enqueue(t.Context(), hitsFrom(100, 2)); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			if n := len(fi.hits()); n != 0 {
				t.Fatalf("inner got %d hits before the spool was replayed", n)
			}
			runSpool(t, s)
			waitEmpty(t, s)
			checkOrder(t, fi.hits(), 102)
			if segs := segments(t, s.opts.Dir); len(segs) != 0 {
				t.Errorf("segment files %v left after the replay", segs)
			}
			// Empty again: straight to the inner queue.
			if err := s.Enqueue(t.Context(), hitsFrom(102, 1)); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			checkOrder(t, fi.hits(), 103)
		})
	}
}

func TestBreaker(t *testing.T) {
	fi := &fakeInner{}
	s := newSpool(t, fi, Options{RetryInterval: time.Hour})
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	if err := s.Enqueue(t.Context(), hitsFrom(0, 1)); err != nil {
		t.Fatal(err)
	}
	fi.set(errors.New("fake: must not be called while the breaker is open"))
	if err := s.Enqueue(t.Context(), hitsFrom(1, 1)); err != nil {
		t.Fatalf("Enqueue with the breaker open: %v", err)
	}
	if h, _ := s.Spooled(); h != 2 {
		t.Errorf("Spooled = %d, want 2", h)
	}
}

func TestFull(t *testing.T) {
	fi := &fakeInner{}
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	s := newSpool(t, fi, Options{MaxBytes: 8192, SegmentBytes: 4096})
	var err error
	n := 0
	for ; n < 1000; n++ {
		if err = s.Enqueue(t.Context(), hitsFrom(n, 1)); err != nil {
			break
		}
	}
	if !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("Enqueue into a full spool: %v, want ErrUnavailable", err)
	}
	if _, b := s.Spooled(); b > 8192 {
		t.Errorf("spool holds %d bytes, above MaxBytes 8192", b)
	}
	// What was accepted is replayed; the refused hit is not.
	fi.set(nil)
	runSpool(t, s)
	waitEmpty(t, s)
	checkOrder(t, fi.hits(), n)
}

func TestOtherErrorsPassThrough(t *testing.T) {
	fi := &fakeInner{}
	s := newSpool(t, fi, Options{})
	for _, want := range []error{analytics.ErrInvalid, context.Canceled, analytics.ErrClosed} {
		fi.set(fmt.Errorf("fake: %w", want))
		if err := s.Enqueue(t.Context(), hitsFrom(0, 1)); !errors.Is(err, want) {
			t.Errorf("Enqueue = %v, want %v passed through", err, want)
		}
	}
	if h, _ := s.Spooled(); h != 0 {
		t.Errorf("Spooled = %d after non-availability errors, want 0", h)
	}
}

func TestUncertainToken(t *testing.T) {
	fi := &fakeInner{}
	inner := replayingInner{fi}
	s := newSpool(t, inner, Options{})
	fi.set(uncertainErr{token: "p1:42"})
	if err := s.Enqueue(t.Context(), hitsFrom(0, 2)); err != nil {
		t.Fatal(err)
	}
	fi.set(nil)
	runSpool(t, s)
	waitEmpty(t, s)
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if len(fi.batches) == 0 || fi.batches[0].Records[0].Token != "p1:42" {
		t.Fatalf("replayed batches %+v, want the first record to carry token p1:42", fi.batches)
	}
	if fi.batches[0].Spool != s.ID() || s.ID() == "" {
		t.Errorf("batch spool id %q, spool ID %q", fi.batches[0].Spool, s.ID())
	}
}

// TestReplayAcceptedTwice: the inner queue accepts a replay batch but the
// answer is lost (as if the process crashed before deleting the
// segment); the batch is sent again with the same Seqs, and a Replayer
// drops it.
func TestReplayAcceptedTwice(t *testing.T) {
	fi := &fakeInner{}
	inner := replayingInner{fi}
	s := newSpool(t, inner, Options{ReplayBatch: 3})
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	for i := range 10 {
		if err := s.Enqueue(t.Context(), hitsFrom(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	fi.mu.Lock()
	fi.fail, fi.lostAck = nil, 2
	fi.mu.Unlock()
	runSpool(t, s)
	waitEmpty(t, s)
	checkOrder(t, fi.hits(), 10)
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if len(fi.batches) < 5 {
		t.Errorf("%d replay calls, want the lost ones repeated", len(fi.batches))
	}
}

// TestCrashTornRecord: a crash mid-append leaves a torn last record; on
// reopen it is truncated with a log line and the good records replay.
func TestCrashTornRecord(t *testing.T) {
	dir := t.TempDir()
	fi := &fakeInner{}
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	s, err := New(fi, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.Enqueue(t.Context(), hitsFrom(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	segs := segments(t, dir)
	if len(segs) != 1 {
		t.Fatalf("segments %v, want 1", segs)
	}
	st, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Append half of a sixth record, as a crash during write would.
	torn := encodeRecord(6, "", hitsFrom(5, 1))
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn[:len(torn)/2])
	f.Close()

	var logs bytes.Buffer
	fi2 := &fakeInner{}
	s2 := newSpool(t, fi2, Options{Dir: dir, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
	if !strings.Contains(logs.String(), "torn or corrupt spool record") {
		t.Errorf("no log line about the torn record; logs:\n%s", logs.String())
	}
	if st2, _ := os.Stat(segs[0]); st2.Size() != st.Size() {
		t.Errorf("segment is %d bytes after recovery, want the %d of the good records", st2.Size(), st.Size())
	}
	if h, _ := s2.Spooled(); h != 5 {
		t.Errorf("recovered %d hits, want 5", h)
	}
	// New hits keep the sequence going after the recovered ones.
	if err := s2.Enqueue(t.Context(), hitsFrom(5, 1)); err != nil {
		t.Fatal(err)
	}
	runSpool(t, s2)
	waitEmpty(t, s2)
	checkOrder(t, fi2.hits(), 6)
}

// TestCrashCorruptMiddle: a damaged record in the middle drops the rest of
// its segment, not the records before it.
func TestCrashCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	fi := &fakeInner{}
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	s, err := New(fi, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	for i := range 4 {
		if err := s.Enqueue(t.Context(), hitsFrom(i, 1)); err != nil {
			t.Fatal(err)
		}
		_, b := s.Spooled()
		ends = append(ends, b)
	}
	s.Close()
	seg := segments(t, dir)[0]
	b, _ := os.ReadFile(seg)
	b[ends[1]+recHeader+2] ^= 0xff // inside record 3's payload
	os.WriteFile(seg, b, 0o640)

	fi2 := &fakeInner{}
	s2 := newSpool(t, fi2, Options{Dir: dir})
	runSpool(t, s2)
	waitEmpty(t, s2)
	checkOrder(t, fi2.hits(), 2)
}

func TestDirInUse(t *testing.T) {
	dir := t.TempDir()
	newSpool(t, &fakeInner{}, Options{Dir: dir})
	if _, err := New(&fakeInner{}, Options{Dir: dir}); !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("second New on the same directory: %v, want ErrUnavailable", err)
	}
}

func TestClose(t *testing.T) {
	fi := &fakeInner{}
	s := newSpool(t, fi, Options{})
	runSpool(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !fi.closed {
		t.Error("inner queue not closed")
	}
	if err := s.Enqueue(t.Context(), hitsFrom(0, 1)); !errors.Is(err, analytics.ErrClosed) {
		t.Errorf("Enqueue after Close: %v, want ErrClosed", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"no dir", Options{}},
		{"tiny max", Options{Dir: "x", MaxBytes: 10}},
		{"segment above max", Options{Dir: "x", MaxBytes: 8192, SegmentBytes: 16384}},
		{"negative retry", Options{Dir: "x", RetryInterval: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(&fakeInner{}, tc.o); !errors.Is(err, analytics.ErrInvalid) {
				t.Errorf("New(%+v) = %v, want ErrInvalid", tc.o, err)
			}
		})
	}
}

func TestConcurrentEnqueue(t *testing.T) {
	fi := &fakeInner{}
	fi.set(fmt.Errorf("fake: down: %w", analytics.ErrUnavailable))
	s := newSpool(t, fi, Options{SegmentBytes: 8192})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				h := hit(i)
				h.UserID = fmt.Sprint(g)
				if err := s.Enqueue(t.Context(), []analytics.Hit{h}); err != nil {
					t.Errorf("Enqueue: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	fi.set(nil)
	runSpool(t, s)
	waitEmpty(t, s)
	got := fi.hits()
	if len(got) != 400 {
		t.Fatalf("inner got %d hits, want 400", len(got))
	}
	next := map[string]int{}
	for _, h := range got {
		if h.PageViewID != fmt.Sprint(next[h.UserID]) {
			t.Fatalf("goroutine %s: hit %s after %d", h.UserID, h.PageViewID, next[h.UserID])
		}
		next[h.UserID]++
	}
}
