package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/queue/redisqueue"
)

// runQueue inspects and repairs the Redis queue: shard state and the
// dead-letter stream.
//
//	footfall queue stats [--json]
//	footfall queue dlq list [--limit N] [--json]
//	footfall queue dlq replay --all | ID…
//	footfall queue dlq delete ID…
func runQueue(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: footfall queue stats|dlq [flags]")
		return errUsage
	}
	switch args[0] {
	case "stats":
		return queueStats(ctx, e, args[1:])
	case "dlq":
		return queueDLQ(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "footfall queue: unknown subcommand %q (want stats, dlq)\n", args[0])
	return errUsage
}

func queueDLQ(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: footfall queue dlq list|replay|delete [flags]")
		return errUsage
	}
	switch args[0] {
	case "list":
		return dlqList(ctx, e, args[1:])
	case "replay":
		return dlqReplay(ctx, e, args[1:])
	case "delete":
		return dlqDelete(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "footfall queue dlq: unknown subcommand %q (want list, replay, delete)\n", args[0])
	return errUsage
}

// openRedisQueue opens the configured queue for inspection. It never
// receives, so it takes no shard lease. The memory queue lives only inside
// the process that serves it: there is nothing to inspect from outside.
func openRedisQueue(cfg *config.Config) (*redisqueue.Queue, error) {
	if cfg.Queue.Driver != "redis" {
		return nil, fmt.Errorf("queue.driver is %q: the in-memory queue exists only inside a serving process "+
			"(serve --role=all) and cannot be inspected from another one; use queue.driver \"redis\" "+
			"(FOOTFALL_QUEUE_DRIVER=redis) for a queue shared by processes", cfg.Queue.Driver)
	}
	return redisqueue.Open(cfg.Queue.Redis.URL, redisqueue.Options{
		Prefix:          cfg.Queue.Redis.Prefix,
		Shards:          cfg.Queue.Shards,
		LeaseTTL:        cfg.Queue.Redis.LeaseTTL,
		AckTimeout:      cfg.Queue.AckTimeout,
		DeadLetterAfter: cfg.Queue.Redis.DeadLetterAfter,
		DrainTimeout:    -1,
	})
}

// statsJSON is the shape of `footfall queue stats --json`.
type statsJSON struct {
	Depth            int64       `json:"depth"`
	InFlight         int64       `json:"in_flight"`
	OldestAgeSeconds float64     `json:"oldest_age_seconds"`
	Bytes            int64       `json:"bytes"`
	Shards           []shardJSON `json:"shards"`
}

type shardJSON struct {
	Shard            string  `json:"shard"`
	Depth            int64   `json:"depth"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Owner            string  `json:"owner"`
	LeaseAgeSeconds  float64 `json:"lease_age_seconds"`
}

func queueStats(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "queue stats", &cf)
	asJSON := fs.Bool("json", false, "print JSON")
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
	q, err := openRedisQueue(cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	st, err := q.Stats(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := statsJSON{Depth: st.Depth, InFlight: st.InFlight, OldestAgeSeconds: st.OldestAge.Seconds(),
			Bytes: st.Bytes, Shards: make([]shardJSON, 0, len(st.Shards))}
		for _, s := range st.Shards {
			out.Shards = append(out.Shards, shardJSON{Shard: s.Shard, Depth: s.Depth,
				OldestAgeSeconds: s.OldestAge.Seconds(), Owner: s.Owner, LeaseAgeSeconds: s.LeaseAge.Seconds()})
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tDEPTH\tOLDEST\tOWNER\tLEASE AGE")
	for _, s := range st.Shards {
		owner, lease := s.Owner, age(s.LeaseAge)
		if owner == "" {
			owner, lease = "-", "-"
		}
		oldest := "-"
		if s.Depth > 0 {
			oldest = age(s.OldestAge)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Shard, s.Depth, oldest, owner, lease)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	oldest := "-"
	if st.Depth > 0 {
		oldest = age(st.OldestAge)
	}
	fmt.Fprintf(e.stdout, "total: depth %d, in flight %d, oldest %s, %s in Redis\n",
		st.Depth, st.InFlight, oldest, bytesText(st.Bytes))
	return nil
}

// dlqJSON is one entry of `footfall queue dlq list --json`. The client
// address is left out on purpose: it is personal data.
type dlqJSON struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Shard  string    `json:"shard"`
	Pos    string    `json:"pos"`
	Cause  string    `json:"cause"`
	HitID  string    `json:"hit_id,omitempty"`
	SiteID int       `json:"site_id,omitempty"`
	Kind   string    `json:"kind,omitempty"`
	Hit    time.Time `json:"hit_time,omitzero"`
	URL    string    `json:"url,omitempty"`
	Title  string    `json:"title,omitempty"`
	// DecodeError is set when the stored hit could not be decoded.
	DecodeError string `json:"decode_error,omitempty"`
}

func dlqList(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "queue dlq list", &cf)
	limit := fs.Int("limit", 100, "show at most `N` entries, oldest first (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", *limit)
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	q, err := openRedisQueue(cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	dls, err := q.DeadLetters(ctx, *limit)
	if err != nil {
		return err
	}
	out := make([]dlqJSON, 0, len(dls))
	for _, d := range dls {
		j := dlqJSON{ID: d.ID, Time: d.Time, Shard: d.Shard, Pos: d.Pos.String(), Cause: d.Cause}
		if d.Err != nil {
			j.DecodeError = d.Err.Error()
		} else {
			j.HitID, j.SiteID, j.Kind, j.Hit = d.Hit.ID.String(), d.Hit.SiteID, d.Hit.Kind.String(), d.Hit.Time.UTC()
			j.URL, j.Title = d.Hit.URL, d.Hit.Title
		}
		out = append(out, j)
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDEAD-LETTERED\tSHARD\tSITE\tKIND\tHIT\tCAUSE")
	for _, j := range out {
		kind, hit := j.Kind, j.HitID
		if j.DecodeError != "" {
			kind, hit = "?", "undecodable: "+j.DecodeError
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.Time.Format(time.RFC3339), j.Shard, j.SiteID, kind, hit, oneLine(j.Cause, 200))
	}
	return tw.Flush()
}

func dlqReplay(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "queue dlq replay", &cf)
	all := fs.Bool("all", false, "replay every dead letter")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ids := fs.Args()
	switch {
	case *all && len(ids) > 0:
		return fmt.Errorf("give either --all or IDs, not both")
	case !*all && len(ids) == 0:
		return fmt.Errorf("give the IDs to replay (see footfall queue dlq list) or --all")
	}
	if err := checkIDs(ids); err != nil {
		return err
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	q, err := openRedisQueue(cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	n, err := q.Replay(ctx, ids...)
	if err != nil {
		return fmt.Errorf("replayed %d before: %w", n, err)
	}
	fmt.Fprintf(e.stdout, "replayed %d dead letter(s) to the end of their shards\n", n)
	if len(ids) > 0 && n < len(ids) {
		fmt.Fprintf(e.stdout, "%d ID(s) were not in the dead-letter stream\n", len(ids)-n)
	}
	return nil
}

func dlqDelete(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "queue dlq delete", &cf)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ids := fs.Args()
	if len(ids) == 0 {
		return fmt.Errorf("give the IDs to delete (see footfall queue dlq list)")
	}
	if err := checkIDs(ids); err != nil {
		return err
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	q, err := openRedisQueue(cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	n, err := q.DeleteDeadLetters(ctx, ids...)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %d dead letter(s)\n", n)
	return nil
}

// checkIDs rejects what cannot be a dead-letter ID ("<ms>-<seq>") before
// Redis does with a less helpful message.
func checkIDs(ids []string) error {
	var bad []string
	for _, id := range ids {
		if _, err := analytics.ParsePosition(id); err != nil {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not dead-letter IDs (want <ms>-<seq>, as dlq list prints): %s", strings.Join(bad, ", "))
	}
	return nil
}

// age formats a duration for a table: 0s, 850ms, 12.3s, 4m10s, 3h2m.
func age(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[u-1])
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
