package analytics

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------

// HitID identifies one tracking request from the moment ingest accepts it.
// The first 6 bytes are the Unix time in milliseconds (big endian) so IDs sort
// roughly by arrival; the other 10 are random. It is unique across ingest
// nodes without coordination and is kept with the stored action, so any row
// can be traced back to the request that made it.
type HitID [16]byte

// NewHitID returns a fresh HitID for a hit accepted at t.
// It is safe for concurrent use and does not block.
func NewHitID(t time.Time) HitID {
	var id HitID
	ms := uint64(t.UnixMilli())
	id[0] = byte(ms >> 40)
	id[1] = byte(ms >> 32)
	id[2] = byte(ms >> 24)
	id[3] = byte(ms >> 16)
	id[4] = byte(ms >> 8)
	id[5] = byte(ms)
	binary.BigEndian.PutUint64(id[6:14], rand.Uint64())
	binary.BigEndian.PutUint16(id[14:16], uint16(rand.Uint32()))
	return id
}

// IsZero reports whether id is the zero HitID (no ID assigned).
func (id HitID) IsZero() bool { return id == HitID{} }

// String returns id as 32 lower-case hex digits.
func (id HitID) String() string { return hex.EncodeToString(id[:]) }

// VisitorID is Matomo's 8-byte visitor id (log_visit.idvisitor), written as
// 16 hex digits on the wire (`_id`, `cid`) and in the Reporting API.
// The zero value means "no visitor id".
type VisitorID [8]byte

// ParseVisitorID parses the first 16 hex digits of s, as Matomo does for
// `_id`. It fails with ErrInvalid when s is shorter than 16 characters or
// its first 16 characters are not hex.
func ParseVisitorID(s string) (VisitorID, error) {
	var v VisitorID
	if len(s) < 16 {
		return v, fmt.Errorf("analytics: visitor id %q: need 16 hex digits: %w", s, ErrInvalid)
	}
	if _, err := hex.Decode(v[:], []byte(s[:16])); err != nil {
		return VisitorID{}, fmt.Errorf("analytics: visitor id %q: not hex: %w", s, ErrInvalid)
	}
	return v, nil
}

// UserVisitorID is the visitor id Matomo derives from a User ID
// (enable_userid_overwrites_visitorid): the first 8 bytes of SHA-1(uid).
func UserVisitorID(uid string) VisitorID {
	sum := sha1.Sum([]byte(uid))
	var v VisitorID
	copy(v[:], sum[:8])
	return v
}

// IsZero reports whether v is the zero VisitorID.
func (v VisitorID) IsZero() bool { return v == VisitorID{} }

// String returns v as 16 lower-case hex digits.
func (v VisitorID) String() string { return hex.EncodeToString(v[:]) }

// Position is a hit's place in its queue shard. Positions of one shard
// strictly increase in delivery order and never repeat, even across restarts
// of the queue (drivers put a generation or a timestamp in Hi). A store keeps,
// per shard, the Position of the last applied hit (the checkpoint): a
// redelivered hit at or before it has already been applied and is skipped.
type Position struct{ Hi, Lo uint64 }

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	return p.Hi < q.Hi || (p.Hi == q.Hi && p.Lo < q.Lo)
}

// IsZero reports whether p is the zero Position (before every hit).
func (p Position) IsZero() bool { return p == Position{} }

// String formats p as "hi-lo", the shape of a Redis stream ID.
func (p Position) String() string {
	return strconv.FormatUint(p.Hi, 10) + "-" + strconv.FormatUint(p.Lo, 10)
}

// ParsePosition parses the "hi-lo" form written by String.
func ParsePosition(s string) (Position, error) {
	hi, lo, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("analytics: position %q: %w", s, ErrInvalid)
	}
	h, err1 := strconv.ParseUint(hi, 10, 64)
	l, err2 := strconv.ParseUint(lo, 10, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("analytics: position %q: %w", s, ErrInvalid)
	}
	return Position{h, l}, nil
}

// ---------------------------------------------------------------------------
// Sites and goals
// ---------------------------------------------------------------------------

// Toggle is a per-site setting that can defer to the instance default.
type Toggle int8

const (
	Default Toggle = 0  // use the instance default
	On      Toggle = 1  // enabled for this site
	Off     Toggle = -1 // disabled for this site
)

// Resolve returns the effective value of t given the instance default.
func (t Toggle) Resolve(def bool) bool {
	switch t {
	case On:
		return true
	case Off:
		return false
	}
	return def
}

// DNTMode says what to do with a hit that carries `DNT: 1` or `Sec-GPC: 1`.
type DNTMode uint8

const (
	DNTDefault DNTMode = iota // use the instance default
	DNTIgnore                 // track as usual
	DNTExclude                // drop the hit (Matomo's behaviour)
	DNTCount                  // "count, don't track": keep the hit for aggregates, store no identifier
)

// ConsentMode is what a site's consent banner requires, enforced on the
// server too (Matomo's requireConsent / requireCookieConsent), so that a
// misconfigured page cannot track more than the visitor agreed to.
type ConsentMode uint8

const (
	ConsentDefault  ConsentMode = iota // use the instance default
	ConsentNone                        // no consent needed
	ConsentCookies                     // requireCookieConsent: a hit without consent=1 is cookieless (_id, cid and uid ignored)
	ConsentTracking                    // requireConsent: a hit without consent=1 is dropped
)

// Privacy holds a site's privacy settings. Every zero field means "use the
// instance default" (config), so a site created with a zero Privacy follows
// the instance.
type Privacy struct {
	// IPv4MaskBytes is how many trailing bytes of an IPv4 address are zeroed
	// before storage (1–4); 0 = instance default (2, as Matomo); negative =
	// no masking (the full address is kept — only with StoreIP on).
	IPv4MaskBytes int
	// IPv6MaskBits is how many trailing bits of an IPv6 address are zeroed
	// (1–128); 0 = instance default (80, Matomo's setting 2); negative = no
	// masking.
	IPv6MaskBits int
	// StoreIP: Off stores no IP at all (not even masked).
	StoreIP Toggle
	// Cookieless: On ignores `_id`/`cid` and identifies every visitor by the
	// daily-salted hash of site, IP and user agent.
	Cookieless Toggle
	// DNT and GPC: what a `DNT: 1` / `Sec-GPC: 1` header does.
	DNT DNTMode
	GPC DNTMode
	// HashUserID stores user ids hashed (Matomo's anonymizeUserId).
	HashUserID Toggle
	// Consent: what a hit without consent=1 may still do.
	Consent ConsentMode
	// ScrubPII removes e-mail addresses, long digit runs and secret-like
	// query parameters from URLs, titles, referrers and event fields.
	ScrubPII Toggle
	// RetentionDays deletes raw log data older than this many days;
	// 0 = instance default, negative = keep forever.
	RetentionDays int
}

// Site is a tracked website (Matomo's `site` table).
type Site struct {
	ID   int
	Name string
	// URLs: the main URL first, then aliases. Used for outlink detection,
	// "website" referrers from the site itself and ExcludeUnknownURLs.
	URLs []string
	// Timezone: an IANA name ("Europe/Paris") or Matomo's fixed offsets
	// ("UTC", "UTC+5.5", "UTC-3"). Empty means UTC. Visits are split at
	// midnight and reports are built in this zone.
	Timezone  string
	Currency  string // ISO 4217, default "USD"
	Ecommerce bool
	// SiteSearch detects site searches from page URLs with the keyword and
	// category parameters below (Matomo's defaults when empty).
	SiteSearch           bool
	SearchKeywordParams  []string
	SearchCategoryParams []string
	// Exclusions: IPs (single, a.b.c.* wildcard, CIDR, IPv6), query
	// parameters stripped from URLs (in addition to the instance list), user
	// agent substrings, referrer hosts treated as absent.
	ExcludedIPs        []string
	ExcludedParams     []string
	ExcludedUserAgents []string
	ExcludedReferrers  []string
	ExcludeUnknownURLs bool
	KeepURLFragment    bool
	Privacy            Privacy
	Created            time.Time
}

// Location returns the site's time zone. Matomo's "UTC±h[.5|.75]" offsets
// are accepted as fixed zones.
func (s *Site) Location() (*time.Location, error) {
	return ParseTimezone(s.Timezone)
}

// ParseTimezone parses an IANA zone name or Matomo's "UTC", "UTC+5.5",
// "UTC-3" fixed offsets. The empty string is UTC.
func ParseTimezone(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	if rest, ok := strings.CutPrefix(tz, "UTC"); ok {
		f, err := strconv.ParseFloat(rest, 64)
		if err != nil || f < -12 || f > 14 {
			return nil, fmt.Errorf("analytics: time zone %q: %w", tz, ErrInvalid)
		}
		return time.FixedZone(tz, int(f*3600)), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("analytics: time zone %q: %v: %w", tz, err, ErrInvalid)
	}
	return loc, nil
}

// Goal is a conversion goal of a site. Manual goals are converted only by
// a tracking request with `idgoal=<ID>`; the others match actions.
type Goal struct {
	SiteID int
	ID     int
	Name   string
	// Match: "manually", "url", "title", "file", "external_website",
	// "event_category", "event_action", "event_name".
	Match         string
	Pattern       string
	PatternType   string // "contains", "exact", "regex"
	CaseSensitive bool
	AllowMultiple bool    // several conversions per visit
	Revenue       float64 // default revenue when the request sends none
}

// ---------------------------------------------------------------------------
// Hits: what ingest accepts and the queue carries
// ---------------------------------------------------------------------------

// HitKind is what a tracking request records, decided at ingest by
// Matomo's rules (reference §1.2): ping, then goal/ecommerce, then event,
// content, site search, outlink/download, custom action, else page view.
type HitKind uint8

const (
	KindPageview           HitKind = iota + 1
	KindEvent                      // e_c and e_a both non-empty
	KindSiteSearch                 // search=
	KindOutlink                    // link=
	KindDownload                   // download=
	KindContentImpression          // c_n without c_i
	KindContentInteraction         // c_n with c_i
	KindGoal                       // idgoal>0: a manual conversion, no action
	KindEcommerceOrder             // idgoal=0 with ec_id
	KindCartUpdate                 // idgoal=0 without ec_id
	KindPing                       // ping=1: extends a visit, never opens one
	KindCustom                     // ca=1 that no handler claims: counts the visit, no action
)

var hitKindNames = [...]string{"", "pageview", "event", "search", "outlink", "download",
	"content_impression", "content_interaction", "goal", "ecommerce_order", "cart_update", "ping", "custom"}

func (k HitKind) String() string {
	if int(k) < len(hitKindNames) && k != 0 {
		return hitKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// HitFlags are yes/no facts about a hit.
type HitFlags uint16

const (
	FlagNewVisit      HitFlags = 1 << iota // new_visit=1
	FlagDNT                                // DNT: 1 or X-Do-Not-Track: 1 header
	FlagGPC                                // Sec-GPC: 1 header
	FlagConsent                            // consent=1
	FlagTrackBots                          // bots=1: track even when the UA/IP is a bot
	FlagAuthenticated                      // a valid token_auth came with the hit
	FlagCustomAction                       // ca=1
	FlagNoCookies                          // the tracker said cookies are off (cookie=0)
	FlagRevenue                            // revenue= was sent (0 included): a goal's default revenue does not apply
)

// Plugin flags reported by the browser (`pdf qt realp wma fla java ag
// cookie`), as bits of Device.Plugins.
const (
	PluginPDF uint16 = 1 << iota
	PluginQuickTime
	PluginRealPlayer
	PluginWindowsMedia
	PluginFlash
	PluginJava
	PluginSilverlight
	PluginCookie
)

// Device holds what the tracker reports about the browser.
type Device struct {
	ScreenWidth, ScreenHeight uint16 // res=WxH; 0 = unknown
	// Local time of the visitor (h, m, s); -1 = unknown.
	LocalHour, LocalMinute, LocalSecond int8
	Plugins                             uint16 // Plugin* bits
}

// Event is Matomo's event (e_c, e_a, e_n, e_v).
type Event struct {
	Category, Action, Name string
	Value                  float64
	HasValue               bool
}

// Search is a site search (search, search_cat, search_count).
type Search struct {
	Keyword, Category string
	Count             int // -1 = not sent
}

// Content is a content impression or interaction (c_n, c_p, c_t, c_i).
type Content struct {
	Name, Piece, Target, Interaction string
}

// Item is an ecommerce line (ec_items entries; log_conversion_item).
type Item struct {
	SKU        string
	Name       string
	Categories []string // at most 5
	Price      float64
	Quantity   int
	Deleted    bool // in a stored cart: no longer in the latest cart update
}

// Order is the ecommerce part of an idgoal=0 request; OrderID is empty for
// a cart update.
type Order struct {
	OrderID                           string
	Revenue                           float64 // grand total
	Subtotal, Tax, Shipping, Discount float64
	Items                             []Item
}

// ProductView is a product or category page view (_pks, _pkn, _pkc, _pkp).
type ProductView struct {
	SKU, Name  string
	Categories []string
	Price      float64
}

// PageTiming is page performance in milliseconds (pf_net … pf_onl);
// -1 = not sent.
type PageTiming struct {
	Network, Server, Transfer, DOMProcessing, DOMCompletion, OnLoad int32
}

// Dimension is a custom dimension value (dimensionN).
type Dimension struct {
	ID    int
	Value string
}

// Attribution is the referrer the tracker remembered for goal attribution
// (_rcn, _rck, _refts, _ref): it never changes the visit's referrer.
type Attribution struct {
	CampaignName, CampaignKeyword string
	ReferrerURL                   string
	Time                          time.Time
}

// Hit is one parsed, validated tracking request. Ingest builds it, the queue
// carries it (drivers encode it compactly), the worker enriches and
// sessionizes it. Everything the request said is here in typed form;
// nothing is looked up yet. Sub-structs are nil when the request did not
// use that parameter group.
//
// IP is the full client address: it lives only in memory and in the queue,
// and the worker anonymizes it before anything is stored.
type Hit struct {
	ID     HitID
	Pos    Position // set by the queue on delivery; zero before
	SiteID int
	Time   time.Time // when it happened: receive time, or an authenticated cdt
	Kind   HitKind
	Flags  HitFlags

	IP        netip.Addr
	UserAgent string
	Lang      string // lang param, else Accept-Language
	UAData    string // client hints JSON (uadata)

	UserID   string    // uid
	CID      VisitorID // cid (forced visitor id)
	CookieID VisitorID // _id

	URL        string // page URL (url, else Referer header)
	Title      string // action_name
	Referrer   string // urlref
	PageViewID string // pv_id
	Link       string // outlink / download target

	Event       *Event
	Search      *Search
	Content     *Content
	GoalID      int // idgoal for KindGoal; 0 otherwise
	Revenue     float64
	Order       *Order
	Product     *ProductView
	Timing      *PageTiming
	Attribution *Attribution
	Location    *Location // authenticated country/region/city/lat/long override
	Dimensions  []Dimension
	Device      Device
}

// Has reports whether all of f are set on h.
func (h *Hit) Has(f HitFlags) bool { return h.Flags&f == f }

// ShardKey returns the key that decides the hit's queue shard, so one
// visitor's hits stay in order: uid → cid → _id → site, IP and user agent.
// It is FNV-1a 64 over those inputs: the same on every node and release.
// It does not allocate.
func (h *Hit) ShardKey() uint64 {
	f := fnvOffset
	switch {
	case h.UserID != "":
		f = fnvString(fnvByte(f, 'u'), h.UserID)
	case !h.CID.IsZero():
		f = fnvBytes(fnvByte(f, 'c'), h.CID[:])
	case !h.CookieID.IsZero():
		f = fnvBytes(fnvByte(f, 'i'), h.CookieID[:])
	default:
		f = fnvByte(f, 'h')
		for i := 0; i < 64; i += 8 {
			f = fnvByte(f, byte(uint64(h.SiteID)>>i))
		}
		b := h.IP.As16()
		f = fnvBytes(f, b[:])
		f = fnvString(f, h.UserAgent)
	}
	return f
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvByte(f uint64, c byte) uint64 { return (f ^ uint64(c)) * fnvPrime }

func fnvString(f uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		f = (f ^ uint64(s[i])) * fnvPrime
	}
	return f
}

func fnvBytes(f uint64, b []byte) uint64 {
	for _, c := range b {
		f = (f ^ uint64(c)) * fnvPrime
	}
	return f
}

// ---------------------------------------------------------------------------
// Enriched, stored data
// ---------------------------------------------------------------------------

// Location is where an address is (Geo) or what an authenticated request
// says it is. The zero Location means unknown.
type Location struct {
	CountryCode string  // ISO 3166-1 alpha-2, lower case as Matomo ("gb"); "" unknown
	RegionCode  string  // ISO 3166-2 subdivision suffix ("ENG", "WA")
	RegionName  string  // "England"
	City        string  // "London"
	Latitude    float64 // valid only when HasCoords
	Longitude   float64
	HasCoords   bool
	TimeZone    string // IANA name from the database, "" unknown
}

// IsZero reports whether l knows nothing.
func (l Location) IsZero() bool { return l == Location{} }

// ReferrerType is Matomo's referer_type.
type ReferrerType uint8

const (
	ReferrerDirect   ReferrerType = 1
	ReferrerSearch   ReferrerType = 2
	ReferrerWebsite  ReferrerType = 3
	ReferrerCampaign ReferrerType = 6
	ReferrerSocial   ReferrerType = 7
)

// String returns Matomo's API name ("direct", "search", "website",
// "campaign", "social").
func (t ReferrerType) String() string {
	switch t {
	case ReferrerDirect:
		return "direct"
	case ReferrerSearch:
		return "search"
	case ReferrerWebsite:
		return "website"
	case ReferrerCampaign:
		return "campaign"
	case ReferrerSocial:
		return "social"
	}
	return ""
}

// Referrer is how a visit arrived.
type Referrer struct {
	Type    ReferrerType
	Name    string // search engine, website host, campaign name, social network
	Keyword string // search keyword or campaign keyword
	URL     string
	// Campaign details from utm_/mtm_/pk_ parameters.
	CampaignSource, CampaignMedium, CampaignContent, CampaignID string
}

// DeviceType follows Matomo's DevicesDetection types.
type DeviceType uint8

const (
	DeviceUnknown DeviceType = iota
	DeviceDesktop
	DeviceSmartphone
	DeviceTablet
	DeviceFeaturePhone
	DeviceConsole
	DeviceTV
	DeviceCarBrowser
	DeviceSmartDisplay
	DeviceCamera
	DevicePortableMediaPlayer
	DevicePhablet
	DeviceSmartSpeaker
	DeviceWearable
	DevicePeripheral
)

var deviceTypeNames = [...]string{"Unknown", "Desktop", "Smartphone", "Tablet", "Feature phone", "Console",
	"TV", "Car browser", "Smart display", "Camera", "Portable media player", "Phablet", "Smart speaker",
	"Wearable", "Peripheral"}

// String returns Matomo's label ("Desktop", "Smartphone", …).
func (d DeviceType) String() string {
	if int(d) < len(deviceTypeNames) {
		return deviceTypeNames[d]
	}
	return "Unknown"
}

// Client is the parsed user agent and browser report of a visit.
type Client struct {
	BrowserName, BrowserVersion, BrowserEngine string
	OSName, OSVersion                          string
	DeviceType                                 DeviceType
	DeviceBrand, DeviceModel                   string
	Resolution                                 string // "1920x1080" or "unknown"
	Plugins                                    uint16 // Plugin* bits
	Lang                                       string // first 20 chars of the browser language
}

// Visit is one session of one visitor on one site (log_visit). The worker
// keeps the state of open visits and writes the whole row each time it
// changes; counters are absolute values, so writing the same Visit twice
// is harmless.
type Visit struct {
	ID        int64 // from Store.ReserveIDs(ctx, IDVisit, n)
	SiteID    int
	VisitorID VisitorID // idvisitor
	ConfigID  VisitorID // daily-salted hash of site, IP and user agent (config_id)
	UserID    string    // possibly hashed (Privacy.HashUserID)
	// Profilable is false when the visit has no visitor id or user id of
	// its own (cookieless, or "count, don't track").
	Profilable bool

	FirstActionTime time.Time // UTC
	LastActionTime  time.Time // UTC
	TotalTime       int       // seconds: 1 + last − first once there is a second action
	LocalTime       int       // visitor's local time of day in seconds; -1 unknown

	Actions      int // visit_total_actions: page views, downloads, outlinks, searches, events, content interactions
	Interactions int // visit_total_interactions
	Searches     int
	Events       int
	Pageviews    int // pageview_position of the last page view

	VisitCount        int  // visitor_count_visits: 1 for the first visit of a visitor
	Returning         int8 // 0 new, 1 returning, 2 returning customer
	SecondsSinceFirst int64
	SecondsSinceLast  int64
	SecondsSinceOrder int64 // -1 never ordered
	GoalConverted     bool
	GoalBuyer         int8 // 0 none, 1 ordered, 2 open cart, 3 ordered and open cart

	EntryURL, EntryTitle string
	ExitURL, ExitTitle   string
	LastActionID         int64 // last_idlink_va

	Referrer   Referrer
	Client     Client
	Location   Location
	IP         netip.Addr // anonymized, or invalid (zero) when no IP is stored
	Dimensions []Dimension
}

// ActionType is Matomo's action type of a stored action.
type ActionType uint8

const (
	ActionPageview ActionType = iota + 1
	ActionOutlink
	ActionDownload
	ActionSiteSearch
	ActionEvent
	ActionContentImpression
	ActionContentInteraction
)

var actionTypeNames = [...]string{"", "action", "outlink", "download", "search", "event", "contentImpression", "contentInteraction"}

// String returns the Live API's action `type` ("action", "outlink",
// "download", "search", "event", "contentImpression", "contentInteraction").
func (t ActionType) String() string {
	if int(t) < len(actionTypeNames) && t != 0 {
		return actionTypeNames[t]
	}
	return ""
}

// Action is one recorded action of a visit (log_link_visit_action).
// Names (URLs, titles, event fields) are plain strings here; a store may
// keep them in a dictionary (log_action) — that is its business.
type Action struct {
	ID        int64 // from Store.ReserveIDs(ctx, IDAction, n)
	HitID     HitID
	VisitID   int64
	SiteID    int
	VisitorID VisitorID
	Time      time.Time // UTC
	Type      ActionType
	URL       string // page URL; the link target for outlinks and downloads
	Title     string // page title
	// The page before this one in the visit (transitions).
	PrevURL, PrevTitle string
	PageViewID         string
	Position           int // pageview_position
	TimeSpentRef       int // seconds since the previous action, ≤ visit length

	Event      *Event
	Search     *Search
	Content    *Content
	Product    *ProductView
	Timing     *PageTiming
	Dimensions []Dimension
}

// Conversion is a goal conversion, an ecommerce order or the visit's open
// cart (log_conversion with its items).
type Conversion struct {
	VisitID   int64
	SiteID    int
	VisitorID VisitorID
	Time      time.Time
	GoalID    int // >0 goal, 0 ecommerce order, -1 open (abandoned) cart
	// Buster separates several conversions of one goal in one visit: 0
	// unless the goal allows multiple conversions.
	Buster                            int64
	OrderID                           string
	ActionID                          int64 // the action that converted; 0 none
	URL                               string
	Revenue                           float64
	Subtotal, Tax, Shipping, Discount float64
	Items                             []Item
	PageviewsBefore                   int
	VisitCount                        int
	Returning                         int8
	Referrer                          Referrer
	CountryCode                       string
}

// Limits every store enforces (WriteBatch fails with ErrInvalid beyond
// them) and the processor respects.
const (
	// MaxNameLen bounds, in bytes, every name a store keeps in its action
	// dictionary: URLs, titles, event, content, search and product fields.
	MaxNameLen = 4096
	// MaxCategories bounds the categories of a product view or an item.
	MaxCategories = 5
)

// Goal IDs with a special meaning in Conversion.GoalID.
const (
	GoalEcommerceOrder = 0
	GoalCart           = -1
)

// VisitDetails is a visit with what happened in it, as the visits log and
// the archiver read it.
type VisitDetails struct {
	Visit
	ActionList  []Action     // in time order
	Conversions []Conversion // in time order
}

// ---------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------

// Queue carries hits from ingest to workers. It is sharded by Hit.ShardKey
// so one visitor's hits stay in order.
//
// Delivery is at least once: a hit is handed out again until a Delivery that
// contains it is acknowledged. A shard has at most one outstanding Delivery
// at a time, so whoever holds it processes that shard's hits alone and in
// order. All methods are safe for concurrent use.
type Queue interface {
	// Enqueue adds hits. When it returns nil the hits are accepted
	// (durably for a durable driver) and will be delivered. It blocks at most
	// for one round trip to the backend or until ctx is done; on error none,
	// some or all hits may have been accepted — ingest answers the client
	// with an error and the client retries; the worker's per-shard
	// checkpoint does not protect against that duplicate, the HitID does for
	// drivers that deduplicate. ErrUnavailable when the backend is away,
	// ErrClosed after Close. Ingest does not retry: it spools or answers 503.
	Enqueue(ctx context.Context, hits []Hit) error

	// Receive waits until some shard with no outstanding Delivery has hits,
	// then returns up to max of them, oldest first, with Hit.Pos set. It
	// returns as soon as at least one hit is ready (it does not wait to fill
	// the batch). It blocks until then, ctx is done (ctx.Err()), or the queue
	// is closed and empty (ErrClosed). max < 1 is ErrInvalid.
	Receive(ctx context.Context, max int) (*Delivery, error)

	// Stats reports depth and age for metrics and backpressure. It may
	// take one round trip.
	Stats(ctx context.Context) (QueueStats, error)

	// Close stops accepting hits. Receive keeps returning queued hits until
	// the queue is empty (drain), then ErrClosed — and ErrClosed only once
	// nothing is held, outstanding deliveries included, so that a Nack during
	// shutdown is not lost. A durable driver may bound the drain (its hits
	// stay in the backend for the next consumer). Close is idempotent.
	Close() error
}

// Delivery is a batch of hits of one shard handed to one consumer. The
// consumer applies it, then calls Ack; or calls Nack to give it back. A
// Delivery neither acked nor nacked within the driver's ack timeout is
// redelivered (the consumer is presumed dead).
type Delivery struct {
	// Shard names the shard uniquely and stably across processes and
	// restarts ("redis:footfall:7"); stores key checkpoints by it.
	Shard string
	Hits  []Hit
	// Attempt is how many times the first hit of this batch has been
	// delivered, counting this one (1 on first delivery).
	Attempt int
	// Acker is set by the driver.
	Acker Acker
}

// Ack acknowledges every hit of d: they will not be delivered again.
// Call it only after their effect is committed.
func (d *Delivery) Ack(ctx context.Context) error { return d.Acker.Ack(ctx, d) }

// Nack gives the hits of d back for redelivery, in order, ahead of newer
// hits of the shard. cause is recorded for diagnostics (and dead-lettering
// by drivers that support it).
func (d *Delivery) Nack(ctx context.Context, cause error) error { return d.Acker.Nack(ctx, d, cause) }

// Acker is implemented by queue drivers behind Delivery.Ack and Nack.
// Acking or nacking a Delivery twice returns an error wrapping ErrConflict
// and changes nothing. A late Ack — after the ack timeout, or after the
// consumer lost the shard's lease — either fails with ErrConflict (and the
// hits are delivered again) or succeeds (and they never come back); a driver
// picks one and keeps to it. Either way the store checkpoint keeps the effect
// exactly once.
type Acker interface {
	Ack(ctx context.Context, d *Delivery) error
	Nack(ctx context.Context, d *Delivery, cause error) error
}

// QueueStats is a snapshot of a queue.
type QueueStats struct {
	Depth     int64         // hits accepted and not yet acknowledged
	InFlight  int64         // of those, hits in outstanding deliveries
	OldestAge time.Duration // age of the oldest unacknowledged hit
	Bytes     int64         // backend memory used by queued hits, when known
	Shards    []ShardStats
}

// ShardStats describes one shard.
type ShardStats struct {
	Shard     string
	Depth     int64
	OldestAge time.Duration
	Owner     string        // consumer holding the shard's lease, if any
	LeaseAge  time.Duration // how long the owner has held it
}

// DeadLetterer is an optional Queue capability: move hits that always fail
// to a dead-letter store with their error so they stop blocking their shard.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, d *Delivery, hits []Hit, cause error) error
}

// ---------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------

// SiteStore manages sites and goals. Safe for concurrent use.
type SiteStore interface {
	// Sites returns every site, ordered by ID.
	Sites(ctx context.Context) ([]Site, error)
	// Site returns one site or ErrNotFound.
	Site(ctx context.Context, id int) (Site, error)
	// CreateSite stores s with a new ID (and Created when zero) and sets them on s.
	CreateSite(ctx context.Context, s *Site) error
	// UpdateSite replaces site s.ID; ErrNotFound when it does not exist.
	UpdateSite(ctx context.Context, s Site) error
	// Goals returns the site's goals ordered by ID.
	Goals(ctx context.Context, siteID int) ([]Goal, error)
	// CreateGoal stores g with a new per-site ID and sets it on g.
	CreateGoal(ctx context.Context, g *Goal) error
}

// IDKind names an ID sequence of ReserveIDs.
type IDKind uint8

const (
	IDVisit IDKind = iota + 1
	IDAction
)

// LogBatch is everything one queue Delivery changes, written in one
// transaction together with the shard checkpoint.
type LogBatch struct {
	Shard string
	// From is the checkpoint the writer read (zero if none); To is the
	// Position of the last hit applied. The write fails with ErrConflict,
	// writing nothing, unless the stored checkpoint equals From.
	From, To Position
	// Visits are upserted by ID: the stored row becomes exactly this.
	Visits []Visit
	// Actions are inserted; an action whose ID exists is left alone.
	Actions []Action
	// Conversions are inserted; a duplicate (same site and OrderID for
	// orders; same VisitID, GoalID and Buster otherwise) is left alone —
	// except the open cart (GoalCart), which is replaced.
	Conversions []Conversion
	// Invalidated lists site days (site time zone, "2006-01-02") that
	// received data after the day was over and must be archived again.
	Invalidated []SiteDay
}

// SiteDay is a day of a site, in its time zone.
type SiteDay struct {
	SiteID int
	Day    string // "2006-01-02"
}

// LogWriter writes processed log data. Safe for concurrent use by writers
// of different shards; one shard is written by one writer at a time (the
// checkpoint check fences out a stale one).
type LogWriter interface {
	// Checkpoint returns the shard's last applied Position; zero if the
	// shard was never written.
	Checkpoint(ctx context.Context, shard string) (Position, error)
	// WriteBatch applies b atomically: all of it and the new checkpoint, or
	// nothing. ErrConflict when the checkpoint is not b.From. A retryable
	// error (IsRetryable) may be retried with the same batch.
	WriteBatch(ctx context.Context, b *LogBatch) error
	// ReserveIDs reserves n consecutive IDs of a kind and returns the
	// first. IDs are never handed out twice, even across processes; a
	// reservation that is never used leaves a gap, which is harmless.
	ReserveIDs(ctx context.Context, kind IDKind, n int) (first int64, err error)
}

// VisitorMatch says which stored visit belongs to a visitor. Exactly one
// of VisitorID and ConfigID is non-zero.
type VisitorMatch struct {
	SiteID    int
	VisitorID VisitorID // match log_visit.idvisitor
	ConfigID  VisitorID // match log_visit.config_id
}

// VisitFinder looks up visits for sessionization. Safe for concurrent use.
type VisitFinder interface {
	// LastVisit returns the visitor's most recent visit (by last action
	// time) regardless of age, or ErrNotFound. The worker decides whether
	// it is still open; an older one gives the visit count and returning
	// status.
	LastVisit(ctx context.Context, m VisitorMatch) (Visit, error)
}

// BatchVisitFinder is an optional capability of a VisitFinder: LastVisit
// for many visitors in one round trip. The worker looks up every visitor of
// a delivery that it has not cached at once, instead of one query each.
type BatchVisitFinder interface {
	// LastVisits returns, for each match that has a visit, its most recent
	// visit, as LastVisit would; matches without one are absent. Every
	// match must be valid (exactly one id set), else ErrInvalid.
	LastVisits(ctx context.Context, ms []VisitorMatch) (map[VisitorMatch]Visit, error)
}

// VisitQuery selects visits of one site.
type VisitQuery struct {
	SiteID int
	// From and To bound the last action time: From ≤ t < To; zero = open.
	From, To time.Time
	// VisitorID, when non-zero, selects one visitor's visits.
	VisitorID VisitorID
	// NewestFirst orders by last action time descending (the visits log);
	// otherwise ascending by first action time (archiving).
	NewestFirst bool
	// Limit caps the number of visits; 0 = no limit.
	Limit int
	// WithActions fills ActionList and Conversions.
	WithActions bool
}

// LogReader reads stored log data. Safe for concurrent use.
type LogReader interface {
	// Visits calls fn for each visit matching q, in q's order; an error
	// from fn stops the scan and is returned.
	Visits(ctx context.Context, q VisitQuery, fn func(*VisitDetails) error) error
}

// SaltStore keeps the daily salts of cookieless visitor hashes. A salt
// exists only in the store (shared by every worker) and is deleted once its
// day is over.
type SaltStore interface {
	// DailySalt returns the salt of a site's day ("2006-01-02" in the site
	// time zone), creating a random 32-byte one atomically if there is none,
	// so that concurrent workers agree.
	DailySalt(ctx context.Context, siteID int, day string) ([]byte, error)
	// DeleteSaltsBefore deletes the salts of days before day of the given
	// sites, or of every site when none is given, and reports how many it
	// deleted. (Days are local to each site, so a caller deleting what is
	// over in each site's time zone passes the sites that share a cutoff.)
	DeleteSaltsBefore(ctx context.Context, day string, sites ...int) (int, error)
}

// Store is everything a worker and the admin need from storage. The parts
// are small so that a caller can ask for only what it uses.
//
// Rules every Store keeps (store/storetest checks them): times come back in
// UTC truncated to the millisecond; nil and empty slices are equal; Goals
// and CreateGoal on an unknown site fail with ErrNotFound and goal IDs count
// 1, 2, … per site; ErrInvalid for a VisitorMatch with both ids or neither,
// ReserveIDs with n ≤ 0, a LogBatch whose To is before From, an order
// without an OrderID, a name longer than MaxNameLen or more than
// MaxCategories categories.
type Store interface {
	SiteStore
	LogWriter
	VisitFinder
	LogReader
	SaltStore
	// Close releases the store; later calls fail with ErrClosed.
	// Idempotent.
	Close() error
}

// Migrator is an optional Store capability: versioned schema migrations.
type Migrator interface {
	// Migrate brings the schema to the newest version this build knows.
	// Concurrent calls (even from several processes) are serialized.
	Migrate(ctx context.Context) error
	// SchemaVersion reports the applied version and the newest known one.
	SchemaVersion(ctx context.Context) (applied, known int, err error)
}

// Deleted counts the rows a retention or GDPR deletion removed.
type Deleted struct {
	Visits, Actions, Conversions, Items int64
}

// Pruner is an optional Store capability: raw-log retention.
type Pruner interface {
	// DeleteLogsBefore deletes the site's visits whose last action is
	// strictly before before — whole, with their actions, conversions and
	// items — in transactions of at most chunk visits so that ingestion
	// never waits long. It returns what it deleted; on error, what was deleted so far.
	DeleteLogsBefore(ctx context.Context, siteID int, before time.Time, chunk int) (Deleted, error)
	// DeleteUnusedNames deletes dictionary entries no stored row refers
	// to any more, at most chunk per transaction, and reports how many.
	DeleteUnusedNames(ctx context.Context, chunk int) (int64, error)
}

// VisitorFilter selects one visitor's visits for the GDPR tools: those with
// this visitor id or this (stored) user id. At least one is set.
type VisitorFilter struct {
	VisitorID VisitorID
	UserID    string
}

// VisitorEraser is an optional Store capability: the GDPR right of access
// and right to erasure for one visitor. siteID 0 means every site.
type VisitorEraser interface {
	// ExportVisitor returns every stored visit of the visitor with its
	// actions and conversions, oldest first.
	ExportVisitor(ctx context.Context, siteID int, f VisitorFilter) ([]VisitDetails, error)
	// DeleteVisitor deletes them all, atomically.
	DeleteVisitor(ctx context.Context, siteID int, f VisitorFilter) (Deleted, error)
}

// Pinger is an optional capability of a Store or Queue: a cheap check that
// the backend answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// ---------------------------------------------------------------------------
// Geo and Archiver
// ---------------------------------------------------------------------------

// Geo resolves an address to a Location. Lookup must be safe for concurrent
// use and fast (it runs per hit in the worker, from memory, no I/O). A
// private, reserved or unknown address is a zero Location and a nil error;
// an error means the database itself failed.
type Geo interface {
	Lookup(ip netip.Addr) (Location, error)
}

// PeriodKind is Matomo's period.
type PeriodKind uint8

const (
	PeriodDay PeriodKind = iota + 1
	PeriodWeek
	PeriodMonth
	PeriodYear
	PeriodRange
)

// Period is a span of whole days in a site's time zone; Start and End are
// "2006-01-02" dates, both included. Weeks run Monday to Sunday.
type Period struct {
	Kind       PeriodKind
	Start, End string
}

// Archiver builds the reports of one site and period from log data (days)
// or from sub-period archives (week, month, year). Safe for concurrent use
// on different sites.
type Archiver interface {
	Archive(ctx context.Context, siteID int, p Period) error
}
