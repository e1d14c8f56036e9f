package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	testNow    = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	testPeer   = netip.MustParseAddr("192.0.2.10")
	testUA     = "Mozilla/5.0 (Test)"
	testLang   = "de-DE,de;q=0.9"
	testOrigin = "https://shop.example"
	testToken  = "0123456789abcdef0123456789abcdef"
)

// handlerRecQueue records what the handler enqueues.
type handlerRecQueue struct {
	mu    sync.Mutex
	calls [][]analytics.Hit
	err   error
}

func (q *handlerRecQueue) Enqueue(_ context.Context, hits []analytics.Hit) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.calls = append(q.calls, append([]analytics.Hit(nil), hits...))
	return nil
}

func (q *handlerRecQueue) hits() []analytics.Hit {
	q.mu.Lock()
	defer q.mu.Unlock()
	var all []analytics.Hit
	for _, c := range q.calls {
		all = append(all, c...)
	}
	return all
}

func (q *handlerRecQueue) Receive(ctx context.Context, _ int) (*analytics.Delivery, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (q *handlerRecQueue) Stats(context.Context) (analytics.QueueStats, error) {
	return analytics.QueueStats{}, nil
}
func (q *handlerRecQueue) Close() error { return nil }

var _ analytics.Queue = (*handlerRecQueue)(nil)

// handlerSites is a SiteSource whose answer tests change.
type handlerSites struct {
	mu    sync.Mutex
	sites []analytics.Site
	err   error
	calls int
	ch    chan struct{} // gets a value after each call, when set
}

func (s *handlerSites) Sites(context.Context) ([]analytics.Site, error) {
	s.mu.Lock()
	s.calls++
	sites, err, ch := append([]analytics.Site(nil), s.sites...), s.err, s.ch
	s.mu.Unlock()
	if ch != nil {
		ch <- struct{}{}
	}
	return sites, err
}

func (s *handlerSites) set(sites []analytics.Site, err error) {
	s.mu.Lock()
	s.sites, s.err = sites, err
	s.mu.Unlock()
}

type handlerEnv struct {
	h     *Handler
	queue *handlerRecQueue
	sites *handlerSites
}

// newHandlerEnv builds a Handler with sites 1 and 2 loaded, the test clock
// and the test token; opt may change the options first.
func newHandlerEnv(t testing.TB, opt func(*HandlerOptions)) *handlerEnv {
	t.Helper()
	e := &handlerEnv{
		queue: &handlerRecQueue{},
		sites: &handlerSites{sites: []analytics.Site{{ID: 1, Name: "Shop"}, {ID: 2, Name: "Blog"}}},
	}
	o := HandlerOptions{
		Queue:  e.queue,
		Sites:  e.sites,
		Tokens: []string{testToken},
		Now:    func() time.Time { return testNow },
	}
	if opt != nil {
		opt(&o)
	}
	h, err := NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LoadSites(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

// handlerRequest builds a request with the test envelope: peer address,
// User-Agent, Accept-Language, Origin.
func handlerRequest(method, target, body string, hdr map[string]string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = testPeer.String() + ":54321"
	r.Header.Set("User-Agent", testUA)
	r.Header.Set("Accept-Language", testLang)
	r.Header.Set("Origin", testOrigin)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return r
}

func (e *handlerEnv) do(method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, handlerRequest(method, target, body, hdr))
	return w
}

// baseHit is what a minimal valid request of the test envelope becomes.
func baseHit(kind analytics.HitKind) analytics.Hit {
	return analytics.Hit{
		SiteID:    1,
		Time:      testNow,
		Kind:      kind,
		IP:        testPeer,
		UserAgent: testUA,
		Lang:      testLang,
		Device:    analytics.Device{LocalHour: -1, LocalMinute: -1, LocalSecond: -1},
	}
}

var hitCmp = []cmp.Option{
	cmpopts.IgnoreFields(analytics.Hit{}, "ID", "Pos"),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// checkHits compares hits ignoring ID and Pos, and checks that IDs are set
// and distinct.
func checkHits(t *testing.T, want, got []analytics.Hit) {
	t.Helper()
	if diff := cmp.Diff(want, got, hitCmp...); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
	seen := map[analytics.HitID]bool{}
	for _, h := range got {
		if h.ID.IsZero() || seen[h.ID] {
			t.Errorf("hit ID %v zero or repeated", h.ID)
		}
		seen[h.ID] = true
	}
}

// checkResp checks status, the listed headers ("" = absent) and the body.
func checkResp(t *testing.T, w *httptest.ResponseRecorder, status int, hdr map[string]string, body string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d (body %q)", w.Code, status, w.Body.String())
	}
	for k, v := range hdr {
		if got := w.Header().Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if got := w.Body.String(); got != body {
		t.Errorf("body = %q, want %q", got, body)
	}
}

var errQueueDown = fmt.Errorf("test: queue down: %w", analytics.ErrUnavailable)
