package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
)

// exampleSites is a fixed site list; in an application it is the Store.
type exampleSites []analytics.Site

func (s exampleSites) Sites(context.Context) ([]analytics.Site, error) { return s, nil }

func ExampleNewHandler() {
	ctx := context.Background()
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		panic(err)
	}
	defer q.Close()

	h, err := ingest.NewHandler(ingest.HandlerOptions{
		Queue: q,
		Sites: exampleSites{{ID: 1, Name: "Shop"}},
	})
	if err != nil {
		panic(err)
	}
	// Load the sites before serving; in a server, run h.Run(ctx) in a
	// goroutine to keep them fresh.
	if err := h.LoadSites(ctx); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/analytics/", h)

	// What the JavaScript tracker sends for a page view.
	r := httptest.NewRequest("GET", "/analytics/matomo.php?idsite=1&rec=1&action_name=Welcome&url=https%3A%2F%2Fshop.example%2F", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Body.Len(), "bytes")

	d, err := q.Receive(ctx, 10)
	if err != nil {
		panic(err)
	}
	hit := d.Hits[0]
	fmt.Println(hit.Kind, hit.SiteID, hit.Title, hit.URL)
	d.Ack(ctx)
	// Output:
	// 200 image/gif 43 bytes
	// pageview 1 Welcome https://shop.example/
}
