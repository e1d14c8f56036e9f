package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// Checkpoint returns the shard's last applied Position, zero if the shard
// was never written.
func (s *Store) Checkpoint(ctx context.Context, shard string) (analytics.Position, error) {
	if err := s.enter("checkpoint"); err != nil {
		return analytics.Position{}, err
	}
	var hi, lo int64
	err := s.r.checkpoint.QueryRowContext(ctx, shard).Scan(&hi, &lo)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Position{}, nil
	}
	if err != nil {
		return analytics.Position{}, s.wrap(ctx, "checkpoint "+shard, err)
	}
	return analytics.Position{Hi: uint64(hi), Lo: uint64(lo)}, nil
}

// ReserveIDs reserves n consecutive IDs of kind in one short transaction
// on the write connection and returns the first.
func (s *Store) ReserveIDs(ctx context.Context, kind analytics.IDKind, n int) (int64, error) {
	if err := s.enter("reserve ids"); err != nil {
		return 0, err
	}
	if err := storeutil.CheckReserve(kind, n); err != nil {
		return 0, fmt.Errorf("sqlitestore: reserve ids: %w", err)
	}
	var first int64
	if err := s.w.reserve.QueryRowContext(ctx, n, int(kind), n).Scan(&first); err != nil {
		return 0, s.wrap(ctx, "reserve ids", err)
	}
	return first, nil
}

// WriteBatch applies b in one transaction: it compares the shard
// checkpoint with b.From (ErrConflict, writing nothing, when they differ),
// upserts the visits, inserts the actions that are not there yet, the
// conversions that are not duplicates (replacing the open cart of a
// visit), the invalidated days and the new checkpoint b.To, and commits.
// Any failure rolls everything back: an invalid row (ErrInvalid), a
// cancelled ctx, a busy database (ErrUnavailable).
func (s *Store) WriteBatch(ctx context.Context, b *analytics.LogBatch) error {
	if err := s.enter("write batch"); err != nil {
		return err
	}
	op := "write batch " + b.Shard
	if err := storeutil.CheckBatch(b); err != nil {
		if b.Shard == "" {
			op = "write batch"
		}
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	w := batchWriter{s: s, ctx: ctx, sctx: context.WithoutCancel(ctx), tx: tx}
	// The transaction holds the write lock: the dictionary epoch cannot
	// move until COMMIT. A cache from an older epoch may hold ids that
	// DeleteUnusedNames marked: empty it.
	if err := w.stmt(s.w.epochGet).QueryRowContext(w.sctx).Scan(&w.epoch); err != nil {
		return s.wrap(ctx, op, err)
	}
	s.dict.Reset(uint64(w.epoch))
	if err := w.write(b); err != nil {
		return s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, op, err)
	}
	s.dict.Merge(uint64(w.epoch), w.pending)
	return nil
}

// batchWriter writes one LogBatch inside its transaction, in three
// passes: validate every row and collect the names it uses; resolve the
// names the cache lacks with a few multi-row statements; write the rows.
//
// Statements run with sctx, which has no Done channel: the driver then
// skips its per-statement cancellation watcher (a goroutine each). The
// writer checks ctx between rows instead, and database/sql rolls the
// transaction back when ctx ends.
type batchWriter struct {
	s    *Store
	ctx  context.Context
	sctx context.Context
	tx   *sql.Tx

	// ids maps every name of the batch to its dictionary id (0 while
	// unresolved); pending holds the ids this transaction resolved, which
	// enter the cache only after COMMIT.
	ids     map[storeutil.DictKey]int64
	pending map[storeutil.DictKey]int64
	epoch   int64 // the dictionary epoch, read at the start
	rows    int

	actionStmts [1 << actionGroupCount]*sql.Stmt // bound to tx, by parts
	args        []any                            // reused argument list
}

func (w *batchWriter) stmt(st *sql.Stmt) *sql.Stmt { return w.tx.StmtContext(w.sctx, st) }

// tick checks ctx every few rows.
func (w *batchWriter) tick() error {
	w.rows++
	if w.rows%8 == 0 {
		return w.ctx.Err()
	}
	return nil
}

func (w *batchWriter) write(b *analytics.LogBatch) error {
	ctx, s := w.sctx, w.s
	var hi, lo int64
	cur := analytics.Position{}
	err := w.stmt(s.w.checkpointGet).QueryRowContext(ctx, b.Shard).Scan(&hi, &lo)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		cur = analytics.Position{Hi: uint64(hi), Lo: uint64(lo)}
	}
	if cur != b.From {
		return fmt.Errorf("checkpoint is %v, batch is from %v: %w", cur, b.From, analytics.ErrConflict)
	}

	if err := w.collect(b); err != nil {
		return err
	}
	if err := w.resolve(); err != nil {
		return err
	}

	if len(b.Visits) > 0 {
		st := w.stmt(s.w.visitUpsert)
		for i := range b.Visits {
			if err := w.visit(st, &b.Visits[i]); err != nil {
				return fmt.Errorf("visit %d (id %d): %w", i, b.Visits[i].ID, err)
			}
		}
	}
	if len(b.Actions) > 0 {
		for i := range b.Actions {
			if err := w.action(&b.Actions[i]); err != nil {
				return fmt.Errorf("action %d (id %d): %w", i, b.Actions[i].ID, err)
			}
		}
	}
	if len(b.Conversions) > 0 {
		cs := convStmts{insert: w.stmt(s.w.conversionInsert), item: w.stmt(s.w.itemInsert)}
		for i := range b.Conversions {
			if err := w.conversion(&cs, &b.Conversions[i]); err != nil {
				return fmt.Errorf("conversion %d (visit %d, goal %d): %w", i, b.Conversions[i].VisitID, b.Conversions[i].GoalID, err)
			}
		}
	}
	if len(b.Invalidated) > 0 {
		st := w.stmt(s.w.invalidationInsert)
		now := s.now().UnixMilli()
		for i, d := range b.Invalidated {
			if _, err := st.ExecContext(ctx, int64(d.SiteID), d.Day, now); err != nil {
				return fmt.Errorf("invalidated day %d: %w", i, err)
			}
		}
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	_, err = w.stmt(s.w.checkpointSet).ExecContext(ctx, b.Shard, int64(b.To.Hi), int64(b.To.Lo), s.now().UnixMilli())
	return err
}

// need adds a name (checked by storeutil's name walkers) to the batch's
// names.
func (w *batchWriter) need(_ int, typ uint8, name string) {
	if name != "" {
		w.ids[storeutil.DictKey{Type: typ, Name: name}] = 0
	}
}

// id returns the resolved id of a name collected by need.
func (w *batchWriter) id(typ uint8, name string) int64 {
	if name == "" {
		return 0
	}
	return w.ids[storeutil.DictKey{Type: typ, Name: name}]
}

// collect validates every row of b and gathers its names. It writes
// nothing, so an invalid row fails the batch before any statement.
func (w *batchWriter) collect(b *analytics.LogBatch) error {
	w.ids = make(map[storeutil.DictKey]int64, 2*len(b.Actions)+4*len(b.Visits))
	return storeutil.CheckRows(b,
		func(_ int, v *analytics.Visit) error { return storeutil.VisitNames(v, w.need) },
		func(_ int, a *analytics.Action) error { return storeutil.ActionNames(a, w.need) },
		func(_ int, c *analytics.Conversion) error {
			return storeutil.ConversionNames(c, func(_, slot int, typ uint8, name string) { w.need(slot, typ, name) })
		})
}

// dictChunkKinds is the number of sizes of the multi-row dictionary
// statements.
const dictChunkKinds = 3

// dictChunks returns the sizes of the multi-row dictionary statements,
// largest first: n names take n/32 statements of 32, then of 8, then of 1.
func dictChunks() [dictChunkKinds]int { return [...]int{32, 8, 1} }

// resolve gives every collected name its id: from the cache, else by
// inserting it (the common case for a name the cache lacks), else, when
// the insert finds it there already, from log_action. The transaction
// holds the write lock, so nobody adds a name in between.
func (w *batchWriter) resolve() error {
	missing := w.s.dict.Fill(w.ids)
	if len(missing) == 0 {
		return nil
	}
	w.pending = make(map[storeutil.DictKey]int64, len(missing))
	if err := w.dictRun(w.s.w.dictInsert, missing); err != nil {
		return err
	}
	missing = missing[:0]
	for k, id := range w.ids {
		if id == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := w.dictRun(w.s.w.dictSelect, missing); err != nil {
		return err
	}
	found := make([]int64, 0, len(missing))
	for _, k := range missing {
		if w.ids[k] == 0 {
			return fmt.Errorf("dictionary: %q (type %d) neither inserted nor found", k.Name, k.Type)
		}
		found = append(found, w.ids[k])
	}
	// An entry DeleteUnusedNames marked is used again: take it back.
	list, _ := json.Marshal(found)
	_, err := w.tx.ExecContext(w.sctx, "UPDATE log_action SET prune_pending = 0 WHERE prune_pending = 1 AND idaction IN (SELECT value FROM json_each(?))", string(list))
	return err
}

// dictRun runs a dictionary statement (one per chunk size) over keys and
// records the (id, type, name) rows it returns.
func (w *batchWriter) dictRun(stmts [dictChunkKinds]*sql.Stmt, keys []storeutil.DictKey) error {
	args := make([]any, 0, 2*dictChunks()[0])
	for ci, size := range dictChunks() {
		var st *sql.Stmt
		for len(keys) >= size {
			if st == nil {
				st = w.stmt(stmts[ci])
			}
			args = args[:0]
			for _, k := range keys[:size] {
				args = append(args, int64(k.Type), k.Name)
			}
			rows, err := st.QueryContext(w.sctx, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				var k storeutil.DictKey
				if err := rows.Scan(&id, &k.Type, &k.Name); err != nil {
					rows.Close()
					return err
				}
				if _, ok := w.ids[k]; ok {
					w.ids[k] = id
					w.pending[k] = id
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			keys = keys[size:]
		}
	}
	return nil
}

func (w *batchWriter) visit(st *sql.Stmt, v *analytics.Visit) error {
	if err := w.tick(); err != nil {
		return err
	}
	dims, err := dimensionsJSON(v.Dimensions)
	if err != nil {
		return storeutil.Invalid("dimensions: %v", err)
	}
	r, c, l := &v.Referrer, &v.Client, &v.Location
	// Arguments are the driver's own types (int64, float64, string,
	// []byte, nil): anything else costs a conversion by reflection.
	w.args = append(w.args[:0],
		v.ID, int64(v.SiteID), v.VisitorID[:], v.ConfigID[:], v.UserID, storeutil.BoolInt(v.Profilable),
		millis(v.FirstActionTime), millis(v.LastActionTime), int64(v.TotalTime), int64(v.LocalTime),
		int64(v.Actions), int64(v.Interactions), int64(v.Searches), int64(v.Events), int64(v.Pageviews),
		int64(v.VisitCount), int64(v.Returning), v.SecondsSinceFirst, v.SecondsSinceLast, v.SecondsSinceOrder,
		storeutil.BoolInt(v.GoalConverted), int64(v.GoalBuyer),
		w.id(storeutil.DictURL, v.EntryURL), w.id(storeutil.DictTitle, v.EntryTitle), w.id(storeutil.DictURL, v.ExitURL), w.id(storeutil.DictTitle, v.ExitTitle),
		v.LastActionID,
		int64(r.Type), r.Name, r.Keyword, r.URL, r.CampaignSource, r.CampaignMedium, r.CampaignContent, r.CampaignID,
		c.BrowserName, c.BrowserVersion, c.BrowserEngine, c.OSName, c.OSVersion, int64(c.DeviceType),
		c.DeviceBrand, c.DeviceModel, c.Resolution, int64(c.Plugins), c.Lang,
		storeutil.IPBytes(v.IP), l.CountryCode, l.RegionCode, l.RegionName, l.City,
		storeutil.NullFloat(l.Latitude, l.HasCoords), storeutil.NullFloat(l.Longitude, l.HasCoords),
		l.TimeZone, dims)
	_, err = st.ExecContext(w.sctx, w.args...)
	return err
}

func (w *batchWriter) action(a *analytics.Action) error {
	if err := w.tick(); err != nil {
		return err
	}
	dims, err := dimensionsJSON(a.Dimensions)
	if err != nil {
		return storeutil.Invalid("dimensions: %v", err)
	}
	var hit any
	if !a.HitID.IsZero() {
		hit = a.HitID[:]
	}
	parts := storeutil.PartsOf(a)
	args := append(w.args[:0],
		a.ID, hit, a.VisitID, int64(a.SiteID), a.VisitorID[:], millis(a.Time), int64(a.Type),
		w.id(storeutil.ActionURLType(a.Type), a.URL), w.id(storeutil.DictTitle, a.Title), w.id(storeutil.DictURL, a.PrevURL), w.id(storeutil.DictTitle, a.PrevTitle),
		a.PageViewID, int64(a.Position), int64(a.TimeSpentRef), parts, dims)
	if e := a.Event; e != nil {
		args = append(args, w.id(storeutil.DictEventCategory, e.Category), w.id(storeutil.DictEventAction, e.Action), w.id(storeutil.DictEventName, e.Name),
			storeutil.NullFloat(e.Value, e.HasValue))
	}
	if sr := a.Search; sr != nil {
		args = append(args, w.id(storeutil.DictSearch, sr.Keyword), sr.Category, int64(sr.Count))
	}
	if c := a.Content; c != nil {
		args = append(args, w.id(storeutil.DictContentName, c.Name), w.id(storeutil.DictContentPiece, c.Piece),
			w.id(storeutil.DictContentTarget, c.Target), w.id(storeutil.DictContentInteraction, c.Interaction))
	}
	if p := a.Product; p != nil {
		var cats [MaxCategories]any
		w.categories(p.Categories, &cats)
		args = append(args, w.id(storeutil.DictSKU, p.SKU), w.id(storeutil.DictProductName, p.Name), cats[0], cats[1], cats[2], cats[3], cats[4], p.Price)
	}
	if t := a.Timing; t != nil {
		args = append(args, int64(t.Network), int64(t.Server), int64(t.Transfer), int64(t.DOMProcessing),
			int64(t.DOMCompletion), int64(t.OnLoad))
	}
	w.args = args
	st := w.actionStmts[parts]
	if st == nil {
		st = w.stmt(w.s.w.actionInsert[parts])
		w.actionStmts[parts] = st
	}
	_, err = st.ExecContext(w.sctx, args...)
	return err
}

// categories fills the category ids of a list (validated by collect); the
// others stay NULL.
func (w *batchWriter) categories(list []string, out *[MaxCategories]any) {
	for i, c := range list {
		out[i] = w.id(storeutil.DictCategory, c)
	}
}

type convStmts struct{ insert, item, cartItems, cart *sql.Stmt }

func (w *batchWriter) conversion(cs *convStmts, c *analytics.Conversion) error {
	if err := w.tick(); err != nil {
		return err
	}
	ctx := w.sctx
	if c.GoalID == analytics.GoalCart {
		// The open cart is replaced, items first.
		if cs.cart == nil {
			cs.cartItems, cs.cart = w.stmt(w.s.w.cartItemsDelete), w.stmt(w.s.w.cartDelete)
		}
		if _, err := cs.cartItems.ExecContext(ctx, c.VisitID); err != nil {
			return err
		}
		if _, err := cs.cart.ExecContext(ctx, c.VisitID); err != nil {
			return err
		}
	}
	r := &c.Referrer
	var id int64
	err := cs.insert.QueryRowContext(ctx,
		c.VisitID, int64(c.SiteID), c.VisitorID[:], millis(c.Time), int64(c.GoalID), c.Buster, c.OrderID, c.ActionID,
		w.id(storeutil.DictURL, c.URL), c.Revenue, c.Subtotal, c.Tax, c.Shipping, c.Discount, int64(len(c.Items)),
		int64(c.PageviewsBefore), int64(c.VisitCount), int64(c.Returning),
		int64(r.Type), r.Name, r.Keyword, r.URL, r.CampaignSource, r.CampaignMedium, r.CampaignContent, r.CampaignID,
		c.CountryCode).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // a duplicate: left alone, with its items
	}
	if err != nil {
		return err
	}
	for i := range c.Items {
		it := &c.Items[i]
		var cats [MaxCategories]any
		w.categories(it.Categories, &cats)
		if _, err := cs.item.ExecContext(ctx,
			id, int64(i), int64(c.SiteID), c.VisitorID[:], c.VisitID, millis(c.Time), int64(c.GoalID), c.OrderID,
			w.id(storeutil.DictSKU, it.SKU), w.id(storeutil.DictProductName, it.Name),
			cats[0], cats[1], cats[2], cats[3], cats[4], it.Price, int64(it.Quantity), storeutil.BoolInt(it.Deleted)); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}
