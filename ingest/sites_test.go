package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

// TestSitesBeforeFirstLoad: 503 until a load succeeds, then tracking works.
func TestSitesBeforeFirstLoad(t *testing.T) {
	src := &handlerSites{err: fmt.Errorf("db away: %w", analytics.ErrUnavailable)}
	q := &handlerRecQueue{}
	h, err := NewHandler(HandlerOptions{Queue: q, Sites: src, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := &handlerEnv{h: h, queue: q, sites: src}
	checkResp(t, e.do("GET", "/matomo.php?idsite=1&rec=1", "", nil), 503, map[string]string{"Content-Type": "image/gif"}, string(respGIF))

	err = h.LoadSites(t.Context())
	if !errors.Is(err, analytics.ErrUnavailable) {
		t.Fatalf("LoadSites = %v, want the source's error", err)
	}
	checkResp(t, e.do("GET", "/matomo.php?idsite=1&rec=1", "", nil), 503, nil, string(respGIF))

	src.set([]analytics.Site{{ID: 1}}, nil)
	if err := h.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkResp(t, e.do("GET", "/matomo.php?idsite=1&rec=1", "", nil), 200, nil, string(respGIF))
	if n := len(q.hits()); n != 1 {
		t.Errorf("%d hits queued, want 1", n)
	}
}

// TestSitesKeepLastGood: a failing refresh keeps the list; a successful
// one replaces it (a removed site is refused).
func TestSitesKeepLastGood(t *testing.T) {
	e := newHandlerEnv(t, nil)
	e.sites.set(nil, errors.New("db away"))
	if err := e.h.LoadSites(t.Context()); err == nil {
		t.Fatal("LoadSites succeeded with a failing source")
	}
	checkResp(t, e.do("GET", "/matomo.php?idsite=2&rec=1", "", nil), 200, nil, string(respGIF))

	e.sites.set([]analytics.Site{{ID: 1}}, nil)
	if err := e.h.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkResp(t, e.do("GET", "/matomo.php?idsite=2&rec=1", "", nil), 400, nil, string(respGIF))
	checkResp(t, e.do("GET", "/matomo.php?idsite=1&rec=1", "", nil), 200, nil, string(respGIF))
}

// TestSitesMissRefresh: an unknown site asks for one early refresh per
// SiteMissRefresh (by the injected clock).
func TestSitesMissRefresh(t *testing.T) {
	now := testNow
	e := newHandlerEnv(t, func(o *HandlerOptions) { o.Now = func() time.Time { return now } })
	pending := func() bool {
		select {
		case <-e.h.refresh:
			return true
		default:
			return false
		}
	}
	if err := e.h.sitesCheck(3); !errors.Is(err, analytics.ErrInvalid) {
		t.Fatalf("sitesCheck(3) = %v, want ErrInvalid", err)
	}
	if !pending() {
		t.Fatal("first miss did not ask for a refresh")
	}
	now = now.Add(4 * time.Second)
	e.h.sitesCheck(3)
	if pending() {
		t.Fatal("second miss within 5s asked for a refresh")
	}
	now = now.Add(time.Second)
	e.h.sitesCheck(4)
	if !pending() {
		t.Fatal("miss after 5s did not ask for a refresh")
	}
	if err := e.h.sitesCheck(1); err != nil {
		t.Fatalf("sitesCheck(1) = %v", err)
	}
	if pending() {
		t.Fatal("a hit asked for a refresh")
	}
}

// TestSitesRun: Run loads at once, reloads after a miss (a new site is
// tracked soon after), keeps the last good list on errors and returns nil
// when ctx is done.
func TestSitesRun(t *testing.T) {
	src := &handlerSites{sites: []analytics.Site{{ID: 1}}, ch: make(chan struct{})}
	q := &handlerRecQueue{}
	h, err := NewHandler(HandlerOptions{Queue: q, Sites: src, SiteRefresh: time.Hour, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := &handlerEnv{h: h, queue: q, sites: src}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()

	<-src.ch // first load
	waitLoaded(t, h, 1)
	src.set([]analytics.Site{{ID: 1}, {ID: 3}}, nil)
	checkResp(t, e.do("GET", "/matomo.php?idsite=3&rec=1", "", nil), 400, nil, string(respGIF))
	<-src.ch // early refresh
	waitLoaded(t, h, 2)
	checkResp(t, e.do("GET", "/matomo.php?idsite=3&rec=1", "", nil), 200, nil, string(respGIF))

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// waitLoaded waits for the cache to hold n sites: the load that follows a
// source call is immediate, but on another goroutine.
func waitLoaded(t *testing.T, h *Handler, n int) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		if m := h.siteMap.Load(); m != nil && len(*m) == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("site cache never held %d sites", n)
}
