package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// TestLastVisitsPlan checks with EXPLAIN QUERY PLAN that the LastVisits
// statement is index-driven: per match a search of the visitor or config
// index read in order (no temporary B-tree for the ORDER BY), then a rowid
// lookup of the visit; no scan of log_visit.
func TestLastVisitsPlan(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "plan.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms := []analytics.VisitorMatch{
		{SiteID: 1, VisitorID: analytics.VisitorID{1}}, {SiteID: 1, ConfigID: analytics.VisitorID{2}},
		{SiteID: 2, VisitorID: analytics.VisitorID{3}}, {SiteID: 1, ConfigID: analytics.VisitorID{4}},
	}
	q := storeutil.LastVisitsSQL(ms, s.sql.visitCols, "", valuesTable, indexedBy)
	rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	for _, want := range []string{
		"SEARCH x USING COVERING INDEX log_visit_site_visitor (idsite=? AND idvisitor=?)",
		"SEARCH x USING COVERING INDEX log_visit_site_config (idsite=? AND config_id=?)",
		"SEARCH v USING INTEGER PRIMARY KEY (rowid=?)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	for _, bad := range []string{"SCAN x", "SCAN v", "TEMP B-TREE"} {
		if strings.Contains(all, bad) {
			t.Errorf("plan has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("plan:\n%s", all)
	}
}
