package main

import (
	"context"
	"fmt"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config/standard"
)

// runMigrate applies the store's pending migrations. It is the only role,
// besides all, that changes the schema (Matomo's enable_auto_update=0).
func runMigrate(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "migrate", &cf)
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
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Migrate: true, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if m, ok := st.(analytics.Migrator); ok {
		applied, known, err := m.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "schema at version %d (newest known %d)\n", applied, known)
	}
	return nil
}
