package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

type scanner = storeutil.Scanner

func scanVisit(sc scanner, v *analytics.Visit) error {
	var row storeutil.VisitRow
	var profilable, first, last, converted int64
	if err := sc.Scan(row.Dest(v, &profilable, &first, &last, &converted)...); err != nil {
		return err
	}
	v.Profilable, v.GoalConverted = profilable != 0, converted != 0
	v.FirstActionTime, v.LastActionTime = fromMillis(first), fromMillis(last)
	return row.Decode(v)
}

func scanAction(sc scanner, a *analytics.Action) error {
	var (
		hit, visitor, dims []byte
		t, typ             int64
		p                  storeutil.ActionParts
		cats               [MaxCategories]sql.NullString
	)
	err := sc.Scan(
		&a.ID, &hit, &a.VisitID, &a.SiteID, &visitor, &t, &typ,
		&a.URL, &a.Title, &a.PrevURL, &a.PrevTitle, &a.PageViewID, &a.Position, &a.TimeSpentRef, &p.Parts,
		&p.EventCategory, &p.EventAction, &p.EventName, &p.EventValue,
		&p.SearchKeyword, &p.SearchCategory, &p.SearchCount,
		&p.ContentName, &p.ContentPiece, &p.ContentTarget, &p.ContentInteraction,
		&p.SKU, &p.ProductName, &cats[0], &cats[1], &cats[2], &cats[3], &cats[4], &p.Price,
		&p.Timing[0], &p.Timing[1], &p.Timing[2], &p.Timing[3], &p.Timing[4], &p.Timing[5], &dims)
	if err != nil {
		return err
	}
	copy(a.HitID[:], hit)
	a.VisitorID = storeutil.VisitorID(visitor)
	a.Time = fromMillis(t)
	a.Type = analytics.ActionType(typ)
	if p.Parts&storeutil.PartProduct != 0 {
		p.Categories = categories(cats[:])
	}
	p.Apply(a)
	a.Dimensions, err = storeutil.ParseDimensions(dims)
	return err
}

func scanConversion(sc scanner, id *int64, items *int, c *analytics.Conversion) error {
	var (
		visitor    []byte
		t, refType int64
		r          = &c.Referrer
	)
	err := sc.Scan(id,
		&c.VisitID, &c.SiteID, &visitor, &t, &c.GoalID, &c.Buster, &c.OrderID, &c.ActionID, &c.URL,
		&c.Revenue, &c.Subtotal, &c.Tax, &c.Shipping, &c.Discount, items, &c.PageviewsBefore,
		&c.VisitCount, &c.Returning,
		&refType, &r.Name, &r.Keyword, &r.URL, &r.CampaignSource, &r.CampaignMedium, &r.CampaignContent, &r.CampaignID,
		&c.CountryCode)
	if err != nil {
		return err
	}
	c.VisitorID = storeutil.VisitorID(visitor)
	c.Time = fromMillis(t)
	r.Type = analytics.ReferrerType(refType)
	return nil
}

func scanItem(sc scanner, conv *int64, it *analytics.Item) error {
	var (
		pos, site, visit, t, goal, deleted int64
		visitor                            []byte
		order                              string
		cats                               [MaxCategories]sql.NullString
	)
	err := sc.Scan(conv, &pos, &site, &visitor, &visit, &t, &goal, &order, &it.SKU, &it.Name,
		&cats[0], &cats[1], &cats[2], &cats[3], &cats[4], &it.Price, &it.Quantity, &deleted)
	if err != nil {
		return err
	}
	it.Categories = categories(cats[:])
	it.Deleted = deleted != 0
	return nil
}

// LastVisit returns the visitor's most recent visit by last action time
// (ties: the higher visit ID), or ErrNotFound.
func (s *Store) LastVisit(ctx context.Context, m analytics.VisitorMatch) (analytics.Visit, error) {
	var v analytics.Visit
	if err := s.enter("last visit"); err != nil {
		return v, err
	}
	if err := storeutil.CheckVisitorMatch(m); err != nil {
		return v, fmt.Errorf("sqlitestore: last visit: %w", err)
	}
	st, id := s.r.lastByVisitor, m.VisitorID
	if m.VisitorID.IsZero() {
		st, id = s.r.lastByConfig, m.ConfigID
	}
	err := scanVisit(st.QueryRowContext(ctx, m.SiteID, id[:]), &v)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Visit{}, fmt.Errorf("sqlitestore: last visit of site %d: %w", m.SiteID, analytics.ErrNotFound)
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
// (idsite, config_id, …) read backwards, then a rowid lookup.
func (s *Store) LastVisits(ctx context.Context, ms []analytics.VisitorMatch) (map[analytics.VisitorMatch]analytics.Visit, error) {
	if err := s.enter("last visits"); err != nil {
		return nil, err
	}
	out, err := storeutil.QueryLastVisits(ctx, s.rdb, ms, func(chunk []analytics.VisitorMatch) string {
		return storeutil.LastVisitsSQL(chunk, s.sql.visitCols, "", valuesTable, indexedBy)
	}, scanVisit)
	if errors.Is(err, analytics.ErrInvalid) {
		return nil, fmt.Errorf("sqlitestore: last visits: %w", err)
	}
	if err != nil {
		return nil, s.wrap(ctx, "last visits", err)
	}
	return out, nil
}

// indexedBy is log_visit x with the index the LastVisits subquery uses
// (SQLite plans it so by itself; INDEXED BY keeps it so).
func indexedBy(name string) string { return "log_visit x INDEXED BY " + name }

// valuesTable is the table of matches of storeutil.LastVisitsSQL as a
// VALUES list (not bound by SQLite's limit on compound SELECTs).
func valuesTable(rows []storeutil.MatchRow) string {
	var b strings.Builder
	b.WriteString("SELECT column1 AS k, column2 AS s, column3 AS id FROM (VALUES ")
	for i, r := range rows {
		k, site, id := r.Literals()
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + k + ", " + site + ", " + id + ")")
	}
	b.WriteString(")")
	return b.String()
}

// Visits calls fn for each visit matching q, in q's order (ties broken by
// visit ID), inside one read transaction, so the scan sees one snapshot.
// It holds one read connection until it returns: fn may call the Store,
// but a scan nested in more Visits scans than Options.ReadConns waits for
// ever.
func (s *Store) Visits(ctx context.Context, q analytics.VisitQuery, fn func(*analytics.VisitDetails) error) error {
	if err := s.enter("visits"); err != nil {
		return err
	}
	if err := storeutil.CheckVisitQuery(q); err != nil {
		return fmt.Errorf("sqlitestore: visits: %w", err)
	}
	tail, args := storeutil.VisitQuerySQL(q, func(t time.Time) any { return millis(t) })
	query := s.sql.visitSelect + tail

	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap(ctx, "visits", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return s.wrap(ctx, "visits", err)
	}
	defer rows.Close()

	chunk := make([]*analytics.VisitDetails, 0, storeutil.VisitChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if q.WithActions {
			if err := s.loadDetails(ctx, tx, chunk); err != nil {
				return s.wrap(ctx, "visits", err)
			}
		}
		for _, d := range chunk {
			if err := fn(d); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	for rows.Next() {
		d := new(analytics.VisitDetails)
		if err := scanVisit(rows, &d.Visit); err != nil {
			return s.wrap(ctx, "visits", err)
		}
		chunk = append(chunk, d)
		if !q.WithActions || len(chunk) == storeutil.VisitChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap(ctx, "visits", err)
	}
	return flush()
}

// loadDetails fills the actions and conversions of a chunk of visits.
func (s *Store) loadDetails(ctx context.Context, tx *sql.Tx, chunk []*analytics.VisitDetails) error {
	byID := make(map[int64]*analytics.VisitDetails, len(chunk))
	var ids strings.Builder
	ids.WriteByte('[')
	for i, d := range chunk {
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(strconv.FormatInt(d.ID, 10))
		byID[d.ID] = d
	}
	ids.WriteByte(']')
	in := ids.String()

	rows, err := tx.QueryContext(ctx, s.sql.actionSelect+
		" WHERE a.idvisit IN (SELECT value FROM json_each(?)) ORDER BY a.idvisit, a.server_time, a.idlink_va", in)
	if err != nil {
		return err
	}
	for rows.Next() {
		var a analytics.Action
		if err := scanAction(rows, &a); err != nil {
			rows.Close()
			return err
		}
		if d := byID[a.VisitID]; d != nil {
			d.ActionList = append(d.ActionList, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	type convRef struct {
		d *analytics.VisitDetails
		i int
	}
	convs := make(map[int64]convRef)
	var convIDs strings.Builder
	convIDs.WriteByte('[')
	rows, err = tx.QueryContext(ctx, s.sql.conversionSel+
		" WHERE c.idvisit IN (SELECT value FROM json_each(?)) ORDER BY c.idvisit, c.server_time, c.idconversion", in)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var items int
		var c analytics.Conversion
		if err := scanConversion(rows, &id, &items, &c); err != nil {
			rows.Close()
			return err
		}
		d := byID[c.VisitID]
		if d == nil {
			continue
		}
		d.Conversions = append(d.Conversions, c)
		if items == 0 {
			continue
		}
		if len(convs) > 0 {
			convIDs.WriteByte(',')
		}
		convIDs.WriteString(strconv.FormatInt(id, 10))
		convs[id] = convRef{d, len(d.Conversions) - 1}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(convs) == 0 {
		return nil
	}
	convIDs.WriteByte(']')
	rows, err = tx.QueryContext(ctx, s.sql.itemSelect+
		" WHERE i.idconversion IN (SELECT value FROM json_each(?)) ORDER BY i.idconversion, i.pos", convIDs.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var conv int64
		var it analytics.Item
		if err := scanItem(rows, &conv, &it); err != nil {
			return err
		}
		if ref, ok := convs[conv]; ok {
			c := &ref.d.Conversions[ref.i]
			c.Items = append(c.Items, it)
		}
	}
	return rows.Err()
}
