package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config/standard"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/report"
)

// runGDPR: `footfall gdpr export|delete --site N --visitor HEX16 | --user-id UID`
// exports (JSON, Live.getLastVisitsDetails shape, every field kept) or
// deletes everything stored about one visitor.
func runGDPR(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "delete") {
		fmt.Fprintln(e.stderr, "usage: footfall gdpr export|delete --site N (--visitor HEX16 | --user-id UID)")
		return errUsage
	}
	verb := args[0]
	var cf configFlags
	fs := newFlagSet(e, "gdpr "+verb, &cf)
	site := fs.Int("site", 0, "site `id`")
	visitor := fs.String("visitor", "", "visitor `id` (16 hex digits, as in the visits log)")
	uid := fs.String("user-id", "", "user `id` as the site sends it (uid)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *site <= 0 || (*visitor == "") == (*uid == "") {
		return fmt.Errorf("--site and exactly one of --visitor and --user-id are required")
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
	eraser, ok := st.(analytics.VisitorEraser)
	if !ok {
		return fmt.Errorf("this store has no GDPR tools")
	}
	s, err := st.Site(ctx, *site)
	if err != nil {
		return err
	}
	var filters []analytics.VisitorFilter
	if *visitor != "" {
		id, err := analytics.ParseVisitorID(*visitor)
		if err != nil || len(*visitor) != 16 {
			return fmt.Errorf("--visitor %q: want 16 hex digits", *visitor)
		}
		filters = append(filters, analytics.VisitorFilter{VisitorID: id})
	} else {
		// The user id may be stored as sent or hashed (privacy hash_user_id,
		// which may have changed over time): look for both.
		hashed := ingest.HashUserID(*uid, cfg.Privacy.Salt)
		filters = append(filters,
			analytics.VisitorFilter{UserID: *uid, VisitorID: analytics.UserVisitorID(*uid)},
			analytics.VisitorFilter{UserID: hashed, VisitorID: analytics.UserVisitorID(hashed)})
	}
	if verb == "delete" {
		var total analytics.Deleted
		for _, f := range filters {
			d, err := eraser.DeleteVisitor(ctx, s.ID, f)
			if err != nil {
				return err
			}
			total.Visits += d.Visits
			total.Actions += d.Actions
			total.Conversions += d.Conversions
			total.Items += d.Items
		}
		fmt.Fprintf(e.stdout, "deleted %d visits, %d actions, %d conversions, %d items\n",
			total.Visits, total.Actions, total.Conversions, total.Items)
		return nil
	}
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	seen := map[int64]bool{}
	var all []analytics.VisitDetails
	for _, f := range filters {
		vs, err := eraser.ExportVisitor(ctx, s.ID, f)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if !seen[v.ID] {
				seen[v.ID] = true
				all = append(all, v)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].FirstActionTime.Before(all[j].FirstActionTime) })
	out := make([]report.LiveVisit, 0, len(all))
	for i := range all {
		out = append(out, report.NewLiveVisit(&all[i], report.LiveOptions{Location: loc}))
	}
	return writeJSON(e.stdout, out)
}
