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
	q := storeutil.LastVisitsSQL(ms, visitCols, visitJoins, unionTable, forceIndex)
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

// TestLastVisitsRowsRead counts the rows LastVisits reads (the session's
// Handler_read_* counters, on a store of one connection): about one index
// read per match and one primary-key read per found visit, however many
// visits the site has — not a scan of the site's visits, which MariaDB
// chooses for a visitor without a visit unless the index is forced.
func TestLastVisitsRowsRead(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{MaxOpenConns: 1})
	site := analytics.Site{Name: "reads"}
	if err := s.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	g := newTraffic(t, s, site.ID, "reads", 4)
	var ms []analytics.VisitorMatch
	var pos analytics.Position
	for n := 0; n < 6; n++ {
		first := g.reserve(analytics.IDVisit, 500)
		b := &analytics.LogBatch{Shard: "reads", From: pos, To: analytics.Position{Hi: 1, Lo: uint64(n + 1)}}
		pos = b.To
		for i := range 500 {
			v := g.visit(first + int64(i))
			g.clock = g.clock.Add(time.Second)
			b.Visits = append(b.Visits, v)
			if n == 5 && i%5 == 0 {
				ms = append(ms, analytics.VisitorMatch{SiteID: site.ID, VisitorID: v.VisitorID},
					analytics.VisitorMatch{SiteID: site.ID, ConfigID: v.ConfigID})
				v.VisitorID[1] ^= 0x5a // and a visitor without a visit
				ms = append(ms, analytics.VisitorMatch{SiteID: site.ID, VisitorID: v.VisitorID})
			}
		}
		g.write(b)
	}
	reads := func() (n int64) {
		rows, err := s.db.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var v int64
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			n += v
		}
		return n
	}
	before := reads()
	got, err := s.LastVisits(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	n := reads() - before - 1 // the SHOW itself reads a row or so
	if len(got) != 2*len(ms)/3 {
		t.Errorf("found %d of %d matches, want %d", len(got), len(ms), 2*len(ms)/3)
	}
	// Per match: the probe, the visit, four names, the derived tables' rows.
	if limit := int64(12 * len(ms)); n > limit {
		t.Errorf("LastVisits of %d matches read %d rows, want at most %d (a scan?)", len(ms), n, limit)
	}
	t.Logf("%d matches, %d rows read", len(ms), n)
}
