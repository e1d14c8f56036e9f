package mysqlstore

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// TestLastVisitsPlan checks with EXPLAIN that the LastVisits statement is
// index-driven: per match a ref probe of the visitor or config index (no
// scan of log_visit), then primary-key lookups of the visit and its
// entry and exit names.
func TestLastVisitsPlan(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	site := analytics.Site{Name: "plan"}
	if err := s.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	g := newTraffic(t, s, site.ID, "plan", 3)
	var ms []analytics.VisitorMatch
	var pos analytics.Position
	for n := 0; n < 3; n++ {
		first := g.reserve(analytics.IDVisit, 1000)
		b := &analytics.LogBatch{Shard: "plan", From: pos, To: analytics.Position{Hi: 1, Lo: uint64(n + 1)}}
		pos = b.To
		for i := range 1000 {
			v := g.visit(first + int64(i))
			g.clock = g.clock.Add(time.Second)
			b.Visits = append(b.Visits, v)
			if i%20 == 0 {
				ms = append(ms, analytics.VisitorMatch{SiteID: site.ID, VisitorID: v.VisitorID},
					analytics.VisitorMatch{SiteID: site.ID, ConfigID: v.ConfigID})
			}
		}
		g.write(b)
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE TABLE log_visit"); err != nil {
		t.Fatal(err)
	}
	q := storeutil.LastVisitsSQL(ms, visitCols, visitJoins, unionTable)
	rows, err := s.db.QueryContext(ctx, "EXPLAIN "+q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	probes := map[string]bool{}
	var plan []string
	var pk bool
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		r := map[string]string{}
		for i, c := range cols {
			r[c] = vals[i].String
		}
		if r["table"] != "" {
			plan = append(plan, r["id"]+" "+r["select_type"]+" "+r["table"]+" "+r["type"]+" "+r["key"]+" "+r["Extra"])
		}
		switch tbl := r["table"]; tbl {
		case "x":
			if r["type"] != "ref" {
				t.Errorf("the last-visit probe is %s on %s, want ref on an index of (idsite, id, time): %v", r["type"], r["key"], r)
			}
			probes[r["key"]] = true
		case "v", "eu", "et", "xu", "xt":
			if r["type"] != "eq_ref" || r["key"] != "PRIMARY" {
				t.Errorf("table %s: %s on %s, want eq_ref on PRIMARY: %v", tbl, r["type"], r["key"], r)
			}
			pk = pk || tbl == "v"
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !probes["log_visit_site_visitor"] || !probes["log_visit_site_config"] || !pk {
		t.Errorf("plan probes %v, primary-key lookup of v %v; want both visitor and config indexes and the lookup", probes, pk)
	}
	if t.Failed() {
		t.Logf("plan:\n%s", strings.Join(plan, "\n"))
	}

	got, err := s.LastVisits(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ms) {
		t.Errorf("LastVisits found %d of %d matches", len(got), len(ms))
	}
}
