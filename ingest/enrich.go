package ingest

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	analytics "github.com/footfall/analytics"
)

// procDay is a calendar day in a site's time zone.
type procDay struct {
	y int
	m time.Month
	d int
}

func procDayOf(t time.Time, loc *time.Location) procDay {
	y, m, d := t.In(loc).Date()
	return procDay{y, m, d}
}

func (d procDay) before(e procDay) bool {
	if d.y != e.y {
		return d.y < e.y
	}
	if d.m != e.m {
		return d.m < e.m
	}
	return d.d < e.d
}

func (d procDay) String() string {
	var b [10]byte
	procPad(b[0:4], d.y)
	b[4] = '-'
	procPad(b[5:7], int(d.m))
	b[7] = '-'
	procPad(b[8:10], d.d)
	return string(b[:])
}

func procPad(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// Exclusion reasons (debug logs and tests).
const (
	procExclUnknownSite = "unknown site"
	procExclBot         = "bot"
	procExclDNT         = "do not track"
	procExclConsent     = "no consent"
	procExclIP          = "excluded ip"
	procExclUA          = "excluded user agent"
	procExclUnknownURL  = "unknown url"
)

// procHit is a hit after enrichment: everything sessionization needs, with
// the IP already anonymized (the full address is only in hit).
type procHit struct {
	hit  *analytics.Hit
	site *procSite
	t    time.Time // UTC
	day  procDay   // in the site time zone

	kind    analytics.HitKind
	url     string // cleaned page URL
	title   string
	link    string
	search  *analytics.Search
	event   *analytics.Event
	content *analytics.Content
	product *analytics.ProductView
	order   *analytics.Order
	ref     analytics.Referrer
	client  analytics.Client
	ip      netip.Addr // anonymized, or invalid when not stored
	dims    []analytics.Dimension

	// noTrack: DNT/GPC "count, don't track": no identifier is stored and
	// the hit never joins another hit's visit.
	noTrack    bool
	userID     string // as stored (hashed when HashUserID)
	visitorID  analytics.VisitorID
	configID   analytics.VisitorID
	match      analytics.VisitorMatch
	profilable bool
	localTime  int
}

// enrich turns a hit into a procHit, or reports why it is excluded
// (reason != ""). Exclusions run in Matomo's order (bot, DNT/GPC, IP, user
// agent, unknown URL) before anything is looked up for the hit.
func (p *Processor) enrich(ctx context.Context, h *analytics.Hit, ph *procHit) (reason string, err error) {
	site, err := p.sites.get(ctx, h.SiteID)
	if err != nil {
		return "", err
	}
	if site == nil {
		return procExclUnknownSite, nil
	}
	ua := p.ua.get(h.UserAgent)
	if ua.Bot && !p.o.TrackBots && !h.Has(analytics.FlagTrackBots) {
		return procExclBot, nil
	}
	verdict := site.rules.judge(h)
	if verdict.exclude != "" {
		return verdict.exclude, nil
	}
	if site.ipEx.match(h.IP) {
		return procExclIP, nil
	}
	if procUAExcluded(h.UserAgent, site.uaEx) {
		return procExclUA, nil
	}
	if site.ExcludeUnknownURLs && h.URL != "" && !site.knownURL(h.URL) {
		return procExclUnknownURL, nil
	}

	*ph = procHit{hit: h, site: site, kind: h.Kind, t: h.Time.UTC(), title: h.Title, link: h.Link, event: h.Event, search: h.Search,
		content: h.Content, product: h.Product, order: h.Order}
	if h.Time.IsZero() {
		ph.t = p.o.Now().UTC() // ingest always sets it; never store year 1
	}
	ph.day = procDayOf(ph.t, site.loc)
	ph.noTrack = verdict.noTrack

	// URLs, site search, referrer.
	ph.url = procCleanURL(h.URL, site.params, site.KeepURLFragment)
	if ph.kind == analytics.KindPageview && site.SiteSearch {
		if kw, cat, cleaned, ok := procSiteSearchOf(ph.url, site.searchKW, site.searchCat); ok {
			ph.kind = analytics.KindSiteSearch
			ph.url = cleaned
			ph.search = &analytics.Search{Keyword: kw, Category: cat, Count: -1}
		}
	}
	ph.ref = procClassifyReferrer(p.ref, site, h.URL, h.Referrer)
	if site.scrub {
		p.scrub(ph)
	}
	procLimitNames(ph)

	// Client.
	ph.client = analytics.Client{
		BrowserName: ua.BrowserName, BrowserVersion: ua.BrowserVersion, BrowserEngine: ua.BrowserEngine,
		OSName: ua.OSName, OSVersion: ua.OSVersion, DeviceType: ua.DeviceType,
		Resolution: "unknown",
		Plugins:    h.Device.Plugins,
		Lang:       procTruncate(h.Lang, 20),
	}
	if h.Device.ScreenWidth > 0 && h.Device.ScreenHeight > 0 {
		ph.client.Resolution = strconv.Itoa(int(h.Device.ScreenWidth)) + "x" + strconv.Itoa(int(h.Device.ScreenHeight))
	}
	ph.localTime = -1
	if dv := h.Device; dv.LocalHour >= 0 && dv.LocalHour < 24 && dv.LocalMinute >= 0 && dv.LocalMinute < 60 && dv.LocalSecond >= 0 && dv.LocalSecond < 60 {
		ph.localTime = int(dv.LocalHour)*3600 + int(dv.LocalMinute)*60 + int(dv.LocalSecond)
	}

	// The full address stays in the hit for geolocation, which happens
	// when a visit opens (locate): a visit keeps the location of its
	// first hit, so the hits that join a visit need no lookup. What is
	// stored is anonymized.
	if site.storeIP && !ph.noTrack {
		ph.ip = procAnonymizeIP(h.IP, site.v4Bytes, site.v6Bits)
	}

	if ph.noTrack {
		return "", nil
	}
	ph.dims = h.Dimensions
	if site.scrub {
		ph.dims = procScrubDims(ph.dims)
	}

	// Identity: uid → cid → _id → config hash.
	salt, err := p.salts.get(ctx, site.ID, ph.day)
	if err != nil {
		return "", err
	}
	ph.configID = procConfigID(site.ID, h.IP, h.UserAgent, salt)
	switch {
	case verdict.useUID && h.UserID != "":
		ph.userID = h.UserID
		if site.hashUserID {
			ph.userID = procHashUserID(h.UserID, p.o.UserIDSalt)
		}
		ph.visitorID = analytics.UserVisitorID(ph.userID)
		ph.profilable = true
	case verdict.useCookie && !h.CID.IsZero():
		ph.visitorID, ph.profilable = h.CID, true
	case verdict.useCookie && !h.CookieID.IsZero():
		ph.visitorID, ph.profilable = h.CookieID, true
	default:
		ph.visitorID = ph.configID
	}
	if ph.profilable {
		ph.match = analytics.VisitorMatch{SiteID: site.ID, VisitorID: ph.visitorID}
	} else {
		ph.match = analytics.VisitorMatch{SiteID: site.ID, ConfigID: ph.configID}
	}
	return "", nil
}

// locate returns the location of the hit that opens a visit: the one an
// authenticated request gave, else the Geo database's for the full
// address (which never leaves memory), else unknown. A failing database
// is logged once a minute and the visit gets no location.
func (p *Processor) locate(h *analytics.Hit) analytics.Location {
	switch {
	case h.Location != nil:
		return *h.Location
	case p.o.Geo != nil && h.IP.IsValid():
		loc, err := p.o.Geo.Lookup(h.IP)
		if err != nil {
			if p.logLimit.allow("geo") {
				// A Geo may name the address in its error: the log must not.
				p.log.Warn("geolocation failed (logged once a minute)", "error", procRedactIP(err.Error(), h.IP))
			}
			return analytics.Location{}
		}
		return loc
	}
	return analytics.Location{}
}

// procRedactIP replaces the text forms of ip in msg with "[ip]".
func procRedactIP(msg string, ip netip.Addr) string {
	if !ip.IsValid() {
		return msg
	}
	for _, s := range [...]string{ip.StringExpanded(), ip.String(), ip.Unmap().String()} {
		msg = strings.ReplaceAll(msg, s, "[ip]")
	}
	return msg
}

// procConfigID is the cookieless visitor hash: the first 8 bytes of
// SHA-256 over site, full IP, user agent and the site's daily salt.
func procConfigID(site int, ip netip.Addr, ua string, salt []byte) analytics.VisitorID {
	h := sha256.New()
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(site))
	a := ip.Unmap().As16()
	copy(b[8:], a[:])
	h.Write(b[:])
	h.Write([]byte(ua))
	h.Write([]byte{0})
	h.Write(salt)
	var sum [sha256.Size]byte
	var id analytics.VisitorID
	copy(id[:], h.Sum(sum[:0]))
	return id
}

// procHashUserID is Matomo's anonymizeUserId: the hex SHA-1 of the user id
// (with an optional instance salt).
func procHashUserID(uid, salt string) string {
	sum := sha1.Sum([]byte(salt + uid))
	return hex.EncodeToString(sum[:])
}

// scrub removes personal data from the texts of ph (Privacy.ScrubPII):
// every free text that is stored and may carry what a visitor typed or a
// page put in a URL — page, link, referrer and content target URLs,
// titles, the referrer's search keyword and campaign fields, event,
// site search and content fields. Custom dimension values are scrubbed
// where they are taken (they are not stored for "count, don't track"),
// and so is the attribution referrer of conversions. Ecommerce order ids,
// SKUs and product names are not: they are the shop's own catalogue and
// order numbers, which reports must show as they are (and order ids
// deduplicate orders). A sub-struct of the hit is copied only when
// scrubbing changes it.
func (p *Processor) scrub(ph *procHit) {
	ph.url = procScrubURL(ph.url)
	ph.link = procScrubURL(ph.link)
	ph.title = procScrubText(ph.title)
	procScrubReferrer(&ph.ref)
	if e := ph.event; e != nil {
		c, a, n := procScrubText(e.Category), procScrubText(e.Action), procScrubText(e.Name)
		if c != e.Category || a != e.Action || n != e.Name {
			x := *e
			x.Category, x.Action, x.Name = c, a, n
			ph.event = &x
		}
	}
	if s := ph.search; s != nil {
		k, c := procScrubText(s.Keyword), procScrubText(s.Category)
		if k != s.Keyword || c != s.Category {
			x := *s
			x.Keyword, x.Category = k, c
			ph.search = &x
		}
	}
	if c := ph.content; c != nil {
		n, pc, tg, in := procScrubText(c.Name), procScrubText(c.Piece), procScrubURL(c.Target), procScrubText(c.Interaction)
		if n != c.Name || pc != c.Piece || tg != c.Target || in != c.Interaction {
			x := *c
			x.Name, x.Piece, x.Target, x.Interaction = n, pc, tg, in
			ph.content = &x
		}
	}
}

// procScrubReferrer scrubs the free texts of a referrer: its URL, search
// or campaign keyword, and a campaign's name, source, medium, content and
// id (all taken from URL parameters). Search engine and social network
// names come from the reference list and website names are hosts.
func procScrubReferrer(r *analytics.Referrer) {
	r.URL = procScrubURL(r.URL)
	r.Keyword = procScrubText(r.Keyword)
	if r.Type == analytics.ReferrerCampaign {
		r.Name = procScrubText(r.Name)
		r.CampaignSource = procScrubText(r.CampaignSource)
		r.CampaignMedium = procScrubText(r.CampaignMedium)
		r.CampaignContent = procScrubText(r.CampaignContent)
		r.CampaignID = procScrubText(r.CampaignID)
	}
}

// procScrubDims returns dims with scrubbed values; dims itself when
// nothing changes.
func procScrubDims(dims []analytics.Dimension) []analytics.Dimension {
	var out []analytics.Dimension
	for i, d := range dims {
		v := procScrubText(d.Value)
		if v == d.Value {
			continue
		}
		if out == nil {
			out = slices.Clone(dims)
		}
		out[i].Value = v
	}
	if out == nil {
		return dims
	}
	return out
}

// procStricter returns the stricter of two resolved DNT modes:
// exclude, then count, then ignore.
func procStricter(a, b analytics.DNTMode) analytics.DNTMode {
	switch {
	case a == analytics.DNTExclude || b == analytics.DNTExclude:
		return analytics.DNTExclude
	case a == analytics.DNTCount || b == analytics.DNTCount:
		return analytics.DNTCount
	}
	return analytics.DNTIgnore
}

// procMaxNameLength bounds every name that a store keeps in its action
// dictionary (titles, event, content, search and product fields, links),
// as Matomo's page_maximum_length bounds URLs: a very long value is cut
// instead of making the whole hit fail in the store.
const procMaxNameLength = 1024

func procLong(ss ...string) bool {
	for _, s := range ss {
		if len(s) > procMaxNameLength {
			return true
		}
	}
	return false
}

// procLimitNames cuts the names of ph to procMaxNameLength, copying a
// sub-struct of the hit only when it has to change.
func procLimitNames(ph *procHit) {
	cut := func(s string) string { return procTruncate(s, procMaxNameLength) }
	ph.title, ph.link = cut(ph.title), cut(ph.link)
	if e := ph.event; e != nil && procLong(e.Category, e.Action, e.Name) {
		c := *e
		c.Category, c.Action, c.Name = cut(c.Category), cut(c.Action), cut(c.Name)
		ph.event = &c
	}
	if s := ph.search; s != nil && procLong(s.Keyword, s.Category) {
		c := *s
		c.Keyword, c.Category = cut(c.Keyword), cut(c.Category)
		ph.search = &c
	}
	if c := ph.content; c != nil && procLong(c.Name, c.Piece, c.Target, c.Interaction) {
		n := *c
		n.Name, n.Piece, n.Target, n.Interaction = cut(n.Name), cut(n.Piece), cut(n.Target), cut(n.Interaction)
		ph.content = &n
	}
	if pv := ph.product; pv != nil && (procLong(pv.SKU, pv.Name) || procLong(pv.Categories...)) {
		n := *pv
		n.SKU, n.Name = cut(n.SKU), cut(n.Name)
		n.Categories = make([]string, len(pv.Categories))
		for i, c := range pv.Categories {
			n.Categories[i] = cut(c)
		}
		ph.product = &n
	}
	if o := ph.order; o != nil {
		long := false
		for _, it := range o.Items {
			if procLong(it.SKU, it.Name) || procLong(it.Categories...) {
				long = true
				break
			}
		}
		if long {
			n := *o
			n.Items = make([]analytics.Item, len(o.Items))
			for i, it := range o.Items {
				it.SKU, it.Name = cut(it.SKU), cut(it.Name)
				cats := make([]string, len(it.Categories))
				for j, c := range it.Categories {
					cats[j] = cut(c)
				}
				it.Categories = cats
				n.Items[i] = it
			}
			ph.order = &n
		}
	}
}
