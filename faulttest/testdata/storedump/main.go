// Command storedump prints every visit of a site with its actions, one
// tab-separated line each, for the fault tests to check. The tests build
// it without the race detector: reading 200 000 actions through the store
// then takes seconds, where the same read inside a -race test binary
// (the pure-Go SQLite engine instrumented) takes minutes.
//
// It opens the store that the FOOTFALL_* environment names, as the
// footfall binary does, and reads it with Store.Visits:
//
//	V <visitor> <visit id> <first action ms> <actions> <page views> <exit URL>
//	A <hit id> <action type> <position> <URL> <previous URL>
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/config/standard"
)

func main() {
	site := flag.Int("site", 1, "site `ID`")
	flag.Parse()
	if err := dump(context.Background(), *site); err != nil {
		fmt.Fprintln(os.Stderr, "storedump:", err)
		os.Exit(1)
	}
}

func dump(ctx context.Context, site int) error {
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		return err
	}
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	err = st.Visits(ctx, analytics.VisitQuery{SiteID: site, WithActions: true}, func(vd *analytics.VisitDetails) error {
		fmt.Fprintf(w, "V\t%s\t%d\t%d\t%d\t%d\t%s\n", vd.VisitorID, vd.ID, vd.FirstActionTime.UnixMilli(),
			vd.Actions, vd.Pageviews, vd.ExitURL)
		for _, a := range vd.ActionList {
			fmt.Fprintf(w, "A\t%s\t%d\t%d\t%s\t%s\n", a.HitID, a.Type, a.Position, a.URL, a.PrevURL)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}
