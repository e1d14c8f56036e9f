// Command full runs every part of Footfall in one process on the embedded
// defaults — the tracking endpoint, the tracker JavaScript, the in-memory
// queue, the workers and the SQLite store — plus a small demo website that
// loads the tracker from the same server. No services are needed:
//
//	go run ./examples/full                 # http://127.0.0.1:8080
//	go run ./examples/full -addr :9000 -data /tmp/ff
//
// On first run it creates site 1 "Demo" and prints the tracking snippet.
// Click around the demo site and watch batches land in the log; see the
// visits with
//
//	go run ./cmd/footfall live --data ./footfall-data --site 1
//
// Ctrl-C stops the endpoint first, then lets the workers drain the queue, so
// nothing accepted is lost.
//
// The program is also an example of the library: it builds the parts by
// hand (memqueue, sqlitestore, ingest.Handler, ingest.Processor,
// tracker.Handler) rather than through config/standard.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
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

//go:embed site/*.html
var siteFS embed.FS

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen `address`")
	data := flag.String("data", "./footfall-data", "data `directory` (the SQLite database)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "footfall", Output: os.Stderr, Level: hclog.Info})
	if err := run(ctx, *addr, *data, os.Stdout, log); err != nil {
		log.Error("stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then drains.
func run(ctx context.Context, addr, dataDir string, out io.Writer, log hclog.Logger) error {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return err
	}
	store, err := sqlitestore.Open(ctx, sqlitestore.Options{
		Path:    filepath.Join(dataDir, "footfall.db"),
		Migrate: true,
		Logger:  log.Named("sqlite"),
	})
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	site, err := demoSite(ctx, store, base)
	if err != nil {
		return err
	}

	queue, err := memqueue.New(memqueue.Options{Logger: log.Named("queue")})
	if err != nil {
		return err
	}
	proc, err := ingest.NewProcessor(ingest.ProcessorOptions{
		Queue:  queue,
		Store:  store,
		Logger: log.Named("worker"),
		OnBatch: func(b ingest.BatchInfo) {
			log.Info("batch landed", "shard", b.Shard, "hits", b.Hits, "visits", b.Visits,
				"actions", b.Actions, "conversions", b.Conversions, "excluded", b.Excluded,
				"took", b.Duration.Round(time.Microsecond))
		},
	})
	if err != nil {
		return err
	}
	scripts, err := tracker.New(tracker.Options{})
	if err != nil {
		return err
	}
	track, err := ingest.NewHandler(ingest.HandlerOptions{
		Queue:   queue,
		Sites:   store,
		Scripts: scripts,
		Logger:  log.Named("ingest"),
	})
	if err != nil {
		return err
	}
	if err := track.LoadSites(ctx); err != nil {
		return err
	}
	pages, err := newDemo(site.ID, dataDir)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	// The tracking endpoint and the tracker scripts, where Matomo has them.
	for _, p := range []string{"/matomo.php", "/piwik.php", "/matomo.js", "/piwik.js", "/js/", "/footfall-lite.js"} {
		mux.Handle(p, track)
	}
	mux.Handle("/", pages)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	fmt.Fprintf(out, "Footfall is running at %s (data in %s)\n\n", base, dataDir)
	fmt.Fprintf(out, "Site %d %q. Put this snippet on any page to track it here:\n\n%s\n", site.ID, site.Name, snippet(base, site.ID))
	fmt.Fprintf(out, "Open %s/ for the demo shop; Ctrl-C stops (after draining the queue).\n\n", base)

	// Workers outlive the signal: they drain the queue after the endpoint closes.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	workDone := make(chan error, 1)
	go func() { workDone <- proc.Run(workCtx) }()
	cacheCtx, stopCache := context.WithCancel(ctx)
	defer stopCache()
	go track.Run(cacheCtx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-srvDone:
		return err
	case err := <-workDone:
		return fmt.Errorf("workers stopped: %w", err)
	}
	log.Info("stopping: closing the endpoint")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	st, _ := queue.Stats(context.Background())
	log.Info("draining the queue", "hits", st.Depth)
	queue.Close()
	if err := <-workDone; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("queue drained; bye")
	return nil
}

// demoSite returns site 1, creating it (with a goal) on first run.
func demoSite(ctx context.Context, store analytics.Store, base string) (analytics.Site, error) {
	sites, err := store.Sites(ctx)
	if err != nil {
		return analytics.Site{}, err
	}
	if len(sites) > 0 {
		return sites[0], nil
	}
	tz := "UTC"
	if name := time.Local.String(); name != "Local" && name != "" {
		if _, err := analytics.ParseTimezone(name); err == nil {
			tz = name
		}
	}
	s := analytics.Site{Name: "Demo", URLs: []string{base}, Timezone: tz, Currency: "USD", Ecommerce: true, SiteSearch: true}
	if err := store.CreateSite(ctx, &s); err != nil {
		return analytics.Site{}, err
	}
	g := analytics.Goal{SiteID: s.ID, Name: "Newsletter signup", Match: "manually"}
	if err := store.CreateGoal(ctx, &g); err != nil {
		return analytics.Site{}, err
	}
	return s, nil
}

func snippet(base string, siteID int) string {
	return fmt.Sprintf(`<script>
  var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="%s/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '%d']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
</script>
`, base, siteID)
}

// demo serves the demo shop.
type demo struct {
	siteID  int
	dataDir string
	pages   map[string]*template.Template
}

func newDemo(siteID int, dataDir string) (*demo, error) {
	d := &demo{siteID: siteID, dataDir: dataDir, pages: map[string]*template.Template{}}
	for path, file := range map[string]string{"/": "home", "/products": "products", "/about": "about", "/search": "search"} {
		t, err := template.ParseFS(siteFS, "site/layout.html", "site/"+file+".html")
		if err != nil {
			return nil, err
		}
		d.pages[path] = t
	}
	return d, nil
}

func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/files/catalogue.pdf" {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4\n% a demo file\n"))
		return
	}
	t, ok := d.pages[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	titles := map[string]string{"/": "Home", "/products": "Products", "/about": "About", "/search": "Search"}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := t.ExecuteTemplate(w, "layout", map[string]any{
		"Title": titles[r.URL.Path], "SiteID": d.siteID, "DataDir": d.dataDir, "Query": r.URL.Query().Get("q"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
