package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config/standard"
	"github.com/footfall/analytics/report"
)

// runLive prints the most recent visits of a site with their actions: the
// visits log. --json prints Matomo's Live.getLastVisitsDetails shape.
func runLive(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "live", &cf)
	site := fs.Int("site", 1, "site `id`")
	last := fs.Int("last", 20, "how many visits, newest first")
	asJSON := fs.Bool("json", false, "print Live.getLastVisitsDetails JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *last <= 0 || *site <= 0 {
		return fmt.Errorf("--site and --last must be positive")
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
	s, err := st.Site(ctx, *site)
	if err != nil {
		return err
	}
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	goals, err := st.Goals(ctx, s.ID)
	if err != nil {
		return err
	}
	names := map[int]string{}
	for _, g := range goals {
		names[g.ID] = g.Name
	}
	visits := []report.LiveVisit{}
	err = st.Visits(ctx, analytics.VisitQuery{SiteID: s.ID, NewestFirst: true, Limit: *last, WithActions: true},
		func(v *analytics.VisitDetails) error {
			visits = append(visits, report.NewLiveVisit(v, report.LiveOptions{Location: loc, Goals: names}))
			return nil
		})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, visits)
	}
	if len(visits) == 0 {
		fmt.Fprintf(e.stdout, "no visits yet on site %d %q\n", s.ID, s.Name)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, v := range visits {
		who := v.VisitorID
		if v.UserID != nil {
			who += " (" + *v.UserID + ")"
		}
		fmt.Fprintf(tw, "visit %d\t%s\t%s\t%s · %s · %s\t%s\n", v.IDVisit, v.LastActionDateTime, who,
			orDash(v.BrowserName), orDash(v.OperatingSystemName), orDash(v.DeviceType), referrer(v))
		for _, a := range v.ActionDetails {
			fmt.Fprintf(tw, "\t%s\t%s\t%s\n", time.Unix(a.Timestamp, 0).In(loc).Format("15:04:05"), a.Type, describe(a))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func referrer(v report.LiveVisit) string {
	s := v.ReferrerTypeName
	if v.ReferrerName != "" {
		s += ": " + v.ReferrerName
	}
	if v.ReferrerKeyword != "" {
		s += " (" + v.ReferrerKeyword + ")"
	}
	return s
}

func describe(a report.LiveAction) string {
	switch {
	case a.EventCategory != "":
		parts := []string{a.EventCategory, a.EventAction}
		if a.EventName != "" {
			parts = append(parts, a.EventName)
		}
		return strings.Join(parts, " / ")
	case a.SearchKeyword != "":
		return "search " + a.SearchKeyword
	case a.GoalName != "":
		return a.GoalName
	case a.OrderID != "":
		return "order " + a.OrderID
	case a.ContentName != "":
		return "content " + a.ContentName
	}
	if a.PageTitle != "" {
		return a.PageTitle + "  " + a.URL
	}
	return a.URL
}
