package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// Interface guards of the optional capabilities.
var (
	_ analytics.Pruner        = (*Store)(nil)
	_ analytics.VisitorEraser = (*Store)(nil)
)

// idList encodes ids for an IN (SELECT value FROM json_each(?)) list.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// DeleteLogsBefore deletes the site's visits whose last action is before
// before, with their actions, conversions and items: oldest first, chunk
// visits per write transaction, so that a batch waits at most for one
// chunk. A visit goes whole or not at all. It returns what it deleted; on
// error, what was deleted so far.
func (s *Store) DeleteLogsBefore(ctx context.Context, siteID int, before time.Time, chunk int) (analytics.Deleted, error) {
	var none analytics.Deleted
	op := fmt.Sprintf("delete logs of site %d before %s", siteID, before.UTC().Format(time.RFC3339))
	if err := s.enter(op); err != nil {
		return none, err
	}
	if err := storeutil.CheckPrune(siteID, chunk); err != nil {
		return none, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	if before.IsZero() {
		return none, fmt.Errorf("sqlitestore: %s: zero time: %w", op, analytics.ErrInvalid)
	}
	total, err := storeutil.DeleteInChunks(chunk, func() (analytics.Deleted, error) {
		return s.deleteVisits(ctx, func(tx *sql.Tx) ([]int64, error) {
			return storeutil.QueryIDs(ctx, tx, `SELECT idvisit FROM log_visit WHERE idsite = ? AND visit_last_action_time < ?
				ORDER BY visit_last_action_time, idvisit LIMIT ?`, siteID, millis(before), chunk)
		})
	})
	if err != nil {
		return total, s.wrap(ctx, op, err)
	}
	return total, nil
}

// deleteVisits deletes, in one write transaction, the visits ids returns
// with everything that hangs on them.
func (s *Store) deleteVisits(ctx context.Context, ids func(*sql.Tx) ([]int64, error)) (analytics.Deleted, error) {
	return storeutil.DeleteVisits(ctx, s.wdb, ids, func(visits []int64) (items, convs, actions, vs storeutil.Stmt) {
		in := []any{idList(visits)}
		return storeutil.Stmt{Query: `DELETE FROM log_conversion_item WHERE idconversion IN
				(SELECT idconversion FROM log_conversion WHERE idvisit IN (SELECT value FROM json_each(?)))`, Args: in},
			storeutil.Stmt{Query: "DELETE FROM log_conversion WHERE idvisit IN (SELECT value FROM json_each(?))", Args: in},
			storeutil.Stmt{Query: "DELETE FROM log_link_visit_action WHERE idvisit IN (SELECT value FROM json_each(?))", Args: in},
			storeutil.Stmt{Query: "DELETE FROM log_visit WHERE idvisit IN (SELECT value FROM json_each(?))", Args: in}
	})
}

// visitorIDs returns the ids of the visits of one site that f selects,
// oldest first.
func visitorIDs(ctx context.Context, tx *sql.Tx, siteID int, f analytics.VisitorFilter) ([]int64, error) {
	var parts []string
	var args []any
	if !f.VisitorID.IsZero() {
		parts = append(parts, "SELECT idvisit FROM log_visit WHERE idsite = ? AND idvisitor = ?")
		args = append(args, siteID, f.VisitorID[:])
	}
	if f.UserID != "" {
		parts = append(parts, "SELECT idvisit FROM log_visit WHERE idsite = ? AND user_id = ?")
		args = append(args, siteID, f.UserID)
	}
	return storeutil.QueryIDs(ctx, tx, "SELECT idvisit FROM log_visit WHERE idvisit IN ("+strings.Join(parts, " UNION ")+
		") ORDER BY visit_first_action_time, idvisit", args...)
}

// ExportVisitor returns every stored visit of the visitor (by visitor id
// or stored user id, either matching) with its actions, conversions and
// items, oldest first, from one read transaction. siteID 0 means every
// site (in ID order, each oldest first).
func (s *Store) ExportVisitor(ctx context.Context, siteID int, f analytics.VisitorFilter) ([]analytics.VisitDetails, error) {
	op := fmt.Sprintf("export visitor of site %d", siteID)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	sites, err := storeutil.VisitorSites(ctx, s.rdb, siteID, f, 0)
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	out, err := storeutil.ExportVisits(sites,
		func(site int) ([]int64, error) { return visitorIDs(ctx, tx, site, f) },
		func(ids []int64) ([]*analytics.VisitDetails, error) { return s.visitsByID(ctx, tx, ids) })
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return out, nil
}

// visitsByID reads the visits ids, in that order, with their details.
func (s *Store) visitsByID(ctx context.Context, tx *sql.Tx, ids []int64) ([]*analytics.VisitDetails, error) {
	out, _, err := storeutil.VisitsByID(ctx, tx, scanVisit, ids,
		s.sql.visitSelect+" WHERE v.idvisit IN (SELECT value FROM json_each(?))", idList(ids))
	if err != nil {
		return nil, err
	}
	if err := s.loadDetails(ctx, tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVisitor deletes every stored visit of the visitor (as
// ExportVisitor selects them) with its actions, conversions and items, in
// one write transaction. siteID 0 means every site.
func (s *Store) DeleteVisitor(ctx context.Context, siteID int, f analytics.VisitorFilter) (analytics.Deleted, error) {
	op := fmt.Sprintf("delete visitor of site %d", siteID)
	if err := s.enter(op); err != nil {
		return analytics.Deleted{}, err
	}
	sites, err := storeutil.VisitorSites(ctx, s.rdb, siteID, f, 0)
	if err != nil {
		return analytics.Deleted{}, s.wrap(ctx, op, err)
	}
	d, err := s.deleteVisits(ctx, func(tx *sql.Tx) ([]int64, error) {
		return storeutil.SiteVisitIDs(sites, func(site int) ([]int64, error) { return visitorIDs(ctx, tx, site, f) })
	})
	if err != nil {
		return analytics.Deleted{}, s.wrap(ctx, op, err)
	}
	return d, nil
}

// nameRefs are the columns that refer to log_action.
var nameRefs = map[string][]string{
	"log_visit": {"visit_entry_idaction_url", "visit_entry_idaction_name", "visit_exit_idaction_url", "visit_exit_idaction_name"},
	"log_link_visit_action": {"idaction_url", "idaction_name", "idaction_url_ref", "idaction_name_ref",
		"idaction_event_category", "idaction_event_action", "idaction_event_name", "idaction_search_keyword",
		"idaction_content_name", "idaction_content_piece", "idaction_content_target", "idaction_content_interaction",
		"idaction_product_sku", "idaction_product_name", "idaction_product_cat", "idaction_product_cat2",
		"idaction_product_cat3", "idaction_product_cat4", "idaction_product_cat5"},
	"log_conversion": {"idaction_url"},
	"log_conversion_item": {"idaction_sku", "idaction_name", "idaction_category", "idaction_category2",
		"idaction_category3", "idaction_category4", "idaction_category5"},
}

// usedNamesSQL selects every id a stored row refers to.
func usedNamesSQL() string {
	var arms []string
	for _, table := range []string{"log_visit", "log_link_visit_action", "log_conversion", "log_conversion_item"} {
		for _, c := range nameRefs[table] {
			arms = append(arms, "SELECT "+c+" FROM "+table+" WHERE "+c+" IS NOT NULL")
		}
	}
	return strings.Join(arms, " UNION ")
}

// DeleteUnusedNames deletes the dictionary entries no stored row refers
// to, at most chunk per write transaction, and reports how many. Writers
// (of this process and others) cache dictionary ids, so it works in two
// steps: one write transaction marks the unused entries and bumps the
// dictionary epoch — a batch checks the epoch in its own transaction and
// empties its cache when it moved, and clears the mark of any marked entry
// it looks up — then the entries still marked are deleted, chunk by chunk.
// The marking transaction scans the log tables while it holds the write
// lock: batches wait for it.
func (s *Store) DeleteUnusedNames(ctx context.Context, chunk int) (int64, error) {
	const op = "delete unused names"
	if err := s.enter(op); err != nil {
		return 0, err
	}
	if err := storeutil.CheckChunk(chunk); err != nil {
		return 0, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE log_action SET prune_pending = 1 WHERE prune_pending = 0 AND idaction NOT IN ("+usedNamesSQL()+")"); err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	var epoch int64
	if err := tx.QueryRowContext(ctx, "UPDATE dict_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch").Scan(&epoch); err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	s.dict.Reset(uint64(epoch))
	var deleted int64
	for {
		res, err := s.wdb.ExecContext(ctx, `DELETE FROM log_action WHERE idaction IN
			(SELECT idaction FROM log_action WHERE prune_pending = 1 LIMIT ?)`, chunk)
		if err != nil {
			return deleted, s.wrap(ctx, op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return deleted, s.wrap(ctx, op, err)
		}
		deleted += n
		if n < int64(chunk) {
			return deleted, nil
		}
	}
}
