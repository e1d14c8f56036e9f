package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// visitCols and visitJoins read visits with the names of their entry and
// exit pages (four primary-key lookups in log_action): "SELECT visitCols
// FROM log_visit v visitJoins".
var visitCols, visitJoins = func() (string, string) {
	joins := map[string]string{
		"visit_entry_idaction_url":  "eu",
		"visit_entry_idaction_name": "et",
		"visit_exit_idaction_url":   "xu",
		"visit_exit_idaction_name":  "xt",
	}
	var cols []string
	var from strings.Builder
	for _, c := range visitColumns {
		if a, ok := joins[c]; ok {
			cols = append(cols, "COALESCE("+a+".name, '')")
			from.WriteString(" LEFT JOIN log_action " + a + " ON " + a + ".idaction = v." + c)
			continue
		}
		cols = append(cols, "v."+c)
	}
	return strings.Join(cols, ", "), from.String()
}()

// visitSelect reads visits: FROM log_visit v, no WHERE.
var visitSelect = "SELECT " + visitCols + " FROM log_visit v" + visitJoins

var (
	actionSelect     = "SELECT " + strings.Join(actionColumns, ", ") + " FROM log_link_visit_action"
	conversionSelect = "SELECT " + strings.Join(conversionColumns, ", ") + " FROM log_conversion"
	itemSelect       = "SELECT " + strings.Join(itemColumns, ", ") + " FROM log_conversion_item"
)

type scanner = storeutil.Scanner

func scanVisit(sc scanner, v *analytics.Visit) error {
	var row storeutil.VisitRow
	var first, last time.Time
	if err := sc.Scan(row.Dest(v, &v.Profilable, &first, &last, &v.GoalConverted)...); err != nil {
		return err
	}
	v.FirstActionTime, v.LastActionTime = timeOf(first), timeOf(last)
	return row.Decode(v)
}

// actionRow is an action as read, its names still ids.
type actionRow struct {
	a                              analytics.Action
	p                              storeutil.ActionParts // names filled by finish
	url, title, prevURL, prevTitle uint32
	evCat, evAct, evName           sql.NullInt64
	kw                             sql.NullInt64
	cName, cPiece, cTarget, cInter sql.NullInt64
	sku, pname                     sql.NullInt64
	cats                           [maxCategories]sql.NullInt64
}

func scanAction(sc scanner, r *actionRow) error {
	var (
		visitor, hit, dims []byte
		t                  time.Time
		typ                int64
	)
	a, p := &r.a, &r.p
	err := sc.Scan(
		&a.ID, &a.SiteID, &visitor, &a.VisitID, &t, &hit, &typ,
		&r.url, &r.title, &r.prevURL, &r.prevTitle, &a.PageViewID, &a.Position, &a.TimeSpentRef, &p.Parts,
		&r.evCat, &r.evAct, &r.evName, &p.EventValue,
		&r.kw, &p.SearchCategory, &p.SearchCount,
		&r.cName, &r.cPiece, &r.cTarget, &r.cInter,
		&r.sku, &r.pname, &r.cats[0], &r.cats[1], &r.cats[2], &r.cats[3], &r.cats[4], &p.Price,
		&p.Timing[0], &p.Timing[1], &p.Timing[2], &p.Timing[3], &p.Timing[4], &p.Timing[5], &dims)
	if err != nil {
		return err
	}
	copy(a.HitID[:], hit)
	a.VisitorID = storeutil.VisitorID(visitor)
	a.Time = timeOf(t)
	a.Type = analytics.ActionType(typ)
	a.Dimensions, err = storeutil.ParseDimensions(dims)
	return err
}

// want adds the dictionary ids of r to w.
func (r *actionRow) want(w map[uint32]string) {
	for _, id := range []uint32{r.url, r.title, r.prevURL, r.prevTitle} {
		w[id] = ""
	}
	for _, n := range []sql.NullInt64{r.evCat, r.evAct, r.evName, r.kw, r.cName, r.cPiece, r.cTarget, r.cInter,
		r.sku, r.pname, r.cats[0], r.cats[1], r.cats[2], r.cats[3], r.cats[4]} {
		if n.Valid {
			w[uint32(n.Int64)] = ""
		}
	}
}

// finish fills the names and optional parts of r.a.
func (r *actionRow) finish(names map[uint32]string) {
	a, p := &r.a, &r.p
	name := func(n sql.NullInt64) string { return names[uint32(n.Int64)] }
	a.URL, a.Title, a.PrevURL, a.PrevTitle = names[r.url], names[r.title], names[r.prevURL], names[r.prevTitle]
	p.EventCategory, p.EventAction, p.EventName = name(r.evCat), name(r.evAct), name(r.evName)
	p.SearchKeyword = name(r.kw)
	p.ContentName, p.ContentPiece, p.ContentTarget, p.ContentInteraction = name(r.cName), name(r.cPiece), name(r.cTarget), name(r.cInter)
	p.SKU, p.ProductName = name(r.sku), name(r.pname)
	if p.Parts&storeutil.PartProduct != 0 {
		p.Categories = categoriesOf(r.cats[:], names)
	}
	p.Apply(a)
}

func scanConversion(sc scanner, c *analytics.Conversion, url *uint32, items *int) error {
	var (
		visitor []byte
		t       time.Time
		refType int64
		r       = &c.Referrer
	)
	err := sc.Scan(
		&c.VisitID, &c.GoalID, &c.Buster, &c.OrderID, &c.SiteID, &visitor, &t, &c.ActionID, url,
		&c.Revenue, &c.Subtotal, &c.Tax, &c.Shipping, &c.Discount, items, &c.PageviewsBefore,
		&c.VisitCount, &c.Returning,
		&refType, &r.Name, &r.Keyword, &r.URL, &r.CampaignSource, &r.CampaignMedium, &r.CampaignContent, &r.CampaignID,
		&c.CountryCode)
	if err != nil {
		return err
	}
	c.VisitorID = storeutil.VisitorID(visitor)
	c.Time = timeOf(t)
	r.Type = analytics.ReferrerType(refType)
	return nil
}

// itemRow is an item as read, its names still ids.
type itemRow struct {
	key       convKey // visit, goal, buster, id (the order id)
	it        analytics.Item
	sku, name uint32
	cats      [maxCategories]sql.NullInt64
}

func scanItem(sc scanner, r *itemRow) error {
	var (
		pos, site int64
		visitor   []byte
		t         time.Time
	)
	k := &r.key
	err := sc.Scan(&k.visit, &k.goal, &k.buster, &k.id, &pos, &site, &visitor, &t, &r.sku, &r.name,
		&r.cats[0], &r.cats[1], &r.cats[2], &r.cats[3], &r.cats[4], &r.it.Price, &r.it.Quantity, &r.it.Deleted)
	return err
}

// LastVisit returns the visitor's most recent visit by last action time
// (ties: the higher visit ID), or ErrNotFound. It is one indexed lookup:
// (idsite, idvisitor, visit_last_action_time) or (idsite, config_id, …),
// read backwards.
func (s *Store) LastVisit(ctx context.Context, m analytics.VisitorMatch) (analytics.Visit, error) {
	var v analytics.Visit
	if err := s.enter("last visit"); err != nil {
		return v, err
	}
	if err := storeutil.CheckVisitorMatch(m); err != nil {
		return v, fmt.Errorf("mysqlstore: last visit: %w", err)
	}
	col, id := "v.idvisitor", m.VisitorID
	if m.VisitorID.IsZero() {
		col, id = "v.config_id", m.ConfigID
	}
	q := visitSelect + " WHERE v.idsite = ? AND " + col + " = ? ORDER BY v.visit_last_action_time DESC, v.idvisit DESC LIMIT 1"
	err := scanVisit(s.db.QueryRowContext(ctx, q, int64(m.SiteID), id[:]), &v)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Visit{}, fmt.Errorf("mysqlstore: last visit of site %d: %w", m.SiteID, analytics.ErrNotFound)
	}
	if err != nil {
		return analytics.Visit{}, s.wrap(ctx, "last visit", err)
	}
	return v, nil
}

// LastVisits returns the last visit of each match that has one, as
// LastVisit would (ties: the higher visit ID); matches without one are
// absent. Every match must be valid, else ErrInvalid before any query.
// It is one statement per 500 distinct matches (storeutil.LastVisitsSQL):
// per match one probe of (idsite, idvisitor, visit_last_action_time) or
// (idsite, config_id, …) read backwards, then a primary-key lookup of the
// row — LastVisit's plan, in one round trip for a whole delivery.
func (s *Store) LastVisits(ctx context.Context, ms []analytics.VisitorMatch) (map[analytics.VisitorMatch]analytics.Visit, error) {
	if err := s.enter("last visits"); err != nil {
		return nil, err
	}
	out, err := storeutil.QueryLastVisits(ctx, s.db, ms, func(chunk []analytics.VisitorMatch) string {
		return storeutil.LastVisitsSQL(chunk, visitCols, visitJoins, unionTable, forceIndex)
	}, scanVisit)
	if errors.Is(err, analytics.ErrInvalid) {
		return nil, fmt.Errorf("mysqlstore: last visits: %w", err)
	}
	if err != nil {
		return nil, s.wrap(ctx, "last visits", err)
	}
	return out, nil
}

// forceIndex is log_visit x with the index the LastVisits subquery must
// use (see storeutil.LastVisitsSQL: without it MariaDB may scan the
// site's visits backwards by time).
func forceIndex(name string) string { return "log_visit x FORCE INDEX (" + name + ")" }

// unionTable is the table of matches of storeutil.LastVisitsSQL as
// SELECT … UNION ALL SELECT …, which MariaDB and MySQL both take (their
// VALUES tables differ).
func unionTable(rows []storeutil.MatchRow) string {
	var b strings.Builder
	for i, r := range rows {
		k, site, id := r.Literals()
		if i == 0 {
			b.WriteString("SELECT " + k + " AS k, " + site + " AS s, " + id + " AS id")
			continue
		}
		b.WriteString(" UNION ALL SELECT " + k + ", " + site + ", " + id)
	}
	return b.String()
}

// Visits calls fn for each visit matching q, in q's order (ties broken by
// visit ID).
//
// Without WithActions it streams one query, holding one connection while
// fn runs. With WithActions it reads in one REPEATABLE READ, read-only
// transaction, so that visits, actions and conversions come from one
// snapshot: first the IDs of the matching visits in order (8 bytes of
// memory per visit), then, per chunk of 256 visits, the visits, their
// actions, conversions and items, with the dictionary names from the
// cache or one query per chunk. fn may call the Store (other connections).
func (s *Store) Visits(ctx context.Context, q analytics.VisitQuery, fn func(*analytics.VisitDetails) error) error {
	if err := s.enter("visits"); err != nil {
		return err
	}
	if err := storeutil.CheckVisitQuery(q); err != nil {
		return fmt.Errorf("mysqlstore: visits: %w", err)
	}
	tail, args := storeutil.VisitQuerySQL(q, func(t time.Time) any { return t })
	return s.scanVisits(ctx, "visits", tail, args, q.WithActions, fn)
}

// scanVisits runs Visits for a tail (WHERE, ORDER BY, LIMIT) of a SELECT
// from log_visit v.
func (s *Store) scanVisits(ctx context.Context, op, tail string, args []any, withActions bool,
	fn func(*analytics.VisitDetails) error) error {
	if !withActions {
		rows, err := s.db.QueryContext(ctx, visitSelect+tail, args...)
		if err != nil {
			return s.wrap(ctx, op, err)
		}
		defer rows.Close()
		for rows.Next() {
			d := new(analytics.VisitDetails)
			if err := scanVisit(rows, &d.Visit); err != nil {
				return s.wrap(ctx, op, err)
			}
			if err := fn(d); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return s.wrap(ctx, op, err)
		}
		return nil
	}

	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	ids, err := storeutil.QueryIDs(ctx, tx, "SELECT v.idvisit FROM log_visit v"+tail, args...)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	for start := 0; start < len(ids); start += storeutil.VisitChunk {
		chunk, err := s.loadVisits(ctx, tx, ids[start:min(start+storeutil.VisitChunk, len(ids))])
		if err != nil {
			return s.wrap(ctx, op, err)
		}
		for _, d := range chunk {
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// loadVisits reads the visits ids (in that order) with their actions,
// conversions and items.
func (s *Store) loadVisits(ctx context.Context, tx *sql.Tx, ids []int64) ([]*analytics.VisitDetails, error) {
	in := int64List(ids)
	out, byID, err := storeutil.VisitsByID(ctx, tx, scanVisit, ids, visitSelect+" WHERE v.idvisit IN ("+in+")")
	if err != nil {
		return nil, err
	}

	names := map[uint32]string{}
	var acts []actionRow
	rows, err := tx.QueryContext(ctx, actionSelect+" WHERE idvisit IN ("+in+") ORDER BY idvisit, server_time, idlink_va")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r actionRow
		if err := scanAction(rows, &r); err != nil {
			rows.Close()
			return nil, err
		}
		r.want(names)
		acts = append(acts, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	type convRow struct {
		c   analytics.Conversion
		url uint32
	}
	var convs []convRow
	withItems := false
	rows, err = tx.QueryContext(ctx, conversionSelect+" WHERE idvisit IN ("+in+") ORDER BY idvisit, server_time, idgoal, buster, idorder")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r convRow
		var n int
		if err := scanConversion(rows, &r.c, &r.url, &n); err != nil {
			rows.Close()
			return nil, err
		}
		names[r.url] = ""
		withItems = withItems || n > 0
		convs = append(convs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var items []itemRow
	if withItems {
		rows, err = tx.QueryContext(ctx, itemSelect+" WHERE idvisit IN ("+in+") ORDER BY idvisit, idgoal, buster, idorder, pos")
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r itemRow
			if err := scanItem(rows, &r); err != nil {
				rows.Close()
				return nil, err
			}
			names[r.sku], names[r.name] = "", ""
			for _, c := range r.cats {
				if c.Valid {
					names[uint32(c.Int64)] = ""
				}
			}
			items = append(items, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}

	if err := s.lookupIDs(ctx, tx, names); err != nil {
		return nil, err
	}
	for i := range acts {
		r := &acts[i]
		r.finish(names)
		if d := byID[r.a.VisitID]; d != nil {
			d.ActionList = append(d.ActionList, r.a)
		}
	}
	type ref struct {
		d *analytics.VisitDetails
		i int
	}
	byKey := map[convKey]ref{}
	for i := range convs {
		r := &convs[i]
		r.c.URL = names[r.url]
		d := byID[r.c.VisitID]
		if d == nil {
			continue
		}
		d.Conversions = append(d.Conversions, r.c)
		byKey[convKey{visit: r.c.VisitID, goal: r.c.GoalID, buster: r.c.Buster, id: r.c.OrderID}] = ref{d, len(d.Conversions) - 1}
	}
	for i := range items {
		r := &items[i]
		ref, ok := byKey[r.key]
		if !ok {
			continue
		}
		r.it.SKU, r.it.Name = names[r.sku], names[r.name]
		r.it.Categories = categoriesOf(r.cats[:], names)
		c := &ref.d.Conversions[ref.i]
		c.Items = append(c.Items, r.it)
	}
	return out, nil
}
