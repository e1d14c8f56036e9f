package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	analytics "github.com/footfall/analytics"
)

// parseUserIDMax is Matomo's limit on `uid` (characters).
const parseUserIDMax = 200

// parseMaxCategories is Matomo's limit on product categories.
const parseMaxCategories = 5

// parseMaxPast is how far back a custom timestamp (cdt, cdo) may go before
// it is ignored, as in Matomo (20 years).
const parseMaxPast = 20 * 365 * 24 * time.Hour

// errSitesNotLoaded answers every hit until the first site list arrived.
var errSitesNotLoaded = fmt.Errorf("ingest: site list not loaded yet: %w", analytics.ErrUnavailable)

// parseErr reports an invalid parameter. It is only built on the error path.
func parseErr(param, reason string) error {
	return fmt.Errorf("ingest: parameter %s: %s: %w", param, reason, analytics.ErrInvalid)
}

// parseEnv is what a tracking request takes from its HTTP envelope rather
// than from its parameters. One parseEnv serves every item of a bulk
// request.
type parseEnv struct {
	now        time.Time
	ip         netip.Addr
	userAgent  string
	acceptLang string
	referer    string
	flags      analytics.HitFlags // FlagDNT, FlagGPC from headers
	prefetch   bool
	// tokenOK: the request's outer token_auth (bulk top level) is valid.
	tokenOK bool
}

// parseHit turns the parameters of one tracking request into hit, in
// Matomo's order: site, then the values that need a token, then the rest.
// It reports excluded when the request is valid but must not be recorded
// (rec missing or 0, a prefetch): it counts as tracked and is not queued.
// Errors wrap analytics.ErrInvalid (a 400), or analytics.ErrUnavailable
// when no site list has been loaded yet (a 503).
func (h *Handler) parseHit(p *parseParams, env *parseEnv, hit *analytics.Hit) (excluded bool, err error) {
	v := &p.v

	// Site.
	siteID, ok := parseInt(v[parseIDSite])
	if !ok || siteID <= 0 {
		return false, parseErr("idsite", "need a positive integer")
	}
	if err := h.sitesCheck(siteID); err != nil {
		return false, err
	}

	// Authentication: the request's own token_auth, or the bulk one.
	auth := env.tokenOK
	if !auth && v[parseTokenAuth] != "" {
		auth = h.authValid(v[parseTokenAuth])
	}

	*hit = analytics.Hit{
		SiteID: siteID,
		Time:   env.now,
		Flags:  env.flags,
		IP:     env.ip,
	}
	if auth {
		hit.Flags |= analytics.FlagAuthenticated
	}

	// Forced visitor id: exactly 16 hex digits, no token needed.
	if s := v[parseCID]; s != "" {
		if len(s) != 16 {
			return false, parseErr("cid", "need exactly 16 hex digits")
		}
		id, err := analytics.ParseVisitorID(s)
		if err != nil {
			return false, parseErr("cid", "need exactly 16 hex digits")
		}
		hit.CID = id
	}

	// Values that need a token.
	if s := v[parseCIP]; s != "" {
		if !auth {
			return false, parseErr("cip", "requires a valid token_auth")
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false, parseErr("cip", "not an IP address")
		}
		hit.IP = ip.Unmap().WithZone("")
	}
	if v[parseCountry] != "" || v[parseRegion] != "" || v[parseCity] != "" || v[parseLat] != "" || v[parseLong] != "" {
		if !auth {
			return false, parseErr("country/region/city/lat/long", "requires a valid token_auth")
		}
		loc, err := h.parseLocation(p)
		if err != nil {
			return false, err
		}
		hit.Location = loc
	}
	if v[parseCDT] != "" || v[parseCDO] != "" {
		t, ok := parseCustomTime(v[parseCDT], v[parseCDO], env.now)
		if ok {
			if env.now.Sub(t) >= h.cdtAuthAfter && !auth {
				return false, parseErr("cdt", "a timestamp this old requires a valid token_auth")
			}
			hit.Time = t
		}
	}

	// Exclusions that need no state. The request was valid: it counts as
	// tracked but is not recorded.
	if !parseFlag(v[parseRec]) || env.prefetch {
		return true, nil
	}

	// Identity.
	if s := v[parseVisitorID]; len(s) >= 16 {
		if id, err := analytics.ParseVisitorID(s); err == nil {
			hit.CookieID = id
		}
	}
	hit.UserID = parseClean(v[parseUID], parseUserIDMax)

	// Client.
	hit.UserAgent = parseClean(parseOr(v[parseUA], env.userAgent), h.maxField)
	hit.Lang = parseClean(parseOr(v[parseLang], env.acceptLang), h.maxField)
	if s := v[parseUAData]; len(s) <= h.maxURL { // a cut JSON document is useless: drop it
		hit.UAData = parseClean(s, h.maxURL)
	}
	hit.Device = parseDevice(p)
	if parseFlag(v[parseNewVisit]) {
		hit.Flags |= analytics.FlagNewVisit
	}
	if parseFlag(v[parseConsent]) {
		hit.Flags |= analytics.FlagConsent
	}
	if parseFlag(v[parseBots]) {
		hit.Flags |= analytics.FlagTrackBots
	}
	if c := v[parseCookie]; c != "" && !parseFlag(c) {
		hit.Flags |= analytics.FlagNoCookies
	}

	// Page.
	url, ref := v[parseURL], v[parseURLRef]
	if url == "" && ref == "" {
		url = env.referer // image tracker: the page is the Referer
	}
	hit.URL = parseClean(url, h.maxURL)
	hit.Referrer = parseClean(ref, h.maxURL)
	hit.Title = parseClean(v[parseActionName], h.maxField)
	hit.PageViewID = parseClean(v[parsePageViewID], h.maxField)

	// What the request records (Matomo's precedence).
	ca := parseFlag(v[parseCA])
	if ca {
		hit.Flags |= analytics.FlagCustomAction
	}
	goal, isGoal := parseInt(v[parseIDGoal])
	isGoal = isGoal && goal >= 0
	ec, ea := strings.TrimSpace(v[parseEC]), strings.TrimSpace(v[parseEA])
	cn := strings.TrimSpace(v[parseCN])
	search := strings.TrimSpace(v[parseSearch])
	revenue, hasRevenue := parseFloat(v[parseRevenue]) // goals and ecommerce only
	if hasRevenue {
		hit.Flags |= analytics.FlagRevenue
	}
	switch {
	case parseFlag(v[parsePing]):
		hit.Kind = analytics.KindPing
	case isGoal && goal == 0:
		hit.Kind = analytics.KindCartUpdate
		hit.Revenue = revenue
		o := &analytics.Order{
			OrderID: parseClean(strings.TrimSpace(v[parseECID]), h.maxField),
			Revenue: revenue,
			Items:   h.parseItems(v[parseECItems]),
		}
		if o.OrderID != "" {
			hit.Kind = analytics.KindEcommerceOrder
		}
		o.Subtotal, _ = parseFloat(v[parseECST])
		o.Tax, _ = parseFloat(v[parseECTX])
		o.Shipping, _ = parseFloat(v[parseECSH])
		o.Discount, _ = parseFloat(v[parseECDT])
		hit.Order = o
	case isGoal:
		hit.Kind = analytics.KindGoal
		hit.GoalID = goal
		hit.Revenue = revenue
	case ec != "" && ea != "":
		hit.Kind = analytics.KindEvent
		e := &analytics.Event{
			Category: parseClean(ec, h.maxField),
			Action:   parseClean(ea, h.maxField),
			Name:     parseClean(strings.TrimSpace(v[parseEN]), h.maxField),
		}
		e.Value, e.HasValue = parseFloat(v[parseEV])
		hit.Event = e
	case cn != "":
		hit.Kind = analytics.KindContentImpression
		c := &analytics.Content{
			Name:        parseClean(cn, h.maxField),
			Piece:       parseClean(v[parseCP], h.maxField),
			Target:      parseClean(v[parseCT], h.maxURL),
			Interaction: parseClean(strings.TrimSpace(v[parseCI]), h.maxField),
		}
		if c.Interaction != "" {
			hit.Kind = analytics.KindContentInteraction
		}
		hit.Content = c
	case search != "":
		hit.Kind = analytics.KindSiteSearch
		s := &analytics.Search{
			Keyword:  parseClean(search, h.maxField),
			Category: parseClean(strings.TrimSpace(v[parseSearchCat]), h.maxField),
			Count:    -1,
		}
		if n, ok := parseInt(v[parseSearchCount]); ok && n >= 0 {
			s.Count = n
		}
		hit.Search = s
	case v[parseDownload] != "":
		hit.Kind = analytics.KindDownload
		hit.Link = parseClean(v[parseDownload], h.maxURL)
	case v[parseLink] != "":
		hit.Kind = analytics.KindOutlink
		hit.Link = parseClean(v[parseLink], h.maxURL)
	case ca:
		hit.Kind = analytics.KindCustom
	default:
		hit.Kind = analytics.KindPageview
	}

	// Groups that ride along with any kind.
	if v[parsePKS] != "" || v[parsePKN] != "" || v[parsePKC] != "" || v[parsePKP] != "" {
		pv := &analytics.ProductView{
			SKU:        parseClean(strings.TrimSpace(v[parsePKS]), h.maxField),
			Name:       parseClean(strings.TrimSpace(v[parsePKN]), h.maxField),
			Categories: h.parseCategories(v[parsePKC]),
		}
		pv.Price, _ = parseFloat(v[parsePKP])
		hit.Product = pv
	}
	hit.Timing = parseTiming(p)
	hit.Attribution = h.parseAttribution(p)
	if dims := p.dimensions(); dims != nil {
		for i := range dims {
			dims[i].Value = parseClean(dims[i].Value, h.maxField)
		}
		slices.SortFunc(dims, func(a, b analytics.Dimension) int { return a.ID - b.ID })
		hit.Dimensions = dims
	}
	h.stripIdentifiers(hit)
	return false, nil
}

// parseWantImage reports whether the answer is the GIF (send_image is not 0).
func parseWantImage(s string) bool {
	if s == "" {
		return true
	}
	n, ok := parseInt(s)
	return !ok || n != 0
}

func parseOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseClean makes s valid UTF-8 (invalid bytes become U+FFFD) and cuts it
// to at most max characters, never inside a character. It does not
// allocate when s is valid and short enough.
func parseClean(s string, max int) string {
	if s == "" {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// parseDevice reads res, h/m/s and the plugin flags.
func parseDevice(p *parseParams) analytics.Device {
	v := &p.v
	d := analytics.Device{
		LocalHour:   parseClock(v[parseHour], 23),
		LocalMinute: parseClock(v[parseMinute], 59),
		LocalSecond: parseClock(v[parseSecond], 59),
	}
	if w, hgt, ok := strings.Cut(v[parseRes], "x"); ok {
		wi, ok1 := parseInt(w)
		hi, ok2 := parseInt(hgt)
		if ok1 && ok2 && wi > 0 && hi > 0 && wi <= math.MaxUint16 && hi <= math.MaxUint16 {
			d.ScreenWidth, d.ScreenHeight = uint16(wi), uint16(hi)
		}
	}
	for i, id := range [...]parseID{parsePDF, parseQT, parseRealP, parseWMA, parseFla, parseJava, parseAG, parseCookie} {
		if parseFlag(v[id]) {
			d.Plugins |= 1 << i // the Plugin* constants are in this order
		}
	}
	return d
}

// parseClock parses an hour, minute or second of the visitor's local time;
// -1 when absent or out of range.
func parseClock(s string, max int) int8 {
	n, ok := parseInt(s)
	if !ok || n < 0 || n > max {
		return -1
	}
	return int8(n)
}

// parseTiming reads pf_*; nil when no valid value came.
func parseTiming(p *parseParams) *analytics.PageTiming {
	v := &p.v
	var vals [6]int32
	any := false
	for i, id := range [...]parseID{parsePfNet, parsePfSrv, parsePfTfr, parsePfDm1, parsePfDm2, parsePfOnl} {
		vals[i] = -1
		if n, ok := parseInt(v[id]); ok && n >= 0 && n <= math.MaxInt32 {
			vals[i] = int32(n)
			any = true
		}
	}
	if !any {
		return nil
	}
	return &analytics.PageTiming{Network: vals[0], Server: vals[1], Transfer: vals[2],
		DOMProcessing: vals[3], DOMCompletion: vals[4], OnLoad: vals[5]}
}

// parseAttribution reads _rcn, _rck, _ref and _refts; nil when none came.
func (h *Handler) parseAttribution(p *parseParams) *analytics.Attribution {
	v := &p.v
	if v[parseRCN] == "" && v[parseRCK] == "" && v[parseRef] == "" && v[parseRefTS] == "" {
		return nil
	}
	a := analytics.Attribution{
		CampaignName:    parseClean(v[parseRCN], h.maxField),
		CampaignKeyword: parseClean(v[parseRCK], h.maxField),
		ReferrerURL:     parseClean(v[parseRef], h.maxURL),
	}
	if ts, ok := parseInt(v[parseRefTS]); ok && ts > 0 && ts < 1<<40 {
		a.Time = time.Unix(int64(ts), 0).UTC()
	}
	if a == (analytics.Attribution{}) { // _refts=0 alone, as the tracker sends it
		return nil
	}
	out := new(analytics.Attribution) // a itself stays on the stack
	*out = a
	return out
}

// parseLocation reads the authenticated location override.
func (h *Handler) parseLocation(p *parseParams) (*analytics.Location, error) {
	v := &p.v
	loc := &analytics.Location{
		CountryCode: strings.ToLower(parseClean(strings.TrimSpace(v[parseCountry]), h.maxField)),
		RegionCode:  parseClean(strings.TrimSpace(v[parseRegion]), h.maxField),
		City:        parseClean(strings.TrimSpace(v[parseCity]), h.maxField),
	}
	var hasLat, hasLong bool
	if s := v[parseLat]; s != "" {
		f, ok := parseFloat(s)
		if !ok || f < -90 || f > 90 {
			return nil, parseErr("lat", "need a latitude between -90 and 90")
		}
		loc.Latitude, hasLat = f, true
	}
	if s := v[parseLong]; s != "" {
		f, ok := parseFloat(s)
		if !ok || f < -180 || f > 180 {
			return nil, parseErr("long", "need a longitude between -180 and 180")
		}
		loc.Longitude, hasLong = f, true
	}
	loc.HasCoords = hasLat && hasLong
	if !loc.HasCoords {
		loc.Latitude, loc.Longitude = 0, 0
	}
	return loc, nil
}

// parseCustomTime reads cdt (Unix seconds or "YYYY-MM-DD HH:MM:SS" UTC)
// and cdo (seconds back from cdt, or from now when cdt is absent). It
// reports false, meaning "use now", when the result is unreadable, in the
// future or more than 20 years old, as Matomo does.
func parseCustomTime(cdt, cdo string, now time.Time) (time.Time, bool) {
	t := now
	if cdt = strings.TrimSpace(cdt); cdt != "" {
		var ok bool
		if t, ok = parseTimestamp(cdt); !ok {
			return time.Time{}, false
		}
	}
	if cdo != "" {
		f, ok := parseFloat(cdo)
		if !ok || math.Abs(f) > float64(parseMaxPast/time.Second)*2 {
			return time.Time{}, false
		}
		t = t.Add(-time.Duration(math.Abs(f)) * time.Second)
	}
	if t.After(now) || now.Sub(t) > parseMaxPast {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseTimestamp reads a Unix timestamp (fractions ignored) or a UTC date
// and time.
func parseTimestamp(s string) (time.Time, bool) {
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-: T") {
		whole, _, _ := strings.Cut(s, ".")
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > 1<<40 {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range [...]string{"2006-01-02 15:04:05", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseCategories reads a product category: a string, or a JSON array of
// at most 5 strings (more are dropped).
func (h *Handler) parseCategories(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if s[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(s), &raw); err == nil {
			return h.parseCategoryList(raw)
		}
	}
	return []string{parseClean(s, h.maxField)}
}

func (h *Handler) parseCategoryList(raw []json.RawMessage) []string {
	var cats []string
	for _, r := range raw {
		if len(cats) == parseMaxCategories {
			break
		}
		if c, ok := parseJSONString(r); ok {
			if c = strings.TrimSpace(c); c != "" {
				cats = append(cats, parseClean(c, h.maxField))
			}
		}
	}
	return cats
}

// parseItems reads ec_items: [[sku, name, category, price, quantity], …]
// where category is a string or an array of at most 5. Items without a
// SKU are skipped; a malformed list gives no items (as Matomo, which then
// records the order without items).
func (h *Handler) parseItems(s string) []analytics.Item {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil
	}
	var items []analytics.Item
	for _, r := range raw {
		var f []json.RawMessage
		if err := json.Unmarshal(r, &f); err != nil || len(f) == 0 {
			continue
		}
		sku, ok := parseJSONString(f[0])
		if sku = strings.TrimSpace(sku); !ok || sku == "" {
			continue
		}
		it := analytics.Item{SKU: parseClean(sku, h.maxField), Quantity: 1}
		if len(f) > 1 {
			name, _ := parseJSONString(f[1])
			it.Name = parseClean(strings.TrimSpace(name), h.maxField)
		}
		if len(f) > 2 {
			if c := bytesTrimLeft(f[2]); len(c) > 0 && c[0] == '[' {
				var list []json.RawMessage
				if json.Unmarshal(c, &list) == nil {
					it.Categories = h.parseCategoryList(list)
				}
			} else if c, ok := parseJSONString(f[2]); ok && strings.TrimSpace(c) != "" {
				it.Categories = []string{parseClean(strings.TrimSpace(c), h.maxField)}
			}
		}
		if len(f) > 3 {
			if ps, ok := parseJSONString(f[3]); ok {
				it.Price, _ = parseFloat(ps)
			}
		}
		if len(f) > 4 {
			if qs, ok := parseJSONString(f[4]); ok {
				if q, ok := parseFloat(qs); ok && q >= math.MinInt32 && q <= math.MaxInt32 {
					it.Quantity = int(q)
				}
			}
		}
		items = append(items, it)
	}
	return items
}

func bytesTrimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// parseJSONString reads a JSON scalar as the string PHP would see: a
// string as is, a number as written, true as "1", false as "0". It reports
// false for null, arrays and objects.
func parseJSONString(r json.RawMessage) (string, bool) {
	r = bytesTrimLeft(r)
	if len(r) == 0 {
		return "", false
	}
	switch c := r[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(r, &s) != nil {
			return "", false
		}
		return s, true
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		if json.Unmarshal(r, &n) != nil {
			return "", false
		}
		return n.String(), true
	case c == 't':
		return "1", true
	case c == 'f':
		return "0", true
	}
	return "", false
}

// parseIsInvalid reports whether err is a client error (400) rather than
// an unavailable site list (503).
func parseIsInvalid(err error) bool {
	return errors.Is(err, analytics.ErrInvalid)
}
