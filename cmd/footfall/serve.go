package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/config/standard"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/ingest/tracker"
)

// drainTimeout bounds how long a stopping process waits for queued hits
// to be processed (all role) or for in-flight deliveries (worker).
const drainTimeout = 2 * time.Minute

// runServe serves a role. ingest: the public tracking endpoint only
// (matomo.php, piwik.php, any *.php under the prefix, the tracker JS; every
// other path 404). all: ingest, the workers and migrations in one process.
func runServe(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "serve", &cf)
	role := fs.String("role", "all", "`role` to serve: ingest or all")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	log := logger(cfg, e.stderr)
	switch *role {
	case "ingest":
		return serveIngest(ctx, cfg, log)
	case "all":
		return serveAll(ctx, cfg, log)
	case "admin":
		return fmt.Errorf("--role=admin: the admin role (Reporting API, dashboard) is not built yet")
	}
	return fmt.Errorf("--role=%q: want ingest or all", *role)
}

// group runs goroutines and collects the first error.
type group struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	stop context.CancelFunc
}

func (g *group) go_(name string, f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
			g.mu.Lock()
			if g.err == nil {
				g.err = fmt.Errorf("%s: %w", name, err)
			}
			g.mu.Unlock()
			if g.stop != nil {
				g.stop()
			}
		}
	}()
}

func (g *group) wait() error {
	g.wg.Wait()
	return g.err
}

// ingestMux mounts the tracking handler at the configured prefix beside
// a health check.
func ingestMux(cfg *config.Config, h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	prefix := strings.TrimSuffix(cfg.Ingest.Prefix, "/")
	if prefix == "" {
		mux.Handle("/", h)
	} else {
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
	}
	return mux
}

func newHandler(cfg *config.Config, q analytics.Queue, sites ingest.SiteSource, log hclog.Logger) (*ingest.Handler, error) {
	scripts, err := tracker.New(tracker.Options{})
	if err != nil {
		return nil, err
	}
	o := standard.HandlerOptions(cfg)
	o.Queue, o.Sites, o.Scripts, o.Logger = q, sites, scripts, log.Named("ingest")
	return ingest.NewHandler(o)
}

// listen opens the ingest listener and says where it is.
func listen(addr string, log hclog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	log.Info("tracking endpoint listening", "addr", ln.Addr().String())
	return ln, nil
}

func serveIngest(ctx context.Context, cfg *config.Config, log hclog.Logger) error {
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := standard.OpenQueue(ctx, cfg, standard.Producer, log)
	if err != nil {
		return err
	}
	defer q.Close()
	h, err := newHandler(cfg, q, st, log)
	if err != nil {
		return err
	}
	if err := h.LoadSites(ctx); err != nil {
		log.Warn("first site list load failed; answering 503 until it works", "error", err)
	}
	ln, err := listen(cfg.Ingest.Listen, log)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ingestMux(cfg, h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g := &group{stop: stop}
	g.go_("site cache", func() error { return h.Run(runCtx) })
	if q.Run != nil {
		g.go_("spool", func() error { return q.Run(runCtx) })
	}
	g.go_("http", func() error { return srv.Serve(ln) })
	<-runCtx.Done()
	log.Info("stopping: finishing open requests")
	shutdown(srv, log)
	stop()
	return g.wait()
}

func shutdown(srv *http.Server, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", "error", err)
	}
}

// serveAll runs every role in one process: migrations, the tracking
// endpoint, the workers. On stop it closes the endpoint first, then lets
// the workers drain the queue, so nothing accepted is lost.
func serveAll(ctx context.Context, cfg *config.Config, log hclog.Logger) error {
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Migrate: true, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := standard.OpenQueue(ctx, cfg, standard.InProcess, log)
	if err != nil {
		return err
	}
	defer q.Close()
	geo, err := standard.OpenGeo(cfg, log)
	if err != nil {
		return err
	}
	po := standard.ProcessorOptions(cfg)
	po.Queue, po.Store, po.Logger = q, st, log.Named("worker")
	po.OnBatch = logBatch(log.Named("worker"))
	if geo != nil {
		defer geo.Close()
		po.Geo = geo
	}
	proc, err := ingest.NewProcessor(po)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, q, st, log)
	if err != nil {
		return err
	}
	if err := h.LoadSites(ctx); err != nil {
		return err
	}
	ln, err := listen(cfg.Ingest.Listen, log)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ingestMux(cfg, h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}

	// The workers get their own context: they must outlive the signal to
	// drain the queue.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g := &group{stop: stop}
	workers := &group{stop: stop}
	workers.go_("workers", func() error { return proc.Run(workCtx) })
	g.go_("site cache", func() error { return h.Run(runCtx) })
	if q.Run != nil {
		g.go_("queue", func() error { return q.Run(runCtx) })
	}
	if geo != nil && geo.Run != nil {
		g.go_("geo", func() error { return geo.Run(runCtx) })
	}
	g.go_("http", func() error { return srv.Serve(ln) })
	g.go_("retention", func() error { return housekeeping(runCtx, cfg, st, log.Named("retention"), 24*time.Hour) })

	<-runCtx.Done()
	log.Info("stopping: closing the tracking endpoint")
	shutdown(srv, log)
	stop()
	err = g.wait()
	log.Info("draining the queue")
	q.Close()
	done := make(chan struct{})
	go func() { workers.wait(); close(done) }()
	select {
	case <-done:
		log.Info("queue drained")
		// A Redis queue's consumer leaves the consumer set, so that other
		// workers take its shards at once.
		select {
		case <-q.Done():
		case <-time.After(drainTimeout):
		}
	case <-time.After(drainTimeout):
		log.Error("queue not drained in time; stopping workers", "timeout", drainTimeout)
		stopWork()
		<-done
	}
	return errors.Join(err, workers.err)
}

// logBatch logs each committed batch, the visible heartbeat of a worker.
func logBatch(log hclog.Logger) func(ingest.BatchInfo) {
	return func(b ingest.BatchInfo) {
		log.Info("batch committed", "shard", b.Shard, "hits", b.Hits, "visits", b.Visits,
			"actions", b.Actions, "conversions", b.Conversions, "skipped", b.Skipped,
			"excluded", b.Excluded, "took", b.Duration.Round(time.Microsecond))
	}
}

// housekeeping runs a retention pass now and then every interval, for the
// all role (a cluster runs `footfall retention run` as a periodic job).
// A failed pass is logged and tried again at the next interval.
func housekeeping(ctx context.Context, cfg *config.Config, st analytics.Store, log hclog.Logger, every time.Duration) error {
	if _, ok := st.(analytics.Pruner); !ok {
		return nil
	}
	t := time.NewTimer(time.Minute) // let the process settle first
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := retention(ctx, cfg, st, time.Now(), 5000, false, func(format string, args ...any) {
			log.Info(fmt.Sprintf(format, args...))
		})
		if err != nil && ctx.Err() == nil {
			log.Error("retention pass failed", "error", err)
		}
		t.Reset(every)
	}
}
