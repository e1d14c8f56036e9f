package mysqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// Checkpoint returns the shard's last applied Position, zero if the shard
// was never written.
func (s *Store) Checkpoint(ctx context.Context, shard string) (analytics.Position, error) {
	if err := s.enter("checkpoint"); err != nil {
		return analytics.Position{}, err
	}
	var p analytics.Position
	err := s.db.QueryRowContext(ctx, "SELECT hi, lo FROM shard_checkpoint WHERE shard = ?", text(shard)).Scan(&p.Hi, &p.Lo)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Position{}, nil
	}
	if err != nil {
		return analytics.Position{}, s.wrap(ctx, "checkpoint "+shard, err)
	}
	s.shards.Store(shard, true)
	return p, nil
}

// ReserveIDs reserves n consecutive IDs of kind with one autocommit
// UPDATE (the row lock is held only for that statement) and returns the
// first.
func (s *Store) ReserveIDs(ctx context.Context, kind analytics.IDKind, n int) (int64, error) {
	if err := s.enter("reserve ids"); err != nil {
		return 0, err
	}
	if err := storeutil.CheckReserve(kind, n); err != nil {
		return 0, fmt.Errorf("mysqlstore: reserve ids: %w", err)
	}
	// LAST_INSERT_ID(expr) hands the new value back in the OK packet.
	res, err := s.db.ExecContext(ctx, "UPDATE id_sequence SET next = LAST_INSERT_ID(next + ?) WHERE kind = ?", int64(n), int64(kind))
	if err != nil {
		return 0, s.wrap(ctx, "reserve ids", err)
	}
	end, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap(ctx, "reserve ids", err)
	}
	if m, _ := res.RowsAffected(); m != 1 {
		return 0, fmt.Errorf("mysqlstore: reserve ids: no sequence row for kind %d: %w", kind, ErrSchema)
	}
	return end - int64(n), nil
}

// Internal errors that make WriteBatch try again.
var (
	// errEpoch: the dictionary epoch moved on (DeleteUnusedNames ran); the
	// names are resolved again under the new one.
	errEpoch = errors.New("dictionary epoch changed")
	// errRace: another shard inserted the same order concurrently.
	errRace = errors.New("a conversion was inserted concurrently")
)

// WriteBatch applies b in one transaction: it compares the shard
// checkpoint with b.From and moves it to b.To (ErrConflict, writing
// nothing, when they differ), upserts the visits, inserts the actions not
// stored yet, the conversions that are not duplicates (replacing the open
// cart of a visit) with their items, the invalidated days, and commits.
//
// Dictionary names new to the store are inserted before the transaction,
// in autocommit, so that a batch never holds dictionary locks. Rows go in
// multi-row statements: a batch costs about six round trips whatever its
// size. A deadlock or lock-wait timeout is retried (Options.MaxRetries,
// with jitter); a lost connection returns ErrUnavailable with nothing
// written (the server rolls the transaction back); an invalid row fails
// the batch with ErrInvalid before anything is sent.
func (s *Store) WriteBatch(ctx context.Context, b *analytics.LogBatch) error {
	if err := s.enter("write batch"); err != nil {
		return err
	}
	op := "write batch " + b.Shard
	p, err := newPlan(b)
	if err != nil {
		return fmt.Errorf("mysqlstore: %s: %w", op, err)
	}
	backoff := 5 * time.Millisecond
	epochRetries, retries := 0, 0
	for {
		err := s.writeOnce(ctx, p)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errEpoch) && epochRetries < 3:
			epochRetries++
			continue
		case (isRetryableTx(err) || errors.Is(err, errRace)) && retries < s.opts.MaxRetries && ctx.Err() == nil:
			d := backoff << retries
			d = d/2 + rand.N(d/2+1)
			retries++
			s.log.Debug("retrying batch", "shard", b.Shard, "attempt", retries, "delay", d, "error", err)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return s.wrap(ctx, op, ctx.Err())
			case <-t.C:
			}
			continue
		case errors.Is(err, errRace) || errors.Is(err, errEpoch):
			return fmt.Errorf("mysqlstore: %s: %w: %w", op, analytics.ErrUnavailable, err)
		}
		return s.wrap(ctx, op, err)
	}
}

// stage runs the test hook between statements.
func (s *Store) stage(ctx context.Context, name string, tx *sql.Tx) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(ctx, name, tx)
}

// fastPathMaxBytes bounds the size of the one multi-statement of the fast
// path; a larger batch takes the slow path, statement by statement.
const fastPathMaxBytes = 4 << 20

// writeOnce is one attempt of WriteBatch: the names first (autocommit),
// then the transaction, on the fast path when it can.
func (s *Store) writeOnce(ctx context.Context, p *plan) error {
	epoch, err := s.resolveNames(ctx, p.keys, p.ids)
	if err != nil {
		return err
	}
	if !p.slow && s.hook == nil && s.knownShard(p.b.Shard) {
		err := s.writeFast(ctx, p, epoch)
		if !errors.Is(err, errSlowPath) {
			return err
		}
		p.slow = true
	}
	if err := s.writeSlow(ctx, p, epoch); err != nil {
		return err
	}
	s.shards.Store(p.b.Shard, true)
	return nil
}

// knownShard reports whether the shard's checkpoint row is known to exist
// (rows are never deleted): only then may the fast path run, because its
// guard against a missing row is not reliable when the client disconnects.
func (s *Store) knownShard(shard string) bool {
	_, ok := s.shards.Load(shard)
	return ok
}

// errSlowPath: the fast path cannot write this batch (the checkpoint did
// not match or does not exist, a conversion is a duplicate, the batch is
// too big); the slow path writes it or says why not.
var errSlowPath = errors.New("slow path")

// writeFast sends the transaction in two round trips: one multi-statement
// with everything but the COMMIT, then the COMMIT:
//
//	START TRANSACTION;
//	UPDATE shard_checkpoint SET ts_updated = IF(<checkpoint is From and the epoch current>, now, NULL), hi = …, lo = …
//	  WHERE shard = …;                          -- NULL into NOT NULL: error 1048 when it does not match
//	INSERT INTO shard_checkpoint … SELECT … NULL … WHERE ROW_COUNT() = 0;   -- error 1048 if the row is missing
//	DELETE the replaced carts; INSERT visits … ON DUPLICATE KEY UPDATE; INSERT actions …;
//	INSERT conversions (no IGNORE: a duplicate is error 1062); INSERT items; INSERT IGNORE invalidations
//
// The server stops at the first failing statement; the transaction is then
// rolled back and errors 1048 and 1062 send the batch to the slow path,
// which diagnoses a conflict, or skips duplicate conversions.
//
// COMMIT is separate because a server goes on executing a multi-statement
// after its client has gone (a cancelled context closes the connection):
// without COMMIT in it, such a transaction can only be rolled back when
// the server finds the connection closed. The fast path runs only for
// shards whose checkpoint row is known to exist, for the same reason:
// ROW_COUNT() is not reliable once the client has gone.
func (s *Store) writeFast(ctx context.Context, p *plan, epoch uint64) error {
	e := &batchExec{ctx: ctx, p: p, now: s.now().UTC(), bufs: &s.bufs}
	b := p.b
	parts := [][]stmt{
		{{sql: "START TRANSACTION"}},
		{{sql: literalSQL(`UPDATE shard_checkpoint SET ts_updated = IF(hi = ? AND lo = ? AND dict_epoch = ?, ?, NULL), hi = ?, lo = ?
			WHERE shard = ?`, b.From.Hi, b.From.Lo, epoch, e.now, b.To.Hi, b.To.Lo, text(b.Shard))}},
		{{sql: literalSQL(`INSERT INTO shard_checkpoint (shard, hi, lo, dict_epoch, ts_updated)
			SELECT '', NULL, 0, 0, ? FROM DUAL WHERE ROW_COUNT() = 0`, e.now)}},
		e.cartDeletes(),
		e.visits(),
		e.actions(),
	}
	convs, items := e.conversionInserts(p.allConversions(), false)
	parts = append(parts, convs, items, e.invalidations())
	if s.fastPause != "" {
		parts = append(parts, []stmt{{sql: s.fastPause}})
	}
	size := 0
	for _, part := range parts {
		for _, st := range part {
			size += len(st.sql) + 2
			if len(st.args) > 0 {
				panic("mysqlstore: a fast-path statement with arguments: " + st.sql)
			}
		}
	}
	if size > fastPathMaxBytes {
		return errSlowPath
	}
	var q strings.Builder
	q.Grow(size)
	for _, part := range parts {
		for _, st := range part {
			if q.Len() > 0 {
				q.WriteString(";\n")
			}
			q.WriteString(st.sql)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// No arguments: the driver sends the text as it is (the values are
	// literals already), without scanning it for placeholders.
	_, err = conn.ExecContext(ctx, q.String())
	if err == nil {
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
	}
	// Never hand a connection with an open transaction back to the pool.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	if n := mysqlErr(err); n == errBadNull || n == errDupEntry {
		return errSlowPath
	}
	return err
}

// writeSlow runs the transaction statement by statement (with the test
// hook between them).
func (s *Store) writeSlow(ctx context.Context, p *plan, epoch uint64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.moveCheckpoint(ctx, tx, p.b, epoch); err != nil {
		return err
	}
	if err := s.stage(ctx, "checkpoint", tx); err != nil {
		return err
	}
	e := &batchExec{ctx: ctx, tx: tx, p: p, now: s.now().UTC(), bufs: &s.bufs}
	if _, err := e.exec(e.visits()); err != nil {
		return fmt.Errorf("visits: %w", err)
	}
	if err := s.stage(ctx, "visits", tx); err != nil {
		return err
	}
	if _, err := e.exec(e.actions()); err != nil {
		return fmt.Errorf("actions: %w", err)
	}
	if err := s.stage(ctx, "actions", tx); err != nil {
		return err
	}
	if err := e.conversions(); err != nil {
		return err
	}
	if err := s.stage(ctx, "conversions", tx); err != nil {
		return err
	}
	if _, err := e.exec(e.invalidations()); err != nil {
		return fmt.Errorf("invalidations: %w", err)
	}
	if err := s.stage(ctx, "commit", tx); err != nil {
		return err
	}
	return tx.Commit()
}

// moveCheckpoint is the compare-and-set of the shard checkpoint, the first
// statement of the transaction: it locks the shard row until COMMIT, so a
// stale writer of the same shard waits and then fails.
func (s *Store) moveCheckpoint(ctx context.Context, tx *sql.Tx, b *analytics.LogBatch, epoch uint64) error {
	shard := text(b.Shard)
	now := s.now().UTC()
	res, err := tx.ExecContext(ctx, `UPDATE shard_checkpoint SET hi = ?, lo = ?, ts_updated = ?
		WHERE shard = ? AND hi = ? AND lo = ? AND dict_epoch = ?`,
		b.To.Hi, b.To.Lo, now, shard, b.From.Hi, b.From.Lo, epoch)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var cur analytics.Position
	var curEpoch uint64
	err = tx.QueryRowContext(ctx, "SELECT hi, lo, dict_epoch FROM shard_checkpoint WHERE shard = ?", shard).Scan(&cur.Hi, &cur.Lo, &curEpoch)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if !b.From.IsZero() {
			return fmt.Errorf("checkpoint is %v, batch is from %v: %w", analytics.Position{}, b.From, analytics.ErrConflict)
		}
		// A new shard: its row takes the current epoch, read with a shared
		// lock so that DeleteUnusedNames waits for this transaction.
		var e uint64
		if err := tx.QueryRowContext(ctx, "SELECT epoch FROM dict_epoch WHERE id = 1 LOCK IN SHARE MODE").Scan(&e); err != nil {
			return err
		}
		if e != epoch {
			s.names.Reset(e)
			return errEpoch
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO shard_checkpoint (shard, hi, lo, dict_epoch, ts_updated) VALUES (?, ?, ?, ?, ?)",
			shard, b.To.Hi, b.To.Lo, epoch, now)
		if mysqlErr(err) == errDupEntry {
			return fmt.Errorf("another writer created the checkpoint of the shard: %w", analytics.ErrConflict)
		}
		return err
	case err != nil:
		return err
	case cur != b.From:
		return fmt.Errorf("checkpoint is %v, batch is from %v: %w", cur, b.From, analytics.ErrConflict)
	case curEpoch != epoch:
		s.names.Reset(curEpoch)
		return errEpoch
	}
	return fmt.Errorf("checkpoint %v did not move: %w", cur, analytics.ErrConflict)
}

// ---------------------------------------------------------------------------
// The plan: a validated batch with its dictionary names collected
// ---------------------------------------------------------------------------

// nameRef refers to a dictionary name of a plan: refNull (absent, NULL),
// refEmpty (the empty string, id 0) or a slot of plan.keys.
type nameRef int32

const (
	refNull  nameRef = -2
	refEmpty nameRef = -1
)

type plan struct {
	b *analytics.LogBatch
	// slow sends the batch statement by statement (after the fast path
	// failed on it once).
	slow bool
	keys []storeutil.DictKey
	slot map[storeutil.DictKey]nameRef
	ids  []uint32 // per slot, filled by resolveNames

	visits  []planVisit
	actions []planAction
	// convs are the conversions to insert: goals and orders deduplicated
	// within the batch (first wins), the last cart of each visit.
	convs      []planConv
	cartVisits []int64
	inval      []analytics.SiteDay
}

type planVisit struct {
	v    *analytics.Visit
	dims any
	refs [storeutil.VisitSlots]nameRef // by storeutil.VisitEntryURL …
}

type planAction struct {
	a     *analytics.Action
	dims  any
	parts int64
	refs  [storeutil.ActionSlots]nameRef // by storeutil.ActionURL …
}

type planConv struct {
	c     *analytics.Conversion
	url   nameRef
	items []planItem
}

type planItem struct {
	refs [storeutil.ItemSlots]nameRef // by storeutil.ItemSKU …
}

// ref returns the reference of a name (checked by storeutil's name
// walkers), adding it to the plan.
func (p *plan) ref(typ uint8, name string) nameRef {
	if name == "" {
		return refEmpty
	}
	k := storeutil.DictKey{Type: typ, Name: name}
	if r, ok := p.slot[k]; ok {
		return r
	}
	r := nameRef(len(p.keys))
	p.keys = append(p.keys, k)
	p.slot[k] = r
	return r
}

// id returns the column value of a reference.
func (p *plan) id(r nameRef) any {
	switch r {
	case refNull:
		return nil
	case refEmpty:
		return int64(0)
	}
	return int64(p.ids[r])
}

// newPlan validates b and collects its names. Every check happens here,
// before anything is sent: storeutil's (the contract's), then the limits
// of the columns.
func newPlan(b *analytics.LogBatch) (*plan, error) {
	if len(b.Shard) > lenShard {
		return nil, storeutil.Invalid("shard name of %d bytes, longer than %d", len(b.Shard), lenShard)
	}
	if err := storeutil.CheckBatch(b); err != nil {
		return nil, err
	}
	// About two distinct names per action and visit: no map growth.
	nnames := 2*len(b.Actions) + len(b.Visits)
	p := &plan{b: b, slot: make(map[storeutil.DictKey]nameRef, nnames), keys: make([]storeutil.DictKey, 0, nnames)}
	p.visits = make([]planVisit, len(b.Visits))
	p.actions = make([]planAction, len(b.Actions))
	seen := map[convKey]int{} // index in p.convs
	err := storeutil.CheckRows(b,
		func(i int, v *analytics.Visit) error { return p.visit(&p.visits[i], v) },
		func(i int, a *analytics.Action) error { return p.action(&p.actions[i], a) },
		func(_ int, c *analytics.Conversion) error { return p.conversion(c, seen) })
	if err != nil {
		return nil, err
	}
	slices.Sort(p.cartVisits)
	// Sorted, so that writers of different shards lock shared rows in
	// the same order.
	p.inval = slices.Clone(b.Invalidated)
	slices.SortFunc(p.inval, func(x, y analytics.SiteDay) int {
		return cmp.Or(cmp.Compare(x.SiteID, y.SiteID), strings.Compare(x.Day, y.Day))
	})
	p.inval = slices.Compact(p.inval)
	p.ids = make([]uint32, len(p.keys))
	return p, nil
}

func (p *plan) visit(pv *planVisit, v *analytics.Visit) error {
	pv.v = v
	for _, t := range []time.Time{v.FirstActionTime, v.LastActionTime} {
		if err := checkTime(t); err != nil {
			return storeutil.Invalid("%v", err)
		}
	}
	c, l := &v.Client, &v.Location
	checks := append(referrerChecks(&v.Referrer),
		lengthCheck{"user id", v.UserID, lenUserID},
		lengthCheck{"browser name", c.BrowserName, lenClient}, lengthCheck{"browser version", c.BrowserVersion, lenClient},
		lengthCheck{"browser engine", c.BrowserEngine, lenClient}, lengthCheck{"os name", c.OSName, lenClient},
		lengthCheck{"os version", c.OSVersion, lenClient}, lengthCheck{"device brand", c.DeviceBrand, lenClient},
		lengthCheck{"device model", c.DeviceModel, lenClient}, lengthCheck{"resolution", c.Resolution, lenClient},
		lengthCheck{"language", c.Lang, lenClient},
		lengthCheck{"country", l.CountryCode, lenCountry}, lengthCheck{"region", l.RegionCode, lenRegion},
		lengthCheck{"region name", l.RegionName, lenRegionName}, lengthCheck{"city", l.City, lenCity},
		lengthCheck{"time zone", l.TimeZone, lenTimezone})
	if err := checkLengths(checks...); err != nil {
		return err
	}
	if err := storeutil.VisitNames(v, func(slot int, typ uint8, name string) { pv.refs[slot] = p.ref(typ, name) }); err != nil {
		return err
	}
	dims, err := dimensionsJSON(v.Dimensions)
	if err != nil {
		return storeutil.Invalid("dimensions: %v", err)
	}
	pv.dims = dims
	return nil
}

func (p *plan) action(pa *planAction, a *analytics.Action) error {
	pa.a = a
	if err := checkTime(a.Time); err != nil {
		return storeutil.Invalid("%v", err)
	}
	if err := checkLengths(lengthCheck{"page view id", a.PageViewID, lenPageViewID}); err != nil {
		return err
	}
	if sr := a.Search; sr != nil {
		if err := checkLengths(lengthCheck{"search category", sr.Category, lenSearchCat}); err != nil {
			return err
		}
	}
	for i := range pa.refs {
		pa.refs[i] = refNull
	}
	if err := storeutil.ActionNames(a, func(slot int, typ uint8, name string) { pa.refs[slot] = p.ref(typ, name) }); err != nil {
		return err
	}
	pa.parts = storeutil.PartsOf(a)
	dims, err := dimensionsJSON(a.Dimensions)
	if err != nil {
		return storeutil.Invalid("dimensions: %v", err)
	}
	pa.dims = dims
	return nil
}

// convKey identifies a conversion for deduplication: orders by site and
// order id, everything else by visit, goal and buster.
type convKey struct {
	order  bool
	site   int
	visit  int64
	goal   int
	buster int64
	id     string
}

func keyOf(c *analytics.Conversion) convKey {
	if c.GoalID == analytics.GoalEcommerceOrder {
		return convKey{order: true, site: c.SiteID, id: c.OrderID}
	}
	return convKey{visit: c.VisitID, goal: c.GoalID, buster: c.Buster}
}

// conversion checks c, collects its names and adds it to the plan unless
// it duplicates one the batch has already (seen: its index in p.convs).
func (p *plan) conversion(c *analytics.Conversion, seen map[convKey]int) error {
	if err := checkTime(c.Time); err != nil {
		return storeutil.Invalid("%v", err)
	}
	checks := append(referrerChecks(&c.Referrer),
		lengthCheck{"order id", c.OrderID, lenOrderID}, lengthCheck{"country", c.CountryCode, lenCountry})
	if err := checkLengths(checks...); err != nil {
		return err
	}
	if len(c.Items) > 65535 {
		return storeutil.Invalid("%d items, more than 65535", len(c.Items))
	}
	pc := planConv{c: c, items: make([]planItem, len(c.Items))}
	for i := range pc.items {
		for j := range pc.items[i].refs {
			pc.items[i].refs[j] = refNull
		}
	}
	if err := storeutil.ConversionNames(c, func(item, slot int, typ uint8, name string) {
		if item < 0 {
			pc.url = p.ref(typ, name)
			return
		}
		pc.items[item].refs[slot] = p.ref(typ, name)
	}); err != nil {
		return err
	}
	k := keyOf(c)
	j, dup := seen[k]
	switch {
	case dup && c.GoalID == analytics.GoalCart:
		p.convs[j] = pc // the last cart of a visit wins
	case dup:
		// A later duplicate of the batch is left alone, as one of the store.
	default:
		seen[k] = len(p.convs)
		p.convs = append(p.convs, pc)
		if c.GoalID == analytics.GoalCart {
			p.cartVisits = append(p.cartVisits, c.VisitID)
		}
	}
	return nil
}
