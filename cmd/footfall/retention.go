package main

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/config/standard"
	"github.com/footfall/analytics/ingest"
)

// runRetention: `footfall retention run` deletes raw log data older than
// each site's retention (privacy.retention_days, or the site's own), in
// bounded chunks so ingestion never waits, then dictionary entries nothing
// refers to, then cookieless salts whose day is over (plus the grace).
func runRetention(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(e.stderr, "usage: footfall retention run [--chunk N] [--dry-run]")
		return errUsage
	}
	var cf configFlags
	fs := newFlagSet(e, "retention run", &cf)
	chunk := fs.Int("chunk", 5000, "visits deleted per transaction")
	dry := fs.Bool("dry-run", false, "print what would be deleted, delete nothing")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *chunk <= 0 {
		return fmt.Errorf("--chunk must be positive")
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Logger: logger(cfg, e.stderr)})
	if err != nil {
		return err
	}
	defer st.Close()
	return retention(ctx, cfg, st, time.Now(), *chunk, *dry, func(format string, args ...any) {
		fmt.Fprintf(e.stdout, format+"\n", args...)
	})
}

// retention is one housekeeping pass; the worker and all roles run it
// periodically too.
func retention(ctx context.Context, cfg *config.Config, st analytics.Store, now time.Time, chunk int, dry bool, report func(string, ...any)) error {
	pruner, ok := st.(analytics.Pruner)
	if !ok {
		return fmt.Errorf("this store cannot delete old log data")
	}
	sites, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	var total analytics.Deleted
	for _, s := range sites {
		days := cfg.ResolvePrivacy(s.Privacy).RetentionDays
		if days <= 0 {
			continue
		}
		before := now.AddDate(0, 0, -days)
		if dry {
			report("site %d %q: would delete visits with no action since %s (%d days)", s.ID, s.Name, before.UTC().Format(time.RFC3339), days)
			continue
		}
		d, err := pruner.DeleteLogsBefore(ctx, s.ID, before, chunk)
		total.Visits += d.Visits
		total.Actions += d.Actions
		total.Conversions += d.Conversions
		total.Items += d.Items
		if err != nil {
			return fmt.Errorf("site %d: %w", s.ID, err)
		}
		report("site %d %q: deleted %d visits, %d actions, %d conversions, %d items older than %d days",
			s.ID, s.Name, d.Visits, d.Actions, d.Conversions, d.Items, days)
	}
	if dry {
		return nil
	}
	names, err := pruner.DeleteUnusedNames(ctx, chunk)
	if err != nil {
		return err
	}
	// Salts of days over in their site's time zone plus
	// privacy.salt_grace; the workers do the same every hour.
	salts, err := ingest.DeleteExpiredSalts(ctx, st, sites, now, cfg.Privacy.SaltGrace)
	if err != nil {
		return err
	}
	report("deleted %d unused dictionary entries, %d expired cookieless salts", names, salts)
	return nil
}
