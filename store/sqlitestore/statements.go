package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Column lists, in the order of the args and scan functions. A column
// marked * holds a log_action id and reads back as its name (” for 0 or
// NULL); one marked ? reads back as NULL when the id is NULL (absent),
// ” for 0, else the name.
const (
	visitColumns = `idvisit idsite idvisitor config_id user_id profilable
		visit_first_action_time visit_last_action_time visit_total_time visitor_localtime
		visit_total_actions visit_total_interactions visit_total_searches visit_total_events visit_total_pageviews
		visitor_count_visits visitor_returning visitor_seconds_since_first visitor_seconds_since_last visitor_seconds_since_order
		visit_goal_converted visit_goal_buyer
		visit_entry_idaction_url* visit_entry_idaction_name* visit_exit_idaction_url* visit_exit_idaction_name* last_idlink_va
		referer_type referer_name referer_keyword referer_url campaign_source campaign_medium campaign_content campaign_id
		config_browser_name config_browser_version config_browser_engine config_os config_os_version config_device_type
		config_device_brand config_device_model config_resolution config_plugins location_browser_lang
		location_ip location_country location_region location_region_name location_city location_latitude location_longitude
		location_timezone dimensions`

	actionColumns = `idlink_va hit_id idvisit idsite idvisitor server_time type
		idaction_url* idaction_name* idaction_url_ref* idaction_name_ref* idpageview pageview_position time_spent_ref_action parts
		idaction_event_category* idaction_event_action* idaction_event_name* custom_float
		idaction_search_keyword* search_cat search_count
		idaction_content_name* idaction_content_piece* idaction_content_target* idaction_content_interaction*
		idaction_product_sku* idaction_product_name* idaction_product_cat? idaction_product_cat2? idaction_product_cat3?
		idaction_product_cat4? idaction_product_cat5? product_price
		time_network time_server time_transfer time_dom_processing time_dom_completion time_on_load dimensions`

	// The columns an action insert writes: the base ones always, each
	// optional group (bit i of parts = actionGroups[i]) only when present,
	// so absent groups cost no bound NULLs.
	actionBaseColumns = `idlink_va hit_id idvisit idsite idvisitor server_time type
		idaction_url idaction_name idaction_url_ref idaction_name_ref idpageview pageview_position time_spent_ref_action
		parts dimensions`

	// conversionColumns leaves out idconversion, which the store assigns.
	conversionColumns = `idvisit idsite idvisitor server_time idgoal buster idorder idlink_va idaction_url*
		revenue revenue_subtotal revenue_tax revenue_shipping revenue_discount items pageviews_before
		visitor_count_visits visitor_returning
		referer_type referer_name referer_keyword referer_url campaign_source campaign_medium campaign_content campaign_id
		location_country`

	itemColumns = `idconversion pos idsite idvisitor idvisit server_time idgoal idorder idaction_sku* idaction_name*
		idaction_category? idaction_category2? idaction_category3? idaction_category4? idaction_category5?
		price quantity deleted`

	// siteColumns leaves out idsite, which the store assigns.
	siteColumns = `name urls timezone currency ecommerce sitesearch
		sitesearch_keyword_parameters sitesearch_category_parameters
		excluded_ips excluded_parameters excluded_user_agents excluded_referrers
		exclude_unknown_urls keep_url_fragment
		privacy_ipv4_mask_bytes privacy_ipv6_mask_bits privacy_store_ip privacy_cookieless privacy_dnt privacy_gpc
		privacy_hash_user_id privacy_scrub_pii privacy_retention_days privacy_consent ts_created`

	goalColumns = `idsite idgoal name match_attribute pattern pattern_type case_sensitive allow_multiple revenue`
)

// actionGroupCount is the number of optional column groups of an action.
const actionGroupCount = 5

// actionGroups returns the optional column groups of an action, in the
// order of the parts bits (storeutil.PartEvent …): event, search, content,
// product, timing.
func actionGroups() [actionGroupCount]string {
	return [...]string{
		"idaction_event_category idaction_event_action idaction_event_name custom_float",
		"idaction_search_keyword search_cat search_count",
		"idaction_content_name idaction_content_piece idaction_content_target idaction_content_interaction",
		"idaction_product_sku idaction_product_name idaction_product_cat idaction_product_cat2 idaction_product_cat3 " +
			"idaction_product_cat4 idaction_product_cat5 product_price",
		"time_network time_server time_transfer time_dom_processing time_dom_completion time_on_load",
	}
}

// columns returns the bare column names of a list.
func columns(list string) []string {
	f := strings.Fields(list)
	for i, c := range f {
		f[i] = strings.TrimRight(c, "*?")
	}
	return f
}

// selectList returns the SELECT expressions of a list for table alias t,
// with dictionary ids turned into names.
func selectList(t, list string) string {
	var b strings.Builder
	for i, c := range strings.Fields(list) {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case strings.HasSuffix(c, "*"):
			c = strings.TrimSuffix(c, "*")
			b.WriteString("COALESCE((SELECT name FROM log_action WHERE idaction = " + t + "." + c + "), '')")
		case strings.HasSuffix(c, "?"):
			c = strings.TrimSuffix(c, "?")
			b.WriteString("CASE WHEN " + t + "." + c + " IS NULL THEN NULL ELSE COALESCE((SELECT name FROM log_action WHERE idaction = " + t + "." + c + "), '') END")
		default:
			b.WriteString(t + "." + c)
		}
	}
	return b.String()
}

func insertSQL(table, list string) string {
	cols := columns(list)
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
}

// statements is the SQL text the Store uses, built once in Open.
type statements struct {
	visitUpsert     string
	actionInsert    [1 << actionGroupCount]string // by parts
	conversionInsrt string
	itemInsert      string
	visitSelect     string // FROM log_visit v, no WHERE
	visitCols       string // the columns of visitSelect
	actionSelect    string // FROM log_link_visit_action a
	conversionSel   string // FROM log_conversion c
	itemSelect      string // FROM log_conversion_item i
	siteInsert      string
	siteSelect      string
	siteUpdate      string
	goalInsert      string
	goalSelect      string
}

func buildStatements() statements {
	var st statements
	vcols := columns(visitColumns)
	var set []string
	for _, c := range vcols[1:] {
		set = append(set, c+" = excluded."+c)
	}
	st.visitUpsert = insertSQL("log_visit", visitColumns) + " ON CONFLICT (idvisit) DO UPDATE SET " + strings.Join(set, ", ")
	for parts := range st.actionInsert {
		cols := actionBaseColumns
		for i, g := range actionGroups() {
			if parts&(1<<i) != 0 {
				cols += " " + g
			}
		}
		st.actionInsert[parts] = insertSQL("log_link_visit_action", cols) + " ON CONFLICT (idlink_va) DO NOTHING"
	}
	st.conversionInsrt = insertSQL("log_conversion", conversionColumns) + " ON CONFLICT DO NOTHING RETURNING idconversion"
	st.itemInsert = insertSQL("log_conversion_item", itemColumns)
	st.visitCols = selectList("v", visitColumns)
	st.visitSelect = "SELECT " + st.visitCols + " FROM log_visit v"
	st.actionSelect = "SELECT " + selectList("a", actionColumns) + " FROM log_link_visit_action a"
	st.conversionSel = "SELECT c.idconversion, " + selectList("c", conversionColumns) + " FROM log_conversion c"
	st.itemSelect = "SELECT " + selectList("i", itemColumns) + " FROM log_conversion_item i"
	st.siteInsert = insertSQL("site", siteColumns) + " RETURNING idsite"
	st.siteSelect = "SELECT s.idsite, " + selectList("s", siteColumns) + " FROM site s"
	scols := columns(siteColumns)
	set = set[:0]
	for _, c := range scols {
		if c == "ts_created" {
			set = append(set, "ts_created = COALESCE(NULLIF(?, 0), ts_created)")
			continue
		}
		set = append(set, c+" = ?")
	}
	st.siteUpdate = "UPDATE site SET " + strings.Join(set, ", ") + " WHERE idsite = ?"
	gcols := columns(goalColumns)
	st.goalInsert = "INSERT INTO goal (" + strings.Join(gcols, ", ") + ") SELECT ?, COALESCE(MAX(idgoal), 0) + 1, " +
		strings.TrimSuffix(strings.Repeat("?, ", len(gcols)-2), ", ") + " FROM goal WHERE idsite = ? RETURNING idgoal"
	st.goalSelect = "SELECT " + selectList("g", goalColumns) + " FROM goal g"
	return st
}

// writeStmts are prepared on the write connection; WriteBatch binds them
// to its transaction with Tx.StmtContext, which reuses the prepared
// statement of that connection.
type writeStmts struct {
	checkpointGet, checkpointSet         *sql.Stmt
	dictSelect, dictInsert               [dictChunkKinds]*sql.Stmt // by chunk size
	visitUpsert                          *sql.Stmt
	actionInsert                         [1 << actionGroupCount]*sql.Stmt
	conversionInsert, itemInsert         *sql.Stmt
	cartItemsDelete, cartDelete          *sql.Stmt
	invalidationInsert, reserve, saltPut *sql.Stmt
	epochGet                             *sql.Stmt
}

// readStmts are prepared on the read pool (database/sql prepares them on
// each connection as it is used).
type readStmts struct {
	lastByVisitor, lastByConfig, checkpoint, saltGet *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	var errs []error
	w := func(q string) *sql.Stmt {
		st, err := s.wdb.PrepareContext(ctx, q)
		errs = append(errs, err)
		return st
	}
	r := func(q string) *sql.Stmt {
		st, err := s.rdb.PrepareContext(ctx, q)
		errs = append(errs, err)
		return st
	}
	s.w = writeStmts{
		checkpointGet: w("SELECT hi, lo FROM shard_checkpoint WHERE shard = ?"),
		checkpointSet: w(`INSERT INTO shard_checkpoint (shard, hi, lo, ts_updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (shard) DO UPDATE SET hi = excluded.hi, lo = excluded.lo, ts_updated = excluded.ts_updated`),
		visitUpsert:      w(s.sql.visitUpsert),
		conversionInsert: w(s.sql.conversionInsrt),
		itemInsert:       w(s.sql.itemInsert),
		cartItemsDelete: w(`DELETE FROM log_conversion_item WHERE idconversion IN
			(SELECT idconversion FROM log_conversion WHERE idvisit = ? AND idgoal = -1)`),
		cartDelete:         w("DELETE FROM log_conversion WHERE idvisit = ? AND idgoal = -1"),
		invalidationInsert: w("INSERT INTO archive_invalidation (idsite, day, ts_created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
		reserve:            w("UPDATE id_sequence SET next = next + ? WHERE kind = ? RETURNING next - ?"),
		saltPut: w(`INSERT INTO salt (idsite, day, value) VALUES (?, ?, ?)
			ON CONFLICT (idsite, day) DO UPDATE SET value = value RETURNING value`),
	}
	s.w.epochGet = w("SELECT epoch FROM dict_epoch WHERE id = 1")
	for i, n := range dictChunks() {
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ")
		s.w.dictSelect[i] = w("SELECT idaction, type, name FROM log_action WHERE (type, name) IN (VALUES " + values + ")")
		s.w.dictInsert[i] = w("INSERT INTO log_action (type, name) VALUES " + values +
			" ON CONFLICT DO NOTHING RETURNING idaction, type, name")
	}
	for parts, q := range s.sql.actionInsert {
		s.w.actionInsert[parts] = w(q)
	}
	s.r = readStmts{
		lastByVisitor: r(s.sql.visitSelect + " WHERE v.idsite = ? AND v.idvisitor = ? ORDER BY v.visit_last_action_time DESC, v.idvisit DESC LIMIT 1"),
		lastByConfig:  r(s.sql.visitSelect + " WHERE v.idsite = ? AND v.config_id = ? ORDER BY v.visit_last_action_time DESC, v.idvisit DESC LIMIT 1"),
		checkpoint:    r("SELECT hi, lo FROM shard_checkpoint WHERE shard = ?"),
		saltGet:       r("SELECT value FROM salt WHERE idsite = ? AND day = ?"),
	}
	if err := errors.Join(errs...); err != nil {
		s.w.close()
		s.r.close()
		return s.wrap(ctx, "prepare", err)
	}
	return nil
}

func (w *writeStmts) close() {
	for _, st := range []*sql.Stmt{w.checkpointGet, w.checkpointSet, w.visitUpsert,
		w.conversionInsert, w.itemInsert, w.cartItemsDelete, w.cartDelete,
		w.invalidationInsert, w.reserve, w.saltPut, w.epochGet} {
		if st != nil {
			st.Close()
		}
	}
	for _, l := range [][]*sql.Stmt{w.actionInsert[:], w.dictSelect[:], w.dictInsert[:]} {
		for _, st := range l {
			if st != nil {
				st.Close()
			}
		}
	}
}

func (r *readStmts) close() {
	for _, st := range []*sql.Stmt{r.lastByVisitor, r.lastByConfig, r.checkpoint, r.saltGet} {
		if st != nil {
			st.Close()
		}
	}
}
