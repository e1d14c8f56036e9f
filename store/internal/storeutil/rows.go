package storeutil

import (
	"context"
	"database/sql"

	"github.com/footfall/analytics"
)

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Querier runs a query: *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs query on q and returns every row, decoded by scan, in
// order; nil when there are none. Errors are the driver's, unwrapped.
func QueryAll[T any](ctx context.Context, q Querier, scan func(sc Scanner, v *T) error, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// QueryIDs runs a query of one integer column, such as visit ids.
func QueryIDs(ctx context.Context, q Querier, query string, args ...any) ([]int64, error) {
	return QueryAll(ctx, q, func(sc Scanner, id *int64) error { return sc.Scan(id) }, query, args...)
}

// VisitChunk is how many visits a store reads the actions and conversions
// of at a time.
const VisitChunk = 256

// VisitorSites returns the sites ExportVisitor and DeleteVisitor work on:
// siteID, or every site in ID order when it is 0 (read with q from the
// site table). It checks the arguments first (CheckVisitorFilter).
func VisitorSites(ctx context.Context, q Querier, siteID int, f analytics.VisitorFilter, maxUserID int) ([]int, error) {
	if err := CheckVisitorFilter(siteID, f, maxUserID); err != nil {
		return nil, err
	}
	if siteID > 0 {
		return []int{siteID}, nil
	}
	return QueryAll(ctx, q, func(sc Scanner, id *int) error { return sc.Scan(id) }, "SELECT idsite FROM site ORDER BY idsite")
}

// SiteVisitIDs concatenates ids(site) over sites, in order.
func SiteVisitIDs(sites []int, ids func(site int) ([]int64, error)) ([]int64, error) {
	var all []int64
	for _, site := range sites {
		list, err := ids(site)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	return all, nil
}

// ExportVisits is the loop of ExportVisitor: for each site in order, the
// ids of the visitor's visits (ids, oldest first), loaded VisitChunk at a
// time (load returns the visits of the ids it is given, in their order).
func ExportVisits(sites []int, ids func(site int) ([]int64, error),
	load func(ids []int64) ([]*analytics.VisitDetails, error)) ([]analytics.VisitDetails, error) {
	var out []analytics.VisitDetails
	for _, site := range sites {
		list, err := ids(site)
		if err != nil {
			return nil, err
		}
		for start := 0; start < len(list); start += VisitChunk {
			chunk, err := load(list[start:min(start+VisitChunk, len(list))])
			if err != nil {
				return nil, err
			}
			for _, d := range chunk {
				out = append(out, *d)
			}
		}
	}
	return out, nil
}

// DeleteInChunks is the loop of DeleteLogsBefore: it calls del, which
// deletes at most chunk visits (with what hangs on them) in one
// transaction, until del deletes fewer than chunk visits or fails, and
// returns the sum of what it deleted, with del's error.
func DeleteInChunks(chunk int, del func() (analytics.Deleted, error)) (analytics.Deleted, error) {
	var total analytics.Deleted
	for {
		d, err := del()
		total.Visits += d.Visits
		total.Actions += d.Actions
		total.Conversions += d.Conversions
		total.Items += d.Items
		if err != nil || d.Visits < int64(chunk) {
			return total, err
		}
	}
}

// VisitsByID reads visits with query on q, which selects the visits of
// ids, decoding each row with scan. It returns them in the order of ids
// (an id without a visit is left out) and by ID.
func VisitsByID(ctx context.Context, q Querier, scan func(Scanner, *analytics.Visit) error, ids []int64,
	query string, args ...any) ([]*analytics.VisitDetails, map[int64]*analytics.VisitDetails, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	byID := make(map[int64]*analytics.VisitDetails, len(ids))
	for rows.Next() {
		d := new(analytics.VisitDetails)
		if err := scan(rows, &d.Visit); err != nil {
			return nil, nil, err
		}
		byID[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out := make([]*analytics.VisitDetails, 0, len(ids))
	for _, id := range ids {
		if d := byID[id]; d != nil {
			out = append(out, d)
		}
	}
	return out, byID, nil
}

// Stmt is a statement with its arguments.
type Stmt struct {
	Query string
	Args  []any
}

// DeleteVisits deletes, in one transaction of db, the visits that ids
// returns (it runs in the transaction, where a store may lock them) with
// everything that hangs on them: stmts gives, for those visit ids, the
// DELETEs of their items, their conversions, their actions and the visits
// themselves, which run in that order. It reports the rows each deleted;
// nothing when it fails, and nothing without touching the log tables when
// ids returns none.
func DeleteVisits(ctx context.Context, db *sql.DB, ids func(*sql.Tx) ([]int64, error),
	stmts func(ids []int64) (items, conversions, actions, visits Stmt)) (analytics.Deleted, error) {
	var d analytics.Deleted
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return d, err
	}
	defer tx.Rollback()
	list, err := ids(tx)
	if err != nil || len(list) == 0 {
		return d, err
	}
	items, convs, actions, visits := stmts(list)
	for _, st := range []struct {
		Stmt
		n *int64
	}{{items, &d.Items}, {convs, &d.Conversions}, {actions, &d.Actions}, {visits, &d.Visits}} {
		res, err := tx.ExecContext(ctx, st.Query, st.Args...)
		if err != nil {
			return analytics.Deleted{}, err
		}
		if *st.n, err = res.RowsAffected(); err != nil {
			return analytics.Deleted{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return analytics.Deleted{}, err
	}
	return d, nil
}
