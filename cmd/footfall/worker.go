package main

import (
	"context"
	"errors"
	"time"

	"github.com/footfall/analytics/config/standard"
	"github.com/footfall/analytics/ingest"
)

// runWorker drains the queue into the store with worker.processors
// goroutines. Any number of worker processes may run: shards are shared
// through leases (Redis queue), nothing has to match the process count.
func runWorker(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "worker", &cf)
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
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Logger: log})
	if err != nil {
		return stoppedWhileStarting(ctx, err)
	}
	defer st.Close()
	q, err := standard.OpenQueue(ctx, cfg, standard.Consumer, log)
	if err != nil {
		return stoppedWhileStarting(ctx, err)
	}
	defer q.Close()
	geo, err := standard.OpenGeo(cfg, log)
	if err != nil {
		return err
	}
	po := standard.ProcessorOptions(cfg)
	po.Queue, po.Store, po.Logger = q, st, log.Named("worker")
	if log.IsDebug() {
		po.OnBatch = logBatch(log.Named("worker"))
	}
	if geo != nil {
		defer geo.Close()
		po.Geo = geo
	}
	proc, err := ingest.NewProcessor(po)
	if err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	if geo != nil && geo.Run != nil {
		go geo.Run(workCtx)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Run(workCtx) }()
	log.Info("worker running", "processors", po.Workers, "batch", po.BatchSize, "queue", cfg.Queue.Driver, "store", cfg.Store.Driver)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// Stop taking new work; outstanding deliveries finish and are acked,
	// leases are released so other workers take the shards at once.
	log.Info("stopping: finishing outstanding deliveries")
	q.Close()
	deadline := time.After(drainTimeout)
	select {
	case err := <-done:
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		if err != nil {
			return err
		}
	case <-deadline:
		stopWork()
		return <-done
	}
	// Leave the consumer set before exiting, so that the other workers
	// take this one's shards at once instead of after its heartbeat expires.
	select {
	case <-q.Done():
	case <-deadline:
		log.Warn("stopping: the queue did not shut down in time; other workers take over when this one's heartbeat expires")
	}
	return nil
}

// stoppedWhileStarting turns the error of a start-up step cut short by a
// stop signal into a clean exit: a worker stopped before it took any work
// has nothing to finish.
func stoppedWhileStarting(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
