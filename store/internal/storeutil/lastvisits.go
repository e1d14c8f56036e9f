package storeutil

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/footfall/analytics"
)

// LastVisitsChunk is the most matches one LastVisits statement looks up;
// a longer list takes one statement per chunk.
const LastVisitsChunk = 500

// CheckVisitorMatches checks the matches of LastVisits: each one as
// CheckVisitorMatch; the error names the first invalid one.
func CheckVisitorMatches(ms []analytics.VisitorMatch) error {
	for i, m := range ms {
		if err := CheckVisitorMatch(m); err != nil {
			return fmt.Errorf("match %d (site %d): %w", i, m.SiteID, err)
		}
	}
	return nil
}

// LastVisits is the loop of BatchVisitFinder.LastVisits that both stores
// share: it checks ms (ErrInvalid before any query), drops duplicates and
// calls query for chunks of at most chunk distinct matches. query looks up
// the last visits of its chunk and hands each one to found with the index
// of its match in the chunk; found rejects an index out of range, a second
// visit for a match and a visit of another site or visitor, so a wrong
// query cannot return a visit under the wrong visitor. Errors of query
// come back unwrapped.
func LastVisits(ms []analytics.VisitorMatch, chunk int,
	query func(chunk []analytics.VisitorMatch, found func(k int, v analytics.Visit) error) error,
) (map[analytics.VisitorMatch]analytics.Visit, error) {
	if err := CheckVisitorMatches(ms); err != nil {
		return nil, err
	}
	if chunk <= 0 {
		chunk = LastVisitsChunk
	}
	distinct := make([]analytics.VisitorMatch, 0, len(ms))
	seen := make(map[analytics.VisitorMatch]struct{}, len(ms))
	for _, m := range ms {
		if _, ok := seen[m]; !ok {
			seen[m] = struct{}{}
			distinct = append(distinct, m)
		}
	}
	out := make(map[analytics.VisitorMatch]analytics.Visit, len(distinct))
	for start := 0; start < len(distinct); start += chunk {
		part := distinct[start:min(start+chunk, len(distinct))]
		err := query(part, func(k int, v analytics.Visit) error {
			if k < 0 || k >= len(part) {
				return fmt.Errorf("last visits: match index %d out of range [0, %d)", k, len(part))
			}
			m := part[k]
			if _, dup := out[m]; dup {
				return fmt.Errorf("last visits: two visits for match %d", k)
			}
			if v.SiteID != m.SiteID || (!m.VisitorID.IsZero() && v.VisitorID != m.VisitorID) ||
				(!m.ConfigID.IsZero() && v.ConfigID != m.ConfigID) {
				return fmt.Errorf("last visits: visit %d does not belong to match %d", v.ID, k)
			}
			out[m] = v
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// QueryLastVisits is LastVisits with each chunk looked up by one statement
// on q: sqlOf builds it (LastVisitsSQL with the store's pieces) and scan
// decodes a visit row after the leading match index.
func QueryLastVisits(ctx context.Context, q Querier, ms []analytics.VisitorMatch,
	sqlOf func(chunk []analytics.VisitorMatch) string, scan func(Scanner, *analytics.Visit) error,
) (map[analytics.VisitorMatch]analytics.Visit, error) {
	return LastVisits(ms, LastVisitsChunk, func(chunk []analytics.VisitorMatch, found func(int, analytics.Visit) error) error {
		rows, err := q.QueryContext(ctx, sqlOf(chunk))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k int
			var v analytics.Visit
			if err := scan(Leading(rows, &k), &v); err != nil {
				return err
			}
			if err := found(k, v); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// MatchRow is a match of LastVisitsSQL: K its index in the chunk, the
// site and the id to match (visitor or config id).
type MatchRow struct {
	K, Site int
	ID      analytics.VisitorID
}

// Literals returns the row's values as SQL literals: k, site and X'…'
// (hex digits only: nothing to escape, nothing to bind).
func (r MatchRow) Literals() (k, site, id string) {
	return strconv.Itoa(r.K), strconv.Itoa(r.Site), "X'" + hex.EncodeToString(r.ID[:]) + "'"
}

// LastVisitsSQL returns the statement that finds the last visits of a chunk
// of valid matches, for a store whose log_visit has the indexes
// (idsite, idvisitor, visit_last_action_time) and (idsite, config_id,
// visit_last_action_time) and whose visit ids are their last column (the
// primary key): "SELECT t.k, <cols> FROM (…) t JOIN log_visit v ON
// v.idvisit = t.id<joins>". t has one row per match, k its index in ms
// and id the match's last visit (NULL when it has none: no row). Each id
// is LastVisit's query as a correlated subquery — one index probe read
// backwards, LIMIT 1, ties broken by the higher visit ID — so the cost per
// match does not grow with the visitor's number of visits.
//
// table turns the matches of one kind into a table of columns (k, s, id)
// made of literals: "SELECT … UNION ALL SELECT …" for MySQL, "VALUES …"
// for SQLite. index returns the table reference "log_visit x" that makes
// the subquery use the named index, in the store's dialect: the planner
// cannot see the match's values when it plans a correlated subquery, and
// MariaDB then may read (idsite, visit_last_action_time) backwards to
// satisfy ORDER BY … LIMIT 1 — a scan of the site's visits for a visitor
// with no visit.
func LastVisitsSQL(ms []analytics.VisitorMatch, cols, joins string, table func(rows []MatchRow) string,
	index func(name string) string) string {
	var byVisitor, byConfig []MatchRow
	for k, m := range ms {
		if m.VisitorID.IsZero() {
			byConfig = append(byConfig, MatchRow{k, m.SiteID, m.ConfigID})
		} else {
			byVisitor = append(byVisitor, MatchRow{k, m.SiteID, m.VisitorID})
		}
	}
	var parts []string
	for _, kind := range []struct {
		col, index string
		rows       []MatchRow
	}{{"idvisitor", "log_visit_site_visitor", byVisitor}, {"config_id", "log_visit_site_config", byConfig}} {
		if len(kind.rows) == 0 {
			continue
		}
		parts = append(parts, "SELECT m.k, (SELECT x.idvisit FROM "+index(kind.index)+" WHERE x.idsite = m.s AND x."+kind.col+" = m.id"+
			" ORDER BY x.visit_last_action_time DESC, x.idvisit DESC LIMIT 1) AS id FROM ("+table(kind.rows)+") m")
	}
	return "SELECT t.k, " + cols + " FROM (" + strings.Join(parts, " UNION ALL ") + ") t JOIN log_visit v ON v.idvisit = t.id" + joins
}

// Leading returns a Scanner that scans the first column of sc's row into
// first and the others into the destinations its Scan is given: the k
// column of LastVisitsSQL before the visit's.
func Leading(sc Scanner, first any) Scanner { return leading{sc, first} }

type leading struct {
	sc    Scanner
	first any
}

func (l leading) Scan(dest ...any) error {
	return l.sc.Scan(append([]any{l.first}, dest...)...)
}
