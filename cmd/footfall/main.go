// Command footfall is Footfall's one binary. A subcommand picks the role:
//
//	footfall serve --role=ingest|all   the tracking endpoint (and, for all, every other role)
//	footfall worker                    drains the queue into the store
//	footfall migrate                   applies schema migrations, then exits
//	footfall site add|list|show|update manages tracked sites
//	footfall live --site 1             the visits log (Matomo's Live.getLastVisitsDetails)
//	footfall queue stats|dlq …         shard depth, owners, leases; dead letters (list, replay, delete)
//	footfall retention run             deletes raw logs past their retention, expired salts
//	footfall gdpr export|delete        one visitor's data (--visitor ID | --user-id UID)
//	footfall version
//
// Every subcommand reads the same configuration: --config FILE (or
// FOOTFALL_CONFIG) plus FOOTFALL_* environment variables; --data DIR
// overrides data_dir. See package config for the settings.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

var commands = []command{
	{"serve", "serve a role: --role=ingest|all", runServe},
	{"worker", "drain the queue into the store", runWorker},
	{"migrate", "apply schema migrations and exit", runMigrate},
	{"site", "manage sites: add, list, show, update", runSite},
	{"live", "print the most recent visits with their actions", runLive},
	{"retention", "run: delete raw logs older than the retention, expired salts", runRetention},
	{"gdpr", "export|delete everything stored about one visitor", runGDPR},
	{"queue", "inspect the Redis queue: stats, dlq list|replay|delete", runQueue},
	{"version", "print the version", runVersion},
}

// env is what a subcommand gets from the process.
type env struct {
	environ        []string
	stdout, stderr io.Writer
}

func (e *env) getenv(key string) string {
	for i := len(e.environ) - 1; i >= 0; i-- {
		kv := e.environ[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:]
		}
	}
	return ""
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	e := &env{environ: environ, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			if err := c.run(ctx, e, args[1:]); err != nil {
				if err == errUsage {
					return 2
				}
				fmt.Fprintf(stderr, "footfall %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "footfall: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: footfall <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEvery command takes --config FILE (or FOOTFALL_CONFIG) and --data DIR.\n")
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fmt.Fprintf(e.stdout, "footfall %s\n", version)
	return nil
}
