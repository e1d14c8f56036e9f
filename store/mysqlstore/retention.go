package mysqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// DeleteLogsBefore deletes the site's visits whose last action is before
// before, with their actions, conversions and items. It works oldest
// first, chunk visits per transaction: the transaction locks those visits
// (READ COMMITTED: no gap locks, so ingestion of new rows never waits),
// deletes their items, conversions and actions through the idvisit
// indexes, then the visits, and commits. A visit goes whole or not at
// all; a run interrupted between chunks leaves only whole visits and the
// next run goes on. It returns what it deleted; on error, what was
// deleted so far. A cancelled ctx stops it between chunks or mid-chunk
// (that chunk is rolled back).
func (s *Store) DeleteLogsBefore(ctx context.Context, siteID int, before time.Time, chunk int) (analytics.Deleted, error) {
	var none analytics.Deleted
	op := fmt.Sprintf("delete logs of site %d before %s", siteID, before.UTC().Format(time.RFC3339))
	if err := s.enter(op); err != nil {
		return none, err
	}
	if err := storeutil.CheckPrune(siteID, chunk); err != nil {
		return none, fmt.Errorf("mysqlstore: %s: %w", op, err)
	}
	if before.IsZero() || checkTime(before) != nil {
		return none, fmt.Errorf("mysqlstore: %s: invalid time: %w", op, analytics.ErrInvalid)
	}
	total, err := storeutil.DeleteInChunks(chunk, func() (analytics.Deleted, error) {
		return s.deleteChunk(ctx, func(tx *sql.Tx) ([]int64, error) {
			return storeutil.QueryIDs(ctx, tx, `SELECT idvisit FROM log_visit WHERE idsite = ? AND visit_last_action_time < ?
				ORDER BY visit_last_action_time, idvisit LIMIT ? FOR UPDATE`, int64(siteID), before, int64(chunk))
		})
	})
	if err != nil {
		return total, s.wrap(ctx, op, err)
	}
	return total, nil
}

// deleteChunk deletes, in one transaction, the visits ids returns (it
// should lock them) with everything that hangs on them. A deadlock with a
// writer (which then goes on) or a lock-wait timeout is retried.
func (s *Store) deleteChunk(ctx context.Context, ids func(*sql.Tx) ([]int64, error)) (analytics.Deleted, error) {
	for attempt := 0; ; attempt++ {
		d, err := s.deleteChunkOnce(ctx, ids)
		if err == nil || !isRetryableTx(err) || attempt >= max(s.opts.MaxRetries, 0) || ctx.Err() != nil {
			return d, err
		}
		s.log.Debug("retrying a deletion", "attempt", attempt+1, "error", err)
	}
}

func (s *Store) deleteChunkOnce(ctx context.Context, ids func(*sql.Tx) ([]int64, error)) (analytics.Deleted, error) {
	return storeutil.DeleteVisits(ctx, s.db, ids, func(visits []int64) (items, convs, actions, vs storeutil.Stmt) {
		in := int64List(visits)
		return storeutil.Stmt{Query: "DELETE FROM log_conversion_item WHERE idvisit IN (" + in + ")"},
			storeutil.Stmt{Query: "DELETE FROM log_conversion WHERE idvisit IN (" + in + ")"},
			storeutil.Stmt{Query: "DELETE FROM log_link_visit_action WHERE idvisit IN (" + in + ")"},
			storeutil.Stmt{Query: "DELETE FROM log_visit WHERE idvisit IN (" + in + ")"}
	})
}

// visitorIDs returns the ids of the visits of one site that f selects,
// oldest first; lock makes it a locking read.
func visitorIDs(ctx context.Context, tx *sql.Tx, siteID int, f analytics.VisitorFilter, lock bool) ([]int64, error) {
	var parts []string
	var args []any
	if !f.VisitorID.IsZero() {
		parts = append(parts, "SELECT idvisit, visit_first_action_time FROM log_visit WHERE idsite = ? AND idvisitor = ?")
		args = append(args, int64(siteID), f.VisitorID[:])
	}
	if f.UserID != "" {
		parts = append(parts, "SELECT idvisit, visit_first_action_time FROM log_visit WHERE idsite = ? AND user_id = ?")
		args = append(args, int64(siteID), text(f.UserID))
	}
	q := strings.Join(parts, " UNION ")
	if lock {
		// Lock the rows through the primary key (a UNION cannot be
		// locked as a whole).
		q = "SELECT idvisit FROM log_visit WHERE idvisit IN (SELECT idvisit FROM (" + q + ") AS v) ORDER BY visit_first_action_time, idvisit FOR UPDATE"
	} else {
		q = "SELECT idvisit FROM (" + q + ") AS v ORDER BY visit_first_action_time, idvisit"
	}
	return storeutil.QueryIDs(ctx, tx, q, args...)
}

// ExportVisitor returns every stored visit of the visitor (by visitor id
// or stored user id, either matching) with its actions, conversions and
// items, oldest first, read in one REPEATABLE READ snapshot. siteID 0
// means every site (sites in ID order, each oldest first).
func (s *Store) ExportVisitor(ctx context.Context, siteID int, f analytics.VisitorFilter) ([]analytics.VisitDetails, error) {
	op := fmt.Sprintf("export visitor of site %d", siteID)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	sites, err := storeutil.VisitorSites(ctx, s.db, siteID, f, lenUserID)
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	out, err := storeutil.ExportVisits(sites,
		func(site int) ([]int64, error) { return visitorIDs(ctx, tx, site, f, false) },
		func(ids []int64) ([]*analytics.VisitDetails, error) { return s.loadVisits(ctx, tx, ids) })
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return out, nil
}

// DeleteVisitor deletes every stored visit of the visitor (as
// ExportVisitor selects them) with its actions, conversions and items, in
// one transaction. siteID 0 means every site. A batch that a worker
// commits afterwards for a visit of this visitor writes that visit again:
// erase a visitor once it has stopped sending hits.
func (s *Store) DeleteVisitor(ctx context.Context, siteID int, f analytics.VisitorFilter) (analytics.Deleted, error) {
	op := fmt.Sprintf("delete visitor of site %d", siteID)
	if err := s.enter(op); err != nil {
		return analytics.Deleted{}, err
	}
	sites, err := storeutil.VisitorSites(ctx, s.db, siteID, f, lenUserID)
	if err != nil {
		return analytics.Deleted{}, s.wrap(ctx, op, err)
	}
	d, err := s.deleteChunk(ctx, func(tx *sql.Tx) ([]int64, error) {
		return storeutil.SiteVisitIDs(sites, func(site int) ([]int64, error) { return visitorIDs(ctx, tx, site, f, true) })
	})
	if err != nil {
		return analytics.Deleted{}, s.wrap(ctx, op, err)
	}
	return d, nil
}

// ---------------------------------------------------------------------------
// Unused dictionary entries
// ---------------------------------------------------------------------------

// nameRefs lists every column that refers to log_action, per table, with
// the integer key the table is scanned by.
var nameRefs = []struct {
	table, key string
	cols       []string
}{
	{"log_visit", "idvisit", []string{"visit_entry_idaction_url", "visit_entry_idaction_name",
		"visit_exit_idaction_url", "visit_exit_idaction_name"}},
	{"log_link_visit_action", "idlink_va", []string{"idaction_url", "idaction_name", "idaction_url_ref", "idaction_name_ref",
		"idaction_event_category", "idaction_event_action", "idaction_event_name", "idaction_search_keyword",
		"idaction_content_name", "idaction_content_piece", "idaction_content_target", "idaction_content_interaction",
		"idaction_product_sku", "idaction_product_name", "idaction_product_cat", "idaction_product_cat2",
		"idaction_product_cat3", "idaction_product_cat4", "idaction_product_cat5"}},
	{"log_conversion", "idvisit", []string{"idaction_url"}},
	{"log_conversion_item", "idvisit", []string{"idaction_sku", "idaction_name", "idaction_category",
		"idaction_category2", "idaction_category3", "idaction_category4", "idaction_category5"}},
}

// scanStep is how many key values one scan query covers.
const scanStep = 20000

// bitset is a set of dictionary ids.
type bitset []uint64

func newBitset(max uint32) bitset   { return make(bitset, int(max)/64+1) }
func (b bitset) set(id uint32)      { b[id/64] |= 1 << (id % 64) }
func (b bitset) has(id uint32) bool { return b[id/64]&(1<<(id%64)) != 0 }

// usedNames scans every referencing column (in key ranges, without locks)
// and returns the ids up to max that some row refers to.
func (s *Store) usedNames(ctx context.Context, max uint32) (bitset, error) {
	used := newBitset(max)
	for _, r := range nameRefs {
		var lo, hi sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "SELECT MIN("+r.key+"), MAX("+r.key+") FROM "+r.table).Scan(&lo, &hi); err != nil {
			return nil, err
		}
		if !lo.Valid {
			continue
		}
		q := "SELECT " + strings.Join(r.cols, ", ") + " FROM " + r.table + " WHERE " + r.key + " >= ? AND " + r.key + " < ?"
		for from := lo.Int64; from <= hi.Int64; from += scanStep {
			rows, err := s.db.QueryContext(ctx, q, from, from+scanStep)
			if err != nil {
				return nil, err
			}
			vals := make([]sql.NullInt64, len(r.cols))
			dest := make([]any, len(r.cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return nil, err
				}
				for _, v := range vals {
					if v.Valid && v.Int64 > 0 && v.Int64 <= int64(max) {
						used.set(uint32(v.Int64))
					}
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return used, nil
}

// DeleteUnusedNames deletes the dictionary entries that no stored row
// refers to, at most chunk per statement, and reports how many. Workers
// cache dictionary ids, so an entry cannot simply be deleted once a scan
// found it unused: a worker may be about to write a row with its cached
// id. The protocol (SCHEMA.md, "Dictionary pruning"):
//
//  1. scan every referencing column: the candidates are the entries that
//     existed before the scan and are not referred to;
//  2. mark them prune_pending (a writer that looks a marked name up
//     clears the mark before using it);
//  3. bump the dictionary epoch in dict_epoch and in every checkpoint row,
//     in one transaction that waits for the batches in flight: every
//     batch that commits later resolved its names after the marks, since
//     its epoch check fails otherwise and it empties its cache;
//  4. scan again, and clear the mark of every candidate referred to now
//     (by a batch that committed before step 3 with a cached id);
//  5. delete the entries still marked.
//
// It costs two scans of the log tables (in key ranges, no locks) and
// memory for one bit per dictionary id. Concurrent runs are serialized
// with GET_LOCK; a second one waits.
func (s *Store) DeleteUnusedNames(ctx context.Context, chunk int) (int64, error) {
	const op = "delete unused names"
	if err := s.enter(op); err != nil {
		return 0, err
	}
	if err := storeutil.CheckChunk(chunk); err != nil {
		return 0, fmt.Errorf("mysqlstore: %s: %w", op, err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	defer conn.Close()
	lock := strings.Replace(s.lockName(), "footfall_migrate", "footfall_prune", 1)
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", lock, int64(s.opts.MigrateLockTimeout/time.Second)).Scan(&got); err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	if got.Int64 != 1 {
		return 0, fmt.Errorf("mysqlstore: %s: another run holds lock %q: %w", op, lock, analytics.ErrUnavailable)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", lock); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	n, err := s.pruneNames(ctx, chunk)
	if err != nil {
		return n, s.wrap(ctx, op, err)
	}
	return n, nil
}

func (s *Store) pruneNames(ctx context.Context, chunk int) (int64, error) {
	var maxID sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(idaction) FROM log_action").Scan(&maxID); err != nil || !maxID.Valid {
		return 0, err
	}
	max := uint32(maxID.Int64)
	// 1. Candidates.
	used, err := s.usedNames(ctx, max)
	if err != nil {
		return 0, err
	}
	var cand []int64
	rows, err := s.db.QueryContext(ctx, "SELECT idaction FROM log_action WHERE idaction <= ?", int64(max))
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id uint32
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		if !used.has(id) {
			cand = append(cand, int64(id))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(cand) == 0 {
		return 0, nil
	}
	// 2. Mark.
	if err := s.inChunks(ctx, cand, chunk, "UPDATE log_action SET prune_pending = 1 WHERE idaction IN (%s)", nil); err != nil {
		return 0, err
	}
	// 3. Fence.
	epoch, err := s.bumpEpoch(ctx)
	if err != nil {
		return 0, err
	}
	s.names.Reset(epoch)
	// 4. Rescan; unmark what is used now.
	used, err = s.usedNames(ctx, max)
	if err != nil {
		return 0, err
	}
	var keep []int64
	cand = slices.DeleteFunc(cand, func(id int64) bool {
		if used.has(uint32(id)) {
			keep = append(keep, id)
			return true
		}
		return false
	})
	if err := s.inChunks(ctx, keep, chunk, "UPDATE log_action SET prune_pending = 0 WHERE idaction IN (%s)", nil); err != nil {
		return 0, err
	}
	// 5. Delete.
	var deleted int64
	err = s.inChunks(ctx, cand, chunk, "DELETE FROM log_action WHERE idaction IN (%s) AND prune_pending = 1", &deleted)
	if n := len(keep); n > 0 {
		s.log.Debug("names found unused were used again meanwhile", "count", n)
	}
	return deleted, err
}

// inChunks runs q (with %s for an id list) in autocommit statements of at
// most chunk ids, adding the affected rows to n when it is not nil.
func (s *Store) inChunks(ctx context.Context, ids []int64, chunk int, q string, n *int64) error {
	for start := 0; start < len(ids); start += chunk {
		res, err := s.db.ExecContext(ctx, fmt.Sprintf(q, int64List(ids[start:min(start+chunk, len(ids))])))
		if err != nil {
			return err
		}
		if n != nil {
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*n += m
		}
	}
	return nil
}

// bumpEpoch moves the dictionary epoch on, in dict_epoch and every
// checkpoint row, in one transaction (it waits for the batches holding
// checkpoint rows), and returns the new epoch.
func (s *Store) bumpEpoch(ctx context.Context) (uint64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE dict_epoch SET epoch = epoch + 1 WHERE id = 1"); err != nil {
		return 0, err
	}
	epoch, err := s.readEpoch(ctx, tx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE shard_checkpoint SET dict_epoch = ?", epoch); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return epoch, nil
}
