package storeutil

import (
	"errors"
	"strings"
	"testing"

	"github.com/footfall/analytics"
)

func TestLastVisitsLoop(t *testing.T) {
	vm := func(site int, b byte) analytics.VisitorMatch {
		return analytics.VisitorMatch{SiteID: site, VisitorID: analytics.VisitorID{b}}
	}
	cm := func(site int, b byte) analytics.VisitorMatch {
		return analytics.VisitorMatch{SiteID: site, ConfigID: analytics.VisitorID{b}}
	}
	visitOf := func(m analytics.VisitorMatch) analytics.Visit {
		return analytics.Visit{ID: int64(m.SiteID)*1000 + int64(m.VisitorID[0]) + 100*int64(m.ConfigID[0]),
			SiteID: m.SiteID, VisitorID: m.VisitorID, ConfigID: m.ConfigID}
	}
	// query finds every match whose first id byte is even.
	even := func(calls *[][]analytics.VisitorMatch) func([]analytics.VisitorMatch, func(int, analytics.Visit) error) error {
		return func(chunk []analytics.VisitorMatch, found func(int, analytics.Visit) error) error {
			*calls = append(*calls, chunk)
			for k, m := range chunk {
				if (m.VisitorID[0]+m.ConfigID[0])%2 == 0 {
					if err := found(k, visitOf(m)); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}

	t.Run("chunks and duplicates", func(t *testing.T) {
		ms := []analytics.VisitorMatch{vm(1, 2), vm(1, 3), cm(1, 2), vm(2, 2), vm(1, 2), cm(1, 4), vm(1, 6), cm(1, 2)}
		var calls [][]analytics.VisitorMatch
		got, err := LastVisits(ms, 2, even(&calls))
		if err != nil {
			t.Fatal(err)
		}
		sizes := []int{}
		for _, c := range calls {
			sizes = append(sizes, len(c))
		}
		if len(calls) != 3 || sizes[0] != 2 || sizes[1] != 2 || sizes[2] != 2 {
			t.Errorf("chunks of %v, want 6 distinct matches in 3 chunks of 2", sizes)
		}
		want := []analytics.VisitorMatch{vm(1, 2), cm(1, 2), vm(2, 2), cm(1, 4), vm(1, 6)}
		if len(got) != len(want) {
			t.Errorf("got %d visits, want %d", len(got), len(want))
		}
		for _, m := range want {
			if g, ok := got[m]; !ok || g.ID != visitOf(m).ID {
				t.Errorf("got[%+v] = %+v", m, got[m])
			}
		}
	})
	t.Run("none", func(t *testing.T) {
		var calls [][]analytics.VisitorMatch
		got, err := LastVisits(nil, 0, even(&calls))
		if err != nil || len(got) != 0 || len(calls) != 0 {
			t.Errorf("LastVisits(nil) = %v, %v after %d queries; want an empty map, no query", got, err, len(calls))
		}
	})
	t.Run("invalid", func(t *testing.T) {
		var calls [][]analytics.VisitorMatch
		_, err := LastVisits([]analytics.VisitorMatch{vm(1, 2), {SiteID: 3}}, 0, even(&calls))
		if !errors.Is(err, analytics.ErrInvalid) || !strings.Contains(err.Error(), "match 1 (site 3)") || len(calls) != 0 {
			t.Errorf("err = %v after %d queries, want ErrInvalid naming match 1, no query", err, len(calls))
		}
	})
	for _, tc := range []struct {
		name  string
		found func(found func(int, analytics.Visit) error) error
		want  string
	}{
		{"index out of range", func(f func(int, analytics.Visit) error) error { return f(2, visitOf(vm(1, 2))) }, "out of range"},
		{"negative index", func(f func(int, analytics.Visit) error) error { return f(-1, visitOf(vm(1, 2))) }, "out of range"},
		{"two visits", func(f func(int, analytics.Visit) error) error {
			if err := f(0, visitOf(vm(1, 2))); err != nil {
				return err
			}
			return f(0, visitOf(vm(1, 2)))
		}, "two visits"},
		{"other visitor", func(f func(int, analytics.Visit) error) error { return f(0, visitOf(vm(1, 4))) }, "does not belong"},
		{"other site", func(f func(int, analytics.Visit) error) error { return f(0, visitOf(vm(2, 2))) }, "does not belong"},
		{"other config", func(f func(int, analytics.Visit) error) error { return f(1, visitOf(cm(1, 4))) }, "does not belong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LastVisits([]analytics.VisitorMatch{vm(1, 2), cm(1, 2)}, 0,
				func(_ []analytics.VisitorMatch, found func(int, analytics.Visit) error) error { return tc.found(found) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestLastVisitsSQL(t *testing.T) {
	table := func(rows []MatchRow) string {
		var l []string
		for _, r := range rows {
			k, site, id := r.Literals()
			l = append(l, k+"|"+site+"|"+id)
		}
		return strings.Join(l, ";")
	}
	ms := []analytics.VisitorMatch{
		{SiteID: 3, VisitorID: analytics.VisitorID{0xab, 1}},
		{SiteID: 4, ConfigID: analytics.VisitorID{0xff, 0, 0, 0, 0, 0, 0, 0x10}},
		{SiteID: 12, VisitorID: analytics.VisitorID{7}},
	}
	for _, tc := range []struct {
		name     string
		ms       []analytics.VisitorMatch
		want     []string
		wantNot  []string
		wantJoin int // UNION ALLs between the kinds
	}{
		{"both kinds", ms, []string{
			"SELECT t.k, v.a, v.b FROM (SELECT m.k, (SELECT x.idvisit FROM log_visit x USE log_visit_site_visitor WHERE x.idsite = m.s AND x.idvisitor = m.id ORDER BY x.visit_last_action_time DESC, x.idvisit DESC LIMIT 1) AS id FROM (0|3|X'ab01000000000000';2|12|X'0700000000000000') m",
			" UNION ALL SELECT m.k, (SELECT x.idvisit FROM log_visit x USE log_visit_site_config WHERE x.idsite = m.s AND x.config_id = m.id ORDER BY x.visit_last_action_time DESC, x.idvisit DESC LIMIT 1) AS id FROM (1|4|X'ff00000000000010') m",
			") t JOIN log_visit v ON v.idvisit = t.id JOIN-TAIL",
		}, nil, 1},
		{"visitors only", ms[2:], []string{"FROM (0|12|X'0700000000000000') m) t JOIN"}, []string{"config_id"}, 0},
		{"configs only", ms[1:2], []string{"FROM (0|4|X'ff00000000000010') m) t JOIN"}, []string{"idvisitor"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := LastVisitsSQL(tc.ms, "v.a, v.b", " JOIN-TAIL", table, func(n string) string { return "log_visit x USE " + n })
			for _, w := range tc.want {
				if !strings.Contains(q, w) {
					t.Errorf("query lacks %q:\n%s", w, q)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(q, w) {
					t.Errorf("query has %q:\n%s", w, q)
				}
			}
			if n := strings.Count(q, "UNION ALL"); n != tc.wantJoin {
				t.Errorf("%d UNION ALL, want %d:\n%s", n, tc.wantJoin, q)
			}
		})
	}
}
