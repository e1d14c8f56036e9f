package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	analytics "github.com/footfall/analytics"
)

// sessState is the worker's state of one visitor: the last visit (open
// or not) plus what the visit row does not say.
type sessState struct {
	v analytics.Visit
	// goals converted in this visit and orders recorded in it (complete
	// only when full: built by this processor, not loaded from the store).
	goals  []int
	orders []string
	// lastOrder is the visitor's last order time; zero unknown or none.
	lastOrder time.Time
	full      bool

	dirty bool // in sessBatch.touched
}

// clone returns a copy that can be changed without touching s.
func (s *sessState) clone() *sessState {
	c := *s
	c.goals = slices.Clip(s.goals)
	c.orders = slices.Clip(s.orders)
	c.dirty = false
	return &c
}

// sessBatch builds the LogBatch of one delivery. It works on copies of the
// shard's cached states (overlay); install puts them into the cache once
// the batch is committed, so a failed batch leaves the cache as it was.
type sessBatch struct {
	p  *Processor
	sh *procShard
	lb analytics.LogBatch

	overlay map[analytics.VisitorMatch]*sessState
	touched []*sessState
	invalid map[analytics.SiteDay]struct{}
	today   map[int]procDay

	written                       bool
	excluded, discarded, received int
}

func newSessBatch(p *Processor, sh *procShard, from, to analytics.Position) *sessBatch {
	return &sessBatch{
		p:       p,
		sh:      sh,
		lb:      analytics.LogBatch{Shard: sh.name, From: from, To: to},
		overlay: make(map[analytics.VisitorMatch]*sessState),
	}
}

func (b *sessBatch) empty() bool {
	return len(b.lb.Visits) == 0 && len(b.lb.Actions) == 0 && len(b.lb.Conversions) == 0 && len(b.lb.Invalidated) == 0
}

// install makes the batch's states the shard's cached states and moves the
// checkpoint (when the batch was written).
func (b *sessBatch) install() {
	for k, st := range b.overlay {
		if st != nil { // nil: prefetched "no visit" for a visitor whose hits opened none (pings)
			b.sh.put(k, st)
		}
	}
	if b.written {
		b.sh.setCheckpoint(b.lb.To)
	}
}

func (b *sessBatch) addInfo(info *BatchInfo) {
	info.Excluded += b.excluded
	info.Discarded += b.discarded
	info.Visits += len(b.lb.Visits)
	info.Actions += len(b.lb.Actions)
	info.Conversions += len(b.lb.Conversions)
}

// build enriches and sessionizes hits into b.lb: first every hit is
// enriched (that needs no visit state), then the visitors that are neither
// in this batch nor in the shard cache are looked up in one store round
// trip when the store can (analytics.BatchVisitFinder), then the hits are
// sessionized in order.
func (b *sessBatch) build(ctx context.Context, hits []analytics.Hit) error {
	phs := b.p.hitBuf(len(hits))
	defer b.p.putHitBuf(phs)
	keep := make([]bool, len(hits))
	// Each hit records at most one action: one allocation, not append's
	// doublings (an Action is some 400 bytes).
	b.lb.Actions = make([]analytics.Action, 0, len(hits))
	for i := range hits {
		k, err := b.enrichOne(ctx, &hits[i], &phs[i])
		if err != nil {
			return err
		}
		keep[i] = k
	}
	if err := b.prefetch(ctx, phs, keep); err != nil {
		return &procReadError{err}
	}
	for i := range hits {
		if keep[i] {
			if err := b.sessionizeOne(ctx, &phs[i]); err != nil {
				return err
			}
		}
	}
	b.lb.Visits = make([]analytics.Visit, 0, len(b.touched))
	for _, st := range b.touched {
		b.lb.Visits = append(b.lb.Visits, st.v)
	}
	if len(b.invalid) > 0 {
		b.lb.Invalidated = make([]analytics.SiteDay, 0, len(b.invalid))
		for sd := range b.invalid {
			b.lb.Invalidated = append(b.lb.Invalidated, sd)
		}
		slices.SortFunc(b.lb.Invalidated, func(x, y analytics.SiteDay) int {
			if x.SiteID != y.SiteID {
				return x.SiteID - y.SiteID
			}
			if x.Day < y.Day {
				return -1
			}
			if x.Day > y.Day {
				return 1
			}
			return 0
		})
	}
	return nil
}

// enrichOne enriches one hit and reports whether it is to be sessionized
// (false: excluded, counted and logged here). A panic on strange input
// becomes an error of that hit (so isolation can skip it) instead of
// killing the worker.
func (b *sessBatch) enrichOne(ctx context.Context, h *analytics.Hit, ph *procHit) (keep bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			keep, err = false, fmt.Errorf("ingest: processor: hit %s: panic: %v: %w", h.ID, r, analytics.ErrInvalid)
		}
	}()
	reason, err := b.p.enrich(ctx, h, ph)
	if err != nil {
		return false, &procReadError{err}
	}
	if reason != "" {
		b.excluded++
		if reason == procExclUnknownSite {
			if b.p.logLimit.allow("site " + strconv.Itoa(h.SiteID)) {
				b.p.log.Warn("hits for an unknown site dropped (logged once a minute)", "site", h.SiteID, "hit", h.ID.String())
			}
		} else {
			b.p.log.Trace("hit excluded", "reason", reason, "site", h.SiteID, "hit", h.ID.String())
		}
		return false, nil
	}
	return true, nil
}

// sessionizeOne sessionizes one enriched hit; a panic is the hit's error,
// as in enrichOne.
func (b *sessBatch) sessionizeOne(ctx context.Context, ph *procHit) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ingest: processor: hit %s: panic: %v: %w", ph.hit.ID, r, analytics.ErrInvalid)
		}
	}()
	if err := b.sessionize(ctx, ph); err != nil {
		return &procReadError{err}
	}
	return nil
}

// prefetch looks up, in one round trip, the last visits of the visitors of
// phs that are neither in this batch nor in the shard cache, when the store
// is an analytics.BatchVisitFinder. A visitor without a visit is recorded
// as such (a nil state), so lookup does not ask again.
func (b *sessBatch) prefetch(ctx context.Context, phs []procHit, keep []bool) error {
	finder, ok := b.p.o.Store.(analytics.BatchVisitFinder)
	if !ok {
		return nil
	}
	var ms []analytics.VisitorMatch
	seen := make(map[analytics.VisitorMatch]bool)
	for i := range phs {
		ph := &phs[i]
		if !keep[i] || ph.noTrack || seen[ph.match] {
			continue
		}
		seen[ph.match] = true
		if _, ok := b.overlay[ph.match]; ok {
			continue
		}
		if b.sh.get(ph.match) != nil {
			continue
		}
		ms = append(ms, ph.match)
	}
	if len(ms) == 0 {
		return nil
	}
	found, err := finder.LastVisits(ctx, ms)
	if err != nil {
		return fmt.Errorf("ingest: processor: last visits: %w", err)
	}
	for _, m := range ms {
		if v, ok := found[m]; ok {
			b.overlay[m] = &sessState{v: v}
		} else {
			b.overlay[m] = nil
		}
	}
	return nil
}

// procReadError is a failure of a store read while a batch is built (sites,
// salts, last visits, IDs). It is not the hit's fault, so it never leads to
// isolating and dead-lettering hits: the delivery goes back to the queue.
type procReadError struct{ err error }

func (e *procReadError) Error() string { return e.err.Error() }
func (e *procReadError) Unwrap() error { return e.err }

// lookup returns the visitor's state: from this batch, the shard cache or
// the store (nil when the visitor has no visit).
func (b *sessBatch) lookup(ctx context.Context, m analytics.VisitorMatch) (*sessState, error) {
	if st, ok := b.overlay[m]; ok {
		return st, nil
	}
	if st := b.sh.get(m); st != nil {
		c := st.clone()
		b.overlay[m] = c
		return c, nil
	}
	v, err := b.p.o.Store.LastVisit(ctx, m)
	if errors.Is(err, analytics.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: processor: last visit: %w", err)
	}
	st := &sessState{v: v}
	b.overlay[m] = st
	return st, nil
}

// needsNewVisit applies Matomo's new-visit rules to a hit of a known
// visitor.
func (b *sessBatch) needsNewVisit(st *sessState, ph *procHit) bool {
	o := &b.p.o
	v := &st.v
	switch {
	case ph.hit.Has(analytics.FlagNewVisit):
		return true
	case ph.t.Sub(v.LastActionTime) > o.VisitLength:
		return true
	case v.FirstActionTime.Sub(ph.t) > o.VisitLength:
		// Far before the visit (an out-of-order import): not this visit.
		return true
	case !o.DisableNewVisitAtMidnight && procDayOf(v.LastActionTime, ph.site.loc) != ph.day:
		return true
	case v.Actions >= o.MaxActionsPerVisit:
		return true
	case !o.DisableNewVisitOnCampaignChange && ph.ref.Type == analytics.ReferrerCampaign &&
		(v.Referrer.Type != analytics.ReferrerCampaign || v.Referrer.Name != ph.ref.Name || v.Referrer.Keyword != ph.ref.Keyword):
		return true
	case o.NewVisitOnReferrerChange && ph.ref.Type == analytics.ReferrerWebsite &&
		(v.Referrer.Type != analytics.ReferrerWebsite || v.Referrer.Name != ph.ref.Name):
		return true
	}
	return false
}

func (b *sessBatch) touch(st *sessState) {
	if !st.dirty {
		st.dirty = true
		b.touched = append(b.touched, st)
	}
}

// sessionize puts ph into a visit (existing or new) and records its
// action and conversions.
func (b *sessBatch) sessionize(ctx context.Context, ph *procHit) error {
	var prev *sessState
	if !ph.noTrack {
		var err error
		if prev, err = b.lookup(ctx, ph.match); err != nil {
			return err
		}
	}
	isNew := prev == nil || ph.noTrack || b.needsNewVisit(prev, ph)
	if isNew && ph.kind == analytics.KindPing {
		b.discarded++ // a ping never opens a visit
		return nil
	}

	var st *sessState
	var spent int
	lastBefore := ph.t
	if isNew {
		var err error
		if st, err = b.newVisit(ctx, ph, prev); err != nil {
			return err
		}
		if !ph.noTrack {
			b.overlay[ph.match] = st
		}
	} else {
		st = prev
		v := &st.v
		lastBefore = v.LastActionTime
		spent = int(min(max(ph.t.Sub(lastBefore), 0), b.p.o.VisitLength) / time.Second)
		if ph.t.After(v.LastActionTime) {
			v.LastActionTime = ph.t
		}
		v.TotalTime = max(v.TotalTime, 1+int(v.LastActionTime.Sub(v.FirstActionTime)/time.Second))
		if ph.userID != "" {
			v.UserID = ph.userID
		}
		if len(ph.dims) > 0 {
			v.Dimensions = procMergeDims(v.Dimensions, ph.dims)
		}
	}
	b.touch(st)
	b.lateData(ph)

	if at, ok := procActionType(ph.kind); ok {
		id, err := b.p.ids.get(ctx, analytics.IDAction)
		if err != nil {
			return err
		}
		b.recordAction(st, ph, at, id, spent, !ph.t.Before(lastBefore))
		if len(ph.site.autoGoals) > 0 {
			b.matchGoals(st, ph, at, id)
		}
	}

	switch ph.kind {
	case analytics.KindGoal:
		g := ph.site.goals[ph.hit.GoalID]
		if g == nil {
			b.discarded++
			b.p.log.Debug("conversion of unknown goal ignored", "site", ph.site.ID, "goal", ph.hit.GoalID, "hit", ph.hit.ID.String())
			return nil
		}
		b.convert(st, ph, g, st.v.LastActionID, procRevenue(ph.hit, g))
	case analytics.KindEcommerceOrder, analytics.KindCartUpdate:
		b.ecommerce(st, ph)
	}
	return nil
}

// newVisit opens a visit for ph; prev is the visitor's previous visit.
func (b *sessBatch) newVisit(ctx context.Context, ph *procHit, prev *sessState) (*sessState, error) {
	id, err := b.p.ids.get(ctx, analytics.IDVisit)
	if err != nil {
		return nil, err
	}
	st := &sessState{full: true}
	st.v = analytics.Visit{
		ID:                id,
		SiteID:            ph.site.ID,
		VisitorID:         ph.visitorID,
		ConfigID:          ph.configID,
		UserID:            ph.userID,
		Profilable:        ph.profilable,
		FirstActionTime:   ph.t,
		LastActionTime:    ph.t,
		LocalTime:         ph.localTime,
		VisitCount:        1,
		SecondsSinceOrder: -1,
		Referrer:          ph.ref,
		Client:            ph.client,
		Location:          b.p.locate(ph.hit),
		IP:                ph.ip,
		Dimensions:        ph.dims,
	}
	if prev == nil {
		return st, nil
	}
	pv := &prev.v
	v := &st.v
	v.VisitCount = pv.VisitCount + 1
	v.Returning = 1
	firstVisit := pv.FirstActionTime.Add(-time.Duration(pv.SecondsSinceFirst) * time.Second)
	v.SecondsSinceFirst = max(int64(ph.t.Sub(firstVisit)/time.Second), 0)
	v.SecondsSinceLast = max(int64(ph.t.Sub(pv.LastActionTime)/time.Second), 0)
	lastOrder := prev.lastOrder
	if lastOrder.IsZero() {
		switch {
		case pv.GoalBuyer&1 != 0:
			lastOrder = pv.LastActionTime // ordered in that visit; the exact time is not in the row
		case pv.SecondsSinceOrder >= 0:
			lastOrder = pv.FirstActionTime.Add(-time.Duration(pv.SecondsSinceOrder) * time.Second)
		}
	}
	if !lastOrder.IsZero() {
		v.Returning = 2
		v.SecondsSinceOrder = max(int64(ph.t.Sub(lastOrder)/time.Second), 0)
		st.lastOrder = lastOrder
	}
	return st, nil
}

// procActionType is the stored action type of a hit kind; false for kinds
// that record no action (goals, ecommerce, pings, custom).
func procActionType(k analytics.HitKind) (analytics.ActionType, bool) {
	switch k {
	case analytics.KindPageview:
		return analytics.ActionPageview, true
	case analytics.KindEvent:
		return analytics.ActionEvent, true
	case analytics.KindSiteSearch:
		return analytics.ActionSiteSearch, true
	case analytics.KindOutlink:
		return analytics.ActionOutlink, true
	case analytics.KindDownload:
		return analytics.ActionDownload, true
	case analytics.KindContentImpression:
		return analytics.ActionContentImpression, true
	case analytics.KindContentInteraction:
		return analytics.ActionContentInteraction, true
	}
	return 0, false
}

// recordAction appends the action of ph and updates the visit counters.
// inOrder is false for a hit older than the visit's last action: it counts
// but does not become the exit page or the last action.
func (b *sessBatch) recordAction(st *sessState, ph *procHit, at analytics.ActionType, id int64, spent int, inOrder bool) {
	v := &st.v
	h := ph.hit
	a := analytics.Action{
		ID:           id,
		HitID:        h.ID,
		VisitID:      v.ID,
		SiteID:       v.SiteID,
		VisitorID:    v.VisitorID,
		Time:         ph.t,
		Type:         at,
		URL:          ph.url,
		Title:        ph.title,
		PrevURL:      v.ExitURL,
		PrevTitle:    v.ExitTitle,
		PageViewID:   h.PageViewID,
		TimeSpentRef: spent,
		Event:        ph.event,
		Search:       ph.search,
		Content:      ph.content,
		Product:      ph.product,
		Timing:       h.Timing,
		Dimensions:   ph.dims,
	}
	switch at {
	case analytics.ActionPageview:
		v.Actions++
		v.Interactions++
		v.Pageviews++
		if v.EntryURL == "" && v.EntryTitle == "" {
			v.EntryURL, v.EntryTitle = ph.url, ph.title
		}
		if inOrder {
			v.ExitURL, v.ExitTitle = ph.url, ph.title
		}
	case analytics.ActionSiteSearch:
		v.Actions++
		v.Interactions++
		v.Searches++
	case analytics.ActionEvent:
		v.Actions++
		v.Events++
	case analytics.ActionOutlink, analytics.ActionDownload:
		v.Actions++
		if ph.link != "" {
			a.URL = ph.link
		}
	case analytics.ActionContentInteraction:
		v.Actions++
	}
	a.Position = v.Pageviews
	if inOrder {
		v.LastActionID = id
	}
	b.lb.Actions = append(b.lb.Actions, a)
}

// matchGoals converts the site's URL/title/file/outlink/event goals that
// the action matches.
func (b *sessBatch) matchGoals(st *sessState, ph *procHit, at analytics.ActionType, actionID int64) {
	for _, g := range ph.site.autoGoals {
		var s string
		switch g.Match {
		case "url":
			if at == analytics.ActionPageview || at == analytics.ActionSiteSearch {
				s = ph.url
			}
		case "title":
			if at == analytics.ActionPageview {
				s = ph.title
			}
		case "file":
			if at == analytics.ActionDownload {
				s = ph.link
			}
		case "external_website":
			if at == analytics.ActionOutlink {
				s = ph.link
			}
		case "event_category", "event_action", "event_name":
			if at == analytics.ActionEvent && ph.event != nil {
				switch g.Match {
				case "event_category":
					s = ph.event.Category
				case "event_action":
					s = ph.event.Action
				default:
					s = ph.event.Name
				}
			}
		}
		if g.matches(s) {
			b.convert(st, ph, g, actionID, procRevenue(ph.hit, g))
		}
	}
}

// convert records a goal conversion: once per visit unless the goal
// allows several, in which case the hit decides the buster, so a
// redelivered hit cannot convert twice.
func (b *sessBatch) convert(st *sessState, ph *procHit, g *procGoal, actionID int64, revenue float64) {
	var buster int64
	if g.AllowMultiple {
		buster = procBuster(ph.hit.ID)
	} else if slices.Contains(st.goals, g.ID) {
		return
	}
	st.goals = append(st.goals, g.ID)
	st.v.GoalConverted = true
	b.lb.Conversions = append(b.lb.Conversions, b.conversion(st, ph, g.ID, buster, actionID, revenue))
}

// procRevenue is the revenue of a conversion of g by h: the hit's when it
// sent one (revenue=, 0 included), else the goal's default.
func procRevenue(h *analytics.Hit, g *procGoal) float64 {
	if h.Has(analytics.FlagRevenue) || h.Revenue != 0 {
		return h.Revenue
	}
	return g.Revenue
}

// procBuster derives a positive conversion buster from a hit ID.
func procBuster(id analytics.HitID) int64 {
	return int64(binary.BigEndian.Uint64(id[6:14]) >> 1)
}

func (b *sessBatch) conversion(st *sessState, ph *procHit, goalID int, buster, actionID int64, revenue float64) analytics.Conversion {
	v := &st.v
	return analytics.Conversion{
		VisitID:         v.ID,
		SiteID:          v.SiteID,
		VisitorID:       v.VisitorID,
		Time:            ph.t,
		GoalID:          goalID,
		Buster:          buster,
		ActionID:        actionID,
		URL:             ph.url,
		Revenue:         revenue,
		PageviewsBefore: v.Pageviews,
		VisitCount:      v.VisitCount,
		Returning:       v.Returning,
		Referrer:        b.attribution(ph, v),
		CountryCode:     v.Location.CountryCode,
	}
}

// attribution is the referrer credited with a conversion: the one the
// tracker remembered (_rcn/_rck, _ref) when it sent one, else the visit's.
func (b *sessBatch) attribution(ph *procHit, v *analytics.Visit) analytics.Referrer {
	at := ph.hit.Attribution
	if at == nil || ph.noTrack {
		return v.Referrer
	}
	if at.CampaignName != "" {
		r := analytics.Referrer{
			Type:    analytics.ReferrerCampaign,
			Name:    procTruncate(strings.ToLower(at.CampaignName), 255),
			Keyword: procTruncate(strings.ToLower(at.CampaignKeyword), 255),
			URL:     procTruncate(at.ReferrerURL, procMaxReferrerURL),
		}
		if ph.site.scrub {
			procScrubReferrer(&r)
		}
		return r
	}
	if at.ReferrerURL != "" {
		r := procClassifyReferrer(b.p.ref, ph.site, "", at.ReferrerURL)
		if ph.site.scrub {
			procScrubReferrer(&r)
		}
		return r
	}
	return v.Referrer
}

// ecommerce records an order (deduplicated by order ID) or the visit's
// open cart.
func (b *sessBatch) ecommerce(st *sessState, ph *procHit) {
	if !ph.site.Ecommerce || ph.order == nil {
		b.discarded++
		b.p.log.Debug("ecommerce request ignored", "site", ph.site.ID, "ecommerce", ph.site.Ecommerce, "hit", ph.hit.ID.String())
		return
	}
	o := ph.order
	v := &st.v
	rev := o.Revenue
	if rev == 0 {
		rev = ph.hit.Revenue
	}
	if ph.kind == analytics.KindEcommerceOrder {
		if o.OrderID == "" || slices.Contains(st.orders, o.OrderID) {
			b.discarded++
			return
		}
		st.orders = append(st.orders, o.OrderID)
		st.lastOrder = ph.t
		v.GoalConverted = true
		v.GoalBuyer = 1
		c := b.conversion(st, ph, analytics.GoalEcommerceOrder, 0, v.LastActionID, rev)
		c.OrderID = o.OrderID
		c.Subtotal, c.Tax, c.Shipping, c.Discount = o.Subtotal, o.Tax, o.Shipping, o.Discount
		c.Items = slices.Clone(o.Items)
		b.lb.Conversions = append(b.lb.Conversions, c)
		return
	}
	if v.GoalBuyer&1 != 0 {
		v.GoalBuyer = 3
	} else {
		v.GoalBuyer = 2
	}
	c := b.conversion(st, ph, analytics.GoalCart, 0, v.LastActionID, rev)
	c.Subtotal, c.Tax, c.Shipping, c.Discount = o.Subtotal, o.Tax, o.Shipping, o.Discount
	c.Items = slices.Clone(o.Items)
	b.lb.Conversions = append(b.lb.Conversions, c)
}

// lateData marks the hit's day for re-archiving when it is before today
// in the site's time zone.
func (b *sessBatch) lateData(ph *procHit) {
	if b.today == nil {
		b.today = make(map[int]procDay)
	}
	today, ok := b.today[ph.site.ID]
	if !ok {
		today = procDayOf(b.p.o.Now(), ph.site.loc)
		b.today[ph.site.ID] = today
	}
	if !ph.day.before(today) {
		return
	}
	if b.invalid == nil {
		b.invalid = make(map[analytics.SiteDay]struct{})
	}
	b.invalid[analytics.SiteDay{SiteID: ph.site.ID, Day: ph.day.String()}] = struct{}{}
}

// procMergeDims returns old with the values of upd set (by ID).
func procMergeDims(old, upd []analytics.Dimension) []analytics.Dimension {
	out := slices.Clone(old)
	for _, d := range upd {
		i := slices.IndexFunc(out, func(x analytics.Dimension) bool { return x.ID == d.ID })
		if i >= 0 {
			out[i] = d
		} else {
			out = append(out, d)
		}
	}
	return out
}
