package mysqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// Column lists of the multi-row statements, in the order of the args.
var (
	visitColumns = strings.Fields(`idvisit idsite idvisitor config_id user_id profilable
		visit_first_action_time visit_last_action_time visit_total_time visitor_localtime
		visit_total_actions visit_total_interactions visit_total_searches visit_total_events visit_total_pageviews
		visitor_count_visits visitor_returning visitor_seconds_since_first visitor_seconds_since_last visitor_seconds_since_order
		visit_goal_converted visit_goal_buyer
		visit_entry_idaction_url visit_entry_idaction_name visit_exit_idaction_url visit_exit_idaction_name last_idlink_va
		referer_type referer_name referer_keyword referer_url campaign_source campaign_medium campaign_content campaign_id
		config_browser_name config_browser_version config_browser_engine config_os config_os_version config_device_type
		config_device_brand config_device_model config_resolution config_plugins location_browser_lang
		location_ip location_country location_region location_region_name location_city location_latitude location_longitude
		location_timezone dimensions`)

	actionColumns = strings.Fields(`idlink_va idsite idvisitor idvisit server_time hit_id type
		idaction_url idaction_name idaction_url_ref idaction_name_ref idpageview pageview_position time_spent_ref_action parts
		idaction_event_category idaction_event_action idaction_event_name custom_float
		idaction_search_keyword search_cat search_count
		idaction_content_name idaction_content_piece idaction_content_target idaction_content_interaction
		idaction_product_sku idaction_product_name idaction_product_cat idaction_product_cat2 idaction_product_cat3
		idaction_product_cat4 idaction_product_cat5 product_price
		time_network time_server time_transfer time_dom_processing time_dom_completion time_on_load dimensions`)

	conversionColumns = strings.Fields(`idvisit idgoal buster idorder idsite idvisitor server_time idlink_va idaction_url
		revenue revenue_subtotal revenue_tax revenue_shipping revenue_discount items pageviews_before
		visitor_count_visits visitor_returning
		referer_type referer_name referer_keyword referer_url campaign_source campaign_medium campaign_content campaign_id
		location_country`)

	itemColumns = strings.Fields(`idvisit idgoal buster idorder pos idsite idvisitor server_time idaction_sku idaction_name
		idaction_category idaction_category2 idaction_category3 idaction_category4 idaction_category5
		price quantity deleted`)
)

// insertSQL is the head of a multi-row INSERT; ignore makes it INSERT
// IGNORE.
func insertSQL(table string, cols []string, ignore bool) string {
	verb := "INSERT INTO "
	if ignore {
		verb = "INSERT IGNORE INTO "
	}
	return verb + table + " (" + strings.Join(cols, ", ") + ") VALUES "
}

// The statements of a batch.
var (
	visitUpsert = func() multiRow {
		var set []string
		for _, c := range visitColumns[1:] {
			set = append(set, c+" = VALUES("+c+")")
		}
		return newMultiRow(insertSQL("log_visit", visitColumns, false), len(visitColumns),
			" ON DUPLICATE KEY UPDATE "+strings.Join(set, ", "))
	}()
	// An action already stored is left alone. ON DUPLICATE KEY UPDATE
	// with a no-op rather than INSERT IGNORE: IGNORE would also turn data
	// errors into warnings.
	conversionInsert = newMultiRow(insertSQL("log_conversion", conversionColumns, true), len(conversionColumns), "")
	// The fast path inserts conversions without IGNORE: a duplicate fails
	// the transaction, which the slow path then writes.
	conversionInsertStrict = newMultiRow(insertSQL("log_conversion", conversionColumns, false), len(conversionColumns), "")
	itemInsert             = newMultiRow(insertSQL("log_conversion_item", itemColumns, false), len(itemColumns), "")
	invalInsert            = newMultiRow("INSERT IGNORE INTO archive_invalidation (idsite, day, ts_created) VALUES ", 3, "")
)

// actionGroups are the optional column groups of log_link_visit_action
// (index ranges in actionColumns): event, site search, content, product,
// page timing, dimensions. A row whose group is all NULL (the part is
// absent) goes into an INSERT without those columns, which then take their
// default, NULL: a page view is sent with 21 values instead of 41, which
// the server parses and the driver interpolates at that cost.
var actionGroups = [...][2]int{{15, 19}, {19, 22}, {22, 26}, {26, 34}, {34, 40}, {40, 41}}

// actionValues is an action's values in the order of actionColumns.
type actionValues = [41]any

// actionInserts are the INSERTs of actions by the set of groups present
// (bit i: actionGroups[i]), with the indexes in actionColumns of their
// columns.
var actionInserts = func() (out [1 << len(actionGroups)]struct {
	m    multiRow
	cols []int
}) {
	for mask := range out {
		var names []string
		var cols []int
		for i := range actionGroups[0][0] {
			cols = append(cols, i)
		}
		for g, r := range actionGroups {
			if mask&(1<<g) != 0 {
				for i := r[0]; i < r[1]; i++ {
					cols = append(cols, i)
				}
			}
		}
		for _, c := range cols {
			names = append(names, actionColumns[c])
		}
		out[mask].cols = cols
		out[mask].m = newMultiRow(insertSQL("log_link_visit_action", names, false), len(names),
			" ON DUPLICATE KEY UPDATE idlink_va = idlink_va")
	}
	return out
}()

// multiRow is a multi-row INSERT: head, rows of values, tail.
type multiRow struct {
	head, tail string
	cols       int
}

func newMultiRow(head string, cols int, tail string) multiRow {
	return multiRow{head: head, tail: tail, cols: cols}
}

// Bounds of one statement: rows, and bytes of text (the server's
// max_allowed_packet is 16 MiB by default on MariaDB, 64 MiB on MySQL 8).
const (
	maxRowsPerStatement  = 1000
	maxBytesPerStatement = 2 << 20
)

// stmt is one statement of a batch; the batch statements carry their
// values as literals (appendLiteral), others have args.
type stmt struct {
	sql  string
	args []any
}

// rowWriter writes the rows of one multi-row statement as literals and
// cuts them into statements within the bounds.
type rowWriter struct {
	m    *multiRow
	out  []stmt
	buf  []byte
	rows int
	pool *sync.Pool // of *[]byte: where buf comes from and goes back to; nil: none
}

func (w *rowWriter) add(args ...any) {
	if len(args) != w.m.cols {
		panic(fmt.Sprintf("mysqlstore: %d args for %d columns", len(args), w.m.cols))
	}
	w.open()
	for i, a := range args {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendLiteral(w.buf, a)
	}
	w.close()
}

// addFrom adds the row of the values row[c] for c in cols.
func (w *rowWriter) addFrom(row []any, cols []int) {
	if len(cols) != w.m.cols {
		panic(fmt.Sprintf("mysqlstore: %d args for %d columns", len(cols), w.m.cols))
	}
	w.open()
	for i, c := range cols {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendLiteral(w.buf, row[c])
	}
	w.close()
}

// open starts a row (and a statement when none is open).
func (w *rowWriter) open() {
	if w.rows == 0 {
		w.buf = append(w.buf[:0], w.m.head...)
	} else {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '(')
}

// close ends a row and cuts the statement when it is full.
func (w *rowWriter) close() {
	w.buf = append(w.buf, ')')
	w.rows++
	if w.rows >= maxRowsPerStatement || len(w.buf) >= maxBytesPerStatement {
		w.cut()
	}
}

// cut ends the current statement.
func (w *rowWriter) cut() {
	if w.rows == 0 {
		return
	}
	w.buf = append(w.buf, w.m.tail...)
	w.out = append(w.out, stmt{sql: string(w.buf)})
	w.buf, w.rows = w.buf[:0], 0
}

// stmts returns the statements; the writer is done.
func (w *rowWriter) stmts() []stmt {
	w.cut()
	if w.pool != nil && w.buf != nil {
		b := w.buf[:0]
		w.pool.Put(&b)
	}
	w.buf = nil
	return w.out
}

// rowWriter returns a writer of m's rows whose buffer comes from the
// store's pool (a batch's statements are some 150 KB of text).
func (e *batchExec) rowWriter(m *multiRow) *rowWriter {
	w := &rowWriter{m: m, pool: e.bufs}
	if e.bufs != nil {
		if b, ok := e.bufs.Get().(*[]byte); ok {
			w.buf = *b
		}
	}
	return w
}

// batchExec builds the statements of one attempt of a plan.
type batchExec struct {
	ctx  context.Context
	tx   *sql.Tx // the slow path's transaction
	p    *plan
	now  time.Time
	bufs *sync.Pool // Store.bufs
}

// exec runs statements on the transaction and returns the rows they
// affected.
func (e *batchExec) exec(list []stmt) (int64, error) {
	var n int64
	for _, st := range list {
		res, err := e.tx.ExecContext(e.ctx, st.sql, st.args...)
		if err != nil {
			return n, err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

func (e *batchExec) visits() []stmt {
	if len(e.p.visits) == 0 {
		return nil
	}
	p := e.p
	w := e.rowWriter(&visitUpsert)
	for i := range p.visits {
		pv := &p.visits[i]
		v := pv.v
		r, c, l := &v.Referrer, &v.Client, &v.Location
		w.add(
			v.ID, int64(v.SiteID), v.VisitorID[:], v.ConfigID[:], text(v.UserID), storeutil.BoolInt(v.Profilable),
			v.FirstActionTime, v.LastActionTime, int64(v.TotalTime), int64(v.LocalTime),
			int64(v.Actions), int64(v.Interactions), int64(v.Searches), int64(v.Events), int64(v.Pageviews),
			int64(v.VisitCount), int64(v.Returning), v.SecondsSinceFirst, v.SecondsSinceLast, v.SecondsSinceOrder,
			storeutil.BoolInt(v.GoalConverted), int64(v.GoalBuyer),
			p.id(pv.refs[storeutil.VisitEntryURL]), p.id(pv.refs[storeutil.VisitEntryTitle]),
			p.id(pv.refs[storeutil.VisitExitURL]), p.id(pv.refs[storeutil.VisitExitTitle]), v.LastActionID,
			int64(r.Type), text(r.Name), text(r.Keyword), text(r.URL),
			text(r.CampaignSource), text(r.CampaignMedium), text(r.CampaignContent), text(r.CampaignID),
			text(c.BrowserName), text(c.BrowserVersion), text(c.BrowserEngine), text(c.OSName), text(c.OSVersion),
			int64(c.DeviceType), text(c.DeviceBrand), text(c.DeviceModel), text(c.Resolution), int64(c.Plugins), text(c.Lang),
			storeutil.IPBytes(v.IP), text(l.CountryCode), text(l.RegionCode), text(l.RegionName), text(l.City),
			storeutil.NullFloat(l.Latitude, l.HasCoords), storeutil.NullFloat(l.Longitude, l.HasCoords),
			text(l.TimeZone), pv.dims)
	}
	return w.stmts()
}

func (e *batchExec) actions() []stmt {
	if len(e.p.actions) == 0 {
		return nil
	}
	p := e.p
	var writers [len(actionInserts)]*rowWriter
	var row actionValues
	for i := range p.actions {
		pa := &p.actions[i]
		a := pa.a
		var hit any
		if !a.HitID.IsZero() {
			hit = a.HitID[:]
		}
		var evValue, searchCat, searchCount, price any
		if ev := a.Event; ev != nil {
			evValue = storeutil.NullFloat(ev.Value, ev.HasValue)
		}
		if sr := a.Search; sr != nil {
			searchCat, searchCount = text(sr.Category), int64(sr.Count)
		}
		if pr := a.Product; pr != nil {
			price = pr.Price
		}
		var tNet, tSrv, tTr, tDP, tDC, tOL any
		if t := a.Timing; t != nil {
			tNet, tSrv, tTr = int64(t.Network), int64(t.Server), int64(t.Transfer)
			tDP, tDC, tOL = int64(t.DOMProcessing), int64(t.DOMCompletion), int64(t.OnLoad)
		}
		r := &pa.refs
		row = actionValues{
			a.ID, int64(a.SiteID), a.VisitorID[:], a.VisitID, a.Time, hit, int64(a.Type),
			p.id(r[storeutil.ActionURL]), p.id(r[storeutil.ActionTitle]), p.id(r[storeutil.ActionPrevURL]), p.id(r[storeutil.ActionPrevTitle]),
			text(a.PageViewID), int64(a.Position), int64(a.TimeSpentRef), pa.parts,
			p.id(r[storeutil.ActionEventCategory]), p.id(r[storeutil.ActionEventAction]), p.id(r[storeutil.ActionEventName]), evValue,
			p.id(r[storeutil.ActionSearch]), searchCat, searchCount,
			p.id(r[storeutil.ActionContentName]), p.id(r[storeutil.ActionContentPiece]), p.id(r[storeutil.ActionContentTarget]), p.id(r[storeutil.ActionContentInteraction]),
			p.id(r[storeutil.ActionSKU]), p.id(r[storeutil.ActionProductName]),
			p.id(r[storeutil.ActionCat1]), p.id(r[storeutil.ActionCat1+1]), p.id(r[storeutil.ActionCat1+2]), p.id(r[storeutil.ActionCat1+3]), p.id(r[storeutil.ActionCat1+4]), price,
			tNet, tSrv, tTr, tDP, tDC, tOL, pa.dims}
		mask := 0
		for g, r := range actionGroups {
			for _, v := range row[r[0]:r[1]] {
				if v != nil {
					mask |= 1 << g
					break
				}
			}
		}
		ins := &actionInserts[mask]
		w := writers[mask]
		if w == nil {
			w = e.rowWriter(&ins.m)
			writers[mask] = w
		}
		w.addFrom(row[:], ins.cols)
	}
	var out []stmt
	for _, w := range writers {
		if w != nil {
			out = append(out, w.stmts()...)
		}
	}
	return out
}

// cartDeletes deletes the stored open carts of the batch's carts, items
// first: the batch's carts replace them.
func (e *batchExec) cartDeletes() []stmt {
	if len(e.p.cartVisits) == 0 {
		return nil
	}
	in := int64List(e.p.cartVisits)
	return []stmt{
		{sql: "DELETE FROM log_conversion_item WHERE idvisit IN (" + in + ") AND idgoal = -1"},
		{sql: "DELETE FROM log_conversion WHERE idvisit IN (" + in + ") AND idgoal = -1"},
	}
}

// conversionInserts returns the INSERTs of the conversions of list (IGNORE
// or not) and of their items.
func (e *batchExec) conversionInserts(list []*planConv, ignore bool) (convs, items []stmt) {
	if len(list) == 0 {
		return nil, nil
	}
	p := e.p
	m := &conversionInsertStrict
	if ignore {
		m = &conversionInsert
	}
	w := e.rowWriter(m)
	n := 0
	for _, pc := range list {
		c, r := pc.c, &pc.c.Referrer
		n += len(pc.items)
		w.add(
			c.VisitID, int64(c.GoalID), c.Buster, text(c.OrderID), int64(c.SiteID), c.VisitorID[:], c.Time, c.ActionID, p.id(pc.url),
			c.Revenue, c.Subtotal, c.Tax, c.Shipping, c.Discount, int64(len(c.Items)), int64(c.PageviewsBefore),
			int64(c.VisitCount), int64(c.Returning),
			int64(r.Type), text(r.Name), text(r.Keyword), text(r.URL),
			text(r.CampaignSource), text(r.CampaignMedium), text(r.CampaignContent), text(r.CampaignID),
			text(c.CountryCode))
	}
	if n == 0 {
		return w.stmts(), nil
	}
	iw := e.rowWriter(&itemInsert)
	for _, pc := range list {
		c := pc.c
		for i := range pc.items {
			it, pi := &c.Items[i], &pc.items[i]
			iw.add(
				c.VisitID, int64(c.GoalID), c.Buster, text(c.OrderID), int64(i), int64(c.SiteID), c.VisitorID[:], c.Time,
				p.id(pi.refs[storeutil.ItemSKU]), p.id(pi.refs[storeutil.ItemName]),
				p.id(pi.refs[storeutil.ItemCat1]), p.id(pi.refs[storeutil.ItemCat1+1]), p.id(pi.refs[storeutil.ItemCat1+2]),
				p.id(pi.refs[storeutil.ItemCat1+3]), p.id(pi.refs[storeutil.ItemCat1+4]),
				it.Price, int64(it.Quantity), storeutil.BoolInt(it.Deleted))
		}
	}
	return w.stmts(), iw.stmts()
}

// allConversions lists every conversion of the plan.
func (p *plan) allConversions() []*planConv {
	out := make([]*planConv, len(p.convs))
	for i := range p.convs {
		out[i] = &p.convs[i]
	}
	return out
}

// conversions (the slow path) replaces the carts, drops the conversions
// already stored (left alone, with their items), inserts the others with
// their items. The check for stored ones reads without locks; should
// another shard insert the same order meanwhile, INSERT IGNORE skips it,
// the row count tells, and the batch is tried again (errRace).
func (e *batchExec) conversions() error {
	p := e.p
	if len(p.convs) == 0 {
		return nil
	}
	if _, err := e.exec(e.cartDeletes()); err != nil {
		return fmt.Errorf("carts: %w", err)
	}
	stored, err := e.storedConversions()
	if err != nil {
		return fmt.Errorf("conversions: %w", err)
	}
	var todo []*planConv
	for i := range p.convs {
		if !stored[keyOf(p.convs[i].c)] {
			todo = append(todo, &p.convs[i])
		}
	}
	convs, items := e.conversionInserts(todo, true)
	n, err := e.exec(convs)
	if err != nil {
		return fmt.Errorf("conversions: %w", err)
	}
	if n != int64(len(todo)) {
		return errRace
	}
	if _, err := e.exec(items); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	return nil
}

// storedConversions returns the keys of the plan's goal conversions and
// orders that are stored already (carts are replaced, never kept).
func (e *batchExec) storedConversions() (map[convKey]bool, error) {
	var goalVisits []int64
	orders := map[int][]any{} // site → order ids
	for i := range e.p.convs {
		c := e.p.convs[i].c
		switch {
		case c.GoalID == analytics.GoalEcommerceOrder:
			orders[c.SiteID] = append(orders[c.SiteID], text(c.OrderID))
		case c.GoalID > 0:
			goalVisits = append(goalVisits, c.VisitID)
		}
	}
	stored := map[convKey]bool{}
	if len(goalVisits) > 0 {
		rows, err := e.tx.QueryContext(e.ctx,
			"SELECT idvisit, idgoal, buster FROM log_conversion WHERE idvisit IN ("+int64List(goalVisits)+") AND idgoal > 0")
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k convKey
			if err := rows.Scan(&k.visit, &k.goal, &k.buster); err != nil {
				rows.Close()
				return nil, err
			}
			stored[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if len(orders) > 0 {
		var q strings.Builder
		var args []any
		q.WriteString("SELECT idsite, idorder FROM log_conversion WHERE ")
		first := true
		for site, ids := range orders {
			if !first {
				q.WriteString(" OR ")
			}
			first = false
			q.WriteString("(idsite = ? AND order_key IN (")
			q.WriteString(strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","))
			q.WriteString("))")
			args = append(args, int64(site))
			args = append(args, ids...)
		}
		rows, err := e.tx.QueryContext(e.ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			k := convKey{order: true}
			if err := rows.Scan(&k.site, &k.id); err != nil {
				rows.Close()
				return nil, err
			}
			stored[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

func (e *batchExec) invalidations() []stmt {
	if len(e.p.inval) == 0 {
		return nil
	}
	w := e.rowWriter(&invalInsert)
	for _, d := range e.p.inval {
		w.add(int64(d.SiteID), d.Day, e.now)
	}
	return w.stmts()
}

// int64List formats ids for an IN list.
func int64List(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, id)
	}
	return b.String()
}
