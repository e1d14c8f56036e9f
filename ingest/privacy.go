package ingest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	analytics "github.com/footfall/analytics"
)

// privacyFillDefaults fills the zero fields of an instance Privacy with
// Footfall's defaults (the Processor's and the Handler's): IPv4MaskBytes 2,
// IPv6MaskBits 80, StoreIP On, Cookieless Off, DNT and GPC DNTIgnore,
// HashUserID Off, Consent ConsentNone, ScrubPII Off.
func privacyFillDefaults(pr *analytics.Privacy) {
	if pr.IPv4MaskBytes == 0 {
		pr.IPv4MaskBytes = 2
	}
	if pr.IPv6MaskBits == 0 {
		pr.IPv6MaskBits = 80
	}
	if pr.StoreIP == analytics.Default {
		pr.StoreIP = analytics.On
	}
	if pr.Cookieless == analytics.Default {
		pr.Cookieless = analytics.Off
	}
	if pr.DNT == analytics.DNTDefault {
		pr.DNT = analytics.DNTIgnore
	}
	if pr.GPC == analytics.DNTDefault {
		pr.GPC = analytics.DNTIgnore
	}
	if pr.HashUserID == analytics.Default {
		pr.HashUserID = analytics.Off
	}
	if pr.Consent == analytics.ConsentDefault {
		pr.Consent = analytics.ConsentNone
	}
	if pr.ScrubPII == analytics.Default {
		pr.ScrubPII = analytics.Off
	}
}

// privacyRules are the privacy settings of a site that decide, hit by hit,
// whether a hit is kept and which of its identifiers may be used: the
// Processor applies them (authoritative), and the Handler applies the same
// rules before enqueueing, so that a hit whose cookie or user id the
// Processor will ignore is sharded by the cookieless key, like the other
// hits of the same visitor. All fields are resolved (no "default").
type privacyRules struct {
	cookieless bool
	dnt, gpc   analytics.DNTMode     // DNTIgnore, DNTExclude or DNTCount
	consent    analytics.ConsentMode // ConsentNone, ConsentCookies or ConsentTracking
}

// newPrivacyRules resolves the rules of a site: each non-default field of
// site, else inst (whose defaults are filled). It does not allocate.
func newPrivacyRules(inst, site *analytics.Privacy) privacyRules {
	r := privacyRules{
		cookieless: inst.Cookieless.Resolve(false),
		dnt:        inst.DNT,
		gpc:        inst.GPC,
		consent:    inst.Consent,
	}
	if site.Cookieless != analytics.Default {
		r.cookieless = site.Cookieless.Resolve(false)
	}
	if site.DNT != analytics.DNTDefault && site.DNT <= analytics.DNTCount {
		r.dnt = site.DNT
	}
	if site.GPC != analytics.DNTDefault && site.GPC <= analytics.DNTCount {
		r.gpc = site.GPC
	}
	if site.Consent != analytics.ConsentDefault && site.Consent <= analytics.ConsentTracking {
		r.consent = site.Consent
	}
	if r.dnt == analytics.DNTDefault || r.dnt > analytics.DNTCount {
		r.dnt = analytics.DNTIgnore
	}
	if r.gpc == analytics.DNTDefault || r.gpc > analytics.DNTCount {
		r.gpc = analytics.DNTIgnore
	}
	if r.consent == analytics.ConsentDefault || r.consent > analytics.ConsentTracking {
		r.consent = analytics.ConsentNone
	}
	return r
}

// privacyVerdict is what a site's rules make of one hit.
type privacyVerdict struct {
	// exclude is the reason the hit is dropped; "" keeps it.
	exclude string
	// noTrack: "count, don't track" (DNTCount): no identifier, IP or
	// custom dimension is stored and the hit is a visit of its own.
	noTrack bool
	// useUID: the user id (uid) may identify the visitor.
	useUID bool
	// useCookie: the tracker's visitor ids (cid, _id) may identify the
	// visitor; otherwise the cookieless hash does.
	useCookie bool
}

// judge applies the rules to h, strictest first:
//
//   - DNT (unless sent by Internet Explorer 10/11, as Matomo) and GPC: the
//     stricter of the two modes applies; DNTExclude drops the hit,
//     DNTCount keeps it without any identifier. A DNT or GPC header wins
//     over consent=1: it is the visitor's standing choice, and the stricter
//     reading is the safe one.
//   - ConsentTracking (requireConsent): a hit without consent=1 is
//     dropped.
//   - ConsentCookies (requireCookieConsent): a hit without consent=1 is
//     cookieless: cid, _id and the user id are ignored. A user id is an
//     identifier kept across visits just like a cookie, which the visitor
//     has not agreed to (Matomo's tracker does not send one either before
//     consent), so it goes too.
//   - Cookieless: cid and _id are ignored, the user id is kept (the site
//     sets it for a signed-in user, not the browser).
func (r privacyRules) judge(h *analytics.Hit) privacyVerdict {
	mode := analytics.DNTIgnore
	if h.Has(analytics.FlagDNT) && !procDNTExempt(h.UserAgent) {
		mode = r.dnt
	}
	if h.Has(analytics.FlagGPC) {
		mode = procStricter(mode, r.gpc)
	}
	switch {
	case mode == analytics.DNTExclude:
		return privacyVerdict{exclude: procExclDNT}
	case r.consent == analytics.ConsentTracking && !h.Has(analytics.FlagConsent):
		return privacyVerdict{exclude: procExclConsent}
	case mode == analytics.DNTCount:
		return privacyVerdict{noTrack: true}
	case r.consent == analytics.ConsentCookies && !h.Has(analytics.FlagConsent):
		return privacyVerdict{}
	}
	return privacyVerdict{useUID: true, useCookie: !r.cookieless}
}

// privacyStrip clears the identifiers of h that the verdict does not let
// the processor use (all of them for a hit it will drop), so that the hit
// is sharded like the processor will see it and the queue holds no
// identifier that will never be used.
func privacyStrip(h *analytics.Hit, v privacyVerdict) {
	if !v.useCookie {
		h.CID, h.CookieID = analytics.VisitorID{}, analytics.VisitorID{}
	}
	if !v.useUID {
		h.UserID = ""
	}
}

// stripIdentifiers applies the privacy rules of the hit's site to its
// identifiers before it is enqueued (see privacyRules). A hit that carries
// no identifier (the cookieless case) costs one comparison; otherwise one
// map lookup in the site cache. It never allocates.
func (h *Handler) stripIdentifiers(hit *analytics.Hit) {
	if hit.UserID == "" && hit.CID.IsZero() && hit.CookieID.IsZero() {
		return
	}
	m := h.siteMap.Load()
	if m == nil {
		return
	}
	s := (*m)[hit.SiteID]
	if s == nil {
		return
	}
	privacyStrip(hit, newPrivacyRules(&h.privacy, &s.Privacy).judge(hit))
}

// saltDayLayout is the day format of the salt store.
const saltDayLayout = "2006-01-02"

// SaltCutoff returns the first day whose daily salts must still be kept
// at now: the salts of every day before it are over in every time zone
// plus grace. Site days are in the site's time zone and the last zone in
// which a day ends is UTC−12 (Matomo's and analytics.ParseTimezone's
// limit; IANA zones end there too), so the day D is over everywhere at
// D+1 12:00 UTC; D may go once now is past that plus grace. A negative
// grace counts as none.
func SaltCutoff(now time.Time, grace time.Duration) string {
	return now.UTC().Add(-12*time.Hour - max(grace, 0)).Format(saltDayLayout)
}

// SiteSaltCutoff returns the first day of the site whose daily salt must
// still be kept at now: the site's day, in its time zone, at now − grace.
// The salts of the days before it ended at least grace ago. A site whose
// time zone does not parse counts its days in UTC, as the Processor does.
// A negative grace counts as none.
func SiteSaltCutoff(site *analytics.Site, now time.Time, grace time.Duration) string {
	loc, err := site.Location()
	if err != nil {
		loc = time.UTC
	}
	return procDayOf(now.Add(-max(grace, 0)), loc).String()
}

// saltCutoffs groups sites by their SiteSaltCutoff at now (at most a few
// distinct days: time zones span 26 hours).
func saltCutoffs(sites []analytics.Site, now time.Time, grace time.Duration) map[string][]int {
	m := make(map[string][]int)
	for i := range sites {
		c := SiteSaltCutoff(&sites[i], now, grace)
		m[c] = append(m[c], sites[i].ID)
	}
	return m
}

// DeleteExpiredSalts deletes the cookieless daily salts whose day ended,
// in their site's time zone, at least grace ago (SiteSaltCutoff), and
// reports how many it deleted. sites are the store's sites; the salts of
// any other site (one deleted meanwhile) go once their day is over in
// every time zone plus grace (SaltCutoff), which never comes before a
// listed site's cutoff. A salt of a day still going on in its site's zone,
// or within grace of its end, is never deleted: workers still hash with
// it. The Processor calls it from Run; `footfall retention run` calls it
// too. It never logs or returns a salt.
func DeleteExpiredSalts(ctx context.Context, store analytics.SaltStore, sites []analytics.Site, now time.Time, grace time.Duration) (int, error) {
	total := 0
	byCutoff := saltCutoffs(sites, now, grace)
	for _, cutoff := range slices.Sorted(maps.Keys(byCutoff)) {
		n, err := store.DeleteSaltsBefore(ctx, cutoff, byCutoff[cutoff]...)
		total += n
		if err != nil {
			return total, fmt.Errorf("ingest: delete salts before %s of %d sites: %w", cutoff, len(byCutoff[cutoff]), err)
		}
	}
	cutoff := SaltCutoff(now, grace)
	n, err := store.DeleteSaltsBefore(ctx, cutoff)
	total += n
	if err != nil {
		return total, fmt.Errorf("ingest: delete salts before %s: %w", cutoff, err)
	}
	return total, nil
}

// PruneSalts deletes the expired daily salts from the store
// (DeleteExpiredSalts with the store's sites, the processor's clock and
// SaltGrace) and from the processor's own cache. Run calls it when it
// starts and every SaltPruneInterval. When the sites cannot be listed it
// still deletes what is over in every time zone, and returns the error.
func (p *Processor) PruneSalts(ctx context.Context) (int, error) {
	now := p.o.Now()
	sites, sitesErr := p.o.Store.Sites(ctx)
	if sitesErr != nil {
		sites = nil
		sitesErr = fmt.Errorf("ingest: list sites for salt pruning: %w", sitesErr)
	}
	cutoffs := make(map[int]string, len(sites))
	for c, ids := range saltCutoffs(sites, now, p.o.SaltGrace) {
		for _, id := range ids {
			cutoffs[id] = c
		}
	}
	p.salts.forgetExpired(cutoffs, SaltCutoff(now, p.o.SaltGrace))
	n, err := DeleteExpiredSalts(ctx, p.o.Store, sites, now, p.o.SaltGrace)
	return n, errors.Join(sitesErr, err)
}

// pruneSalts runs PruneSalts and logs a failure (never the salts) or
// what it deleted.
func (p *Processor) pruneSalts(ctx context.Context) {
	n, err := p.PruneSalts(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		p.log.Warn("deleting expired cookieless salts failed; trying again later", "error", err)
	case n > 0:
		p.log.Debug("deleted expired cookieless salts", "count", n)
	}
}

// pruneSaltsLoop runs pruneSalts every SaltPruneInterval until ctx is
// done (Run has run it once before starting the workers).
func (p *Processor) pruneSaltsLoop(ctx context.Context) {
	t := time.NewTicker(p.o.SaltPruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.pruneSalts(ctx)
		}
	}
}
