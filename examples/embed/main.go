// Command embed shows Footfall inside an existing Go web application:
//
//   - the Matomo-compatible tracking endpoint and tracker JS mounted at
//     /analytics/ of the application's own mux, so pages can use the usual
//     snippet with u="/analytics/";
//
//   - the Pageviews middleware, which records server-side page views of the
//     pages it wraps with no JavaScript at all (here: /docs/);
//
//   - the worker running in the same process, on the embedded defaults.
//
//     go run ./examples/embed -addr 127.0.0.1:8090
//
// Then open http://127.0.0.1:8090/ and http://127.0.0.1:8090/docs/ and see
// the visits with `go run ./cmd/footfall live --data ./footfall-embed`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/ingest/tracker"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen `address`")
	data := flag.String("data", "./footfall-embed", "data `directory`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "app", Output: os.Stderr})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "error", err)
		os.Exit(1)
	}
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/")
	if err := serve(ctx, ln, *data, log); err != nil {
		log.Error("stopped", "error", err)
		os.Exit(1)
	}
}

// Analytics is Footfall embedded in an application: an http.Handler for
// the tracking endpoint, a middleware, and a worker.
type Analytics struct {
	Handler *ingest.Handler
	store   *sqlitestore.Store
	queue   *memqueue.Queue
	proc    *ingest.Processor
	siteID  int
}

// OpenAnalytics opens the embedded store under dir and makes sure a site
// for the application exists.
func OpenAnalytics(ctx context.Context, dir, siteURL string, log hclog.Logger) (*Analytics, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	store, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(dir, "footfall.db"), Migrate: true})
	if err != nil {
		return nil, err
	}
	a := &Analytics{store: store}
	sites, err := store.Sites(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if len(sites) == 0 {
		s := analytics.Site{Name: "My app", URLs: []string{siteURL}, Timezone: "UTC"}
		if err := store.CreateSite(ctx, &s); err != nil {
			store.Close()
			return nil, err
		}
		sites = append(sites, s)
	}
	a.siteID = sites[0].ID
	if a.queue, err = memqueue.New(memqueue.Options{}); err != nil {
		store.Close()
		return nil, err
	}
	if a.proc, err = ingest.NewProcessor(ingest.ProcessorOptions{Queue: a.queue, Store: store, Logger: log.Named("worker")}); err != nil {
		store.Close()
		return nil, err
	}
	scripts, err := tracker.New(tracker.Options{})
	if err != nil {
		store.Close()
		return nil, err
	}
	if a.Handler, err = ingest.NewHandler(ingest.HandlerOptions{Queue: a.queue, Sites: store, Scripts: scripts, Logger: log.Named("ingest")}); err != nil {
		store.Close()
		return nil, err
	}
	if err := a.Handler.LoadSites(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

// Run runs the worker until Close drains the queue.
func (a *Analytics) Run(ctx context.Context) error { return a.proc.Run(ctx) }

// Close stops taking hits; Run returns once the queue is drained.
func (a *Analytics) Close() error { return a.queue.Close() }

// Store is the store, for reading visits back.
func (a *Analytics) Store() analytics.Store { return a.store }

const page = `<!doctype html><title>%s</title>
<script>
  var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="/analytics/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '%d']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
</script>
<h1>%s</h1><p><a href="/docs/">Docs</a> are tracked server-side, without JavaScript.</p>`

// newMux is the application: its own pages plus Footfall.
func newMux(a *Analytics) *http.ServeMux {
	mux := http.NewServeMux()
	// The tracking endpoint and tracker JS, under the application's prefix.
	mux.Handle("/analytics/", http.StripPrefix("/analytics", a.Handler))
	// A page tracked by the JavaScript tracker.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, "Home", a.siteID, "Home")
	})
	// Pages tracked server-side by the middleware: no JavaScript needed.
	docs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Docs</title><h1>Docs: %s</h1>", r.URL.Path)
	})
	mux.Handle("GET /docs/", a.Handler.Pageviews(docs, ingest.PageviewOptions{
		SiteID: a.siteID,
		Title:  func(r *http.Request) string { return "Docs " + r.URL.Path },
	}))
	return mux
}

func serve(ctx context.Context, ln net.Listener, dir string, log hclog.Logger) error {
	a, err := OpenAnalytics(ctx, dir, "http://"+ln.Addr().String(), log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	workDone := make(chan error, 1)
	go func() { workDone <- a.Run(context.Background()) }()
	refresh, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	go a.Handler.Run(refresh)

	srv := &http.Server{Handler: newMux(a), ReadHeaderTimeout: 10 * time.Second}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-srvDone:
		return err
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	a.Close()
	if err := <-workDone; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
