package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
)

// TestEmbed runs the embedded application: a JavaScript-style tracking
// request through the mounted endpoint and a server-side page view through
// the middleware both end up as one visit of the same visitor.
func TestEmbed(t *testing.T) {
	ctx := t.Context()
	a, err := OpenAnalytics(ctx, t.TempDir(), "http://app.example", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	workDone := make(chan error, 1)
	go func() { workDone <- a.Run(context.Background()) }()
	srv := httptest.NewServer(newMux(a))
	defer srv.Close()

	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/analytics/matomo.js"); r.StatusCode != 200 || r.Header.Get("Content-Type") == "" {
		t.Fatalf("tracker JS: %d", r.StatusCode)
	}
	if r := get("/analytics/matomo.php?idsite=1&rec=1&action_name=Home&url=http://app.example/"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("tracking request: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := get("/docs/intro"); r.StatusCode != 200 {
		t.Fatalf("docs page: %d", r.StatusCode)
	}
	if r := get("/analytics/admin"); r.StatusCode != 404 {
		t.Fatalf("non-tracker path under the mount: %d, want 404", r.StatusCode)
	}
	a.Close() // drain
	select {
	case err := <-workDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not drain")
	}

	var visits []*analytics.VisitDetails
	err = a.store.Visits(ctx, analytics.VisitQuery{SiteID: 1, WithActions: true}, func(v *analytics.VisitDetails) error {
		visits = append(visits, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 1 {
		t.Fatalf("%d visits, want 1 (same cookieless visitor)", len(visits))
	}
	var titles []string
	for _, act := range visits[0].ActionList {
		titles = append(titles, act.Title)
	}
	if len(titles) != 2 || titles[0] != "Home" || titles[1] != "Docs /docs/intro" {
		t.Fatalf("actions %q, want [Home, Docs /docs/intro]", titles)
	}
	if u := visits[0].ActionList[1].URL; u != srv.URL+"/docs/intro" {
		t.Errorf("server-side page view URL %q", u)
	}
}
