package tracker_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/footfall/analytics/ingest/tracker"
)

func ExampleNew() {
	h, err := tracker.New(tracker.Options{}) // MaxAge: one day
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/analytics/", h) // serves /analytics/matomo.js, /analytics/footfall-lite.js, …

	req := httptest.NewRequest("GET", "/analytics/matomo.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Header().Get("Content-Encoding"), rec.Header().Get("Cache-Control"))

	// A browser revalidating its copy.
	req.Header.Set("If-None-Match", rec.Header().Get("Etag"))
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// 200 application/javascript; charset=utf-8
	// gzip public, max-age=86400
	// 304
}

func ExampleMatch() {
	for _, p := range []string{"/matomo.js", "/stats/js/", "/footfall-lite.js", "/matomo.php"} {
		lite, ok := tracker.Match(p)
		fmt.Println(p, ok, lite)
	}
	// Output:
	// /matomo.js true false
	// /stats/js/ true false
	// /footfall-lite.js true true
	// /matomo.php false false
}
