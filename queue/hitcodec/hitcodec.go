package hitcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
)

// Version is the format version that Append writes and the newest one
// Decode reads.
const Version = 1

// ErrVersion is returned (wrapped, together with analytics.ErrInvalid) by
// Decode for input written by a newer encoder than this one.
var ErrVersion = errors.New("hitcodec: unsupported version")

// Presence bits, most common first so that a typical page view needs
// three bitmap bytes.
const (
	bID = 1 << iota
	bSiteID
	bTime
	bTimeNanos
	bIPv4
	bUserAgent
	bURL
	// second bitmap byte
	bTitle
	bCookieID
	bPageViewID
	bDevRes
	bDevTime
	bDevPlugins
	bLang
	// third
	bFlags
	bReferrer
	bUAData
	bIPv6
	bUserID
	bCID
	bEvent
	// fourth
	bSearch
	bContent
	bLink
	bGoalID
	bRevenue
	bOrder
	bProduct
	// fifth
	bTiming
	bAttribution
	bLocation
	bDimensions
	bPos
	bIPZone
	bKnown = bIPZone<<1 - 1
)

// Append appends the encoding of h to dst and returns the extended slice.
// It does not fail: every Hit has an encoding (times outside the int64
// range of Unix milliseconds wrap, see the package documentation).
func Append(dst []byte, h *analytics.Hit) []byte {
	var bits uint64
	set := func(b uint64, ok bool) {
		if ok {
			bits |= b
		}
	}
	idMs := idMillis(h.ID)
	set(bID, !h.ID.IsZero())
	set(bSiteID, h.SiteID != 0)
	set(bTime, !h.Time.IsZero())
	set(bTimeNanos, !h.Time.IsZero() && h.Time.Nanosecond()%1e6 != 0)
	set(bIPv4, h.IP.Is4())
	set(bIPv6, h.IP.Is6())
	set(bIPZone, h.IP.Zone() != "")
	set(bUserAgent, h.UserAgent != "")
	set(bURL, h.URL != "")
	set(bTitle, h.Title != "")
	set(bCookieID, !h.CookieID.IsZero())
	set(bPageViewID, h.PageViewID != "")
	set(bDevRes, h.Device.ScreenWidth != 0 || h.Device.ScreenHeight != 0)
	set(bDevTime, h.Device.LocalHour != 0 || h.Device.LocalMinute != 0 || h.Device.LocalSecond != 0)
	set(bDevPlugins, h.Device.Plugins != 0)
	set(bLang, h.Lang != "")
	set(bFlags, h.Flags != 0)
	set(bReferrer, h.Referrer != "")
	set(bUAData, h.UAData != "")
	set(bUserID, h.UserID != "")
	set(bCID, !h.CID.IsZero())
	set(bEvent, h.Event != nil)
	set(bSearch, h.Search != nil)
	set(bContent, h.Content != nil)
	set(bLink, h.Link != "")
	set(bGoalID, h.GoalID != 0)
	set(bRevenue, math.Float64bits(h.Revenue) != 0)
	set(bOrder, h.Order != nil)
	set(bProduct, h.Product != nil)
	set(bTiming, h.Timing != nil)
	set(bAttribution, h.Attribution != nil)
	set(bLocation, h.Location != nil)
	set(bDimensions, len(h.Dimensions) > 0)
	set(bPos, !h.Pos.IsZero())

	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, bits)
	dst = append(dst, byte(h.Kind))
	if bits&bID != 0 {
		dst = append(dst, h.ID[:]...)
	}
	if bits&bSiteID != 0 {
		dst = binary.AppendVarint(dst, int64(h.SiteID))
	}
	if bits&bTime != 0 {
		dst = binary.AppendVarint(dst, h.Time.UnixMilli()-idMs)
		if bits&bTimeNanos != 0 {
			dst = binary.AppendUvarint(dst, uint64(h.Time.Nanosecond()%1e6))
		}
	}
	if bits&bIPv4 != 0 {
		a := h.IP.As4()
		dst = append(dst, a[:]...)
	}
	if bits&bIPv6 != 0 {
		a := h.IP.As16()
		dst = append(dst, a[:]...)
	}
	if bits&bIPZone != 0 {
		dst = appendString(dst, h.IP.Zone())
	}
	if bits&bUserAgent != 0 {
		dst = appendAffixed(dst, h.UserAgent, uaPrefixes[:], uaSuffixes[:])
	}
	if bits&bURL != 0 {
		dst = appendAffixed(dst, h.URL, urlPrefixes[:], nil)
	}
	if bits&bTitle != 0 {
		dst = appendString(dst, h.Title)
	}
	if bits&bCookieID != 0 {
		dst = append(dst, h.CookieID[:]...)
	}
	if bits&bPageViewID != 0 {
		dst = appendString(dst, h.PageViewID)
	}
	if bits&bDevRes != 0 {
		dst = binary.AppendUvarint(dst, uint64(h.Device.ScreenWidth))
		dst = binary.AppendUvarint(dst, uint64(h.Device.ScreenHeight))
	}
	if bits&bDevTime != 0 {
		dst = append(dst, byte(h.Device.LocalHour), byte(h.Device.LocalMinute), byte(h.Device.LocalSecond))
	}
	if bits&bDevPlugins != 0 {
		dst = binary.AppendUvarint(dst, uint64(h.Device.Plugins))
	}
	if bits&bLang != 0 {
		dst = appendString(dst, h.Lang)
	}
	if bits&bFlags != 0 {
		dst = binary.AppendUvarint(dst, uint64(h.Flags))
	}
	if bits&bReferrer != 0 {
		dst = appendRelated(dst, h.Referrer, h.URL)
	}
	if bits&bUAData != 0 {
		dst = appendString(dst, h.UAData)
	}
	if bits&bUserID != 0 {
		dst = appendString(dst, h.UserID)
	}
	if bits&bCID != 0 {
		dst = append(dst, h.CID[:]...)
	}
	if e := h.Event; e != nil {
		dst = appendString(dst, e.Category)
		dst = appendString(dst, e.Action)
		dst = appendString(dst, e.Name)
		var f byte
		if e.HasValue {
			f |= 1
		}
		if math.Float64bits(e.Value) != 0 {
			f |= 2
		}
		dst = append(dst, f)
		if f&2 != 0 {
			dst = appendFloat(dst, e.Value)
		}
	}
	if s := h.Search; s != nil {
		dst = appendString(dst, s.Keyword)
		dst = appendString(dst, s.Category)
		dst = binary.AppendVarint(dst, int64(s.Count))
	}
	if c := h.Content; c != nil {
		dst = appendString(dst, c.Name)
		dst = appendString(dst, c.Piece)
		dst = appendString(dst, c.Target)
		dst = appendString(dst, c.Interaction)
	}
	if bits&bLink != 0 {
		dst = appendRelated(dst, h.Link, h.URL)
	}
	if bits&bGoalID != 0 {
		dst = binary.AppendVarint(dst, int64(h.GoalID))
	}
	if bits&bRevenue != 0 {
		dst = appendFloat(dst, h.Revenue)
	}
	if o := h.Order; o != nil {
		dst = appendString(dst, o.OrderID)
		dst = appendFloats(dst, o.Revenue, o.Subtotal, o.Tax, o.Shipping, o.Discount)
		dst = binary.AppendUvarint(dst, uint64(len(o.Items)))
		for i := range o.Items {
			it := &o.Items[i]
			dst = appendString(dst, it.SKU)
			dst = appendString(dst, it.Name)
			dst = appendStrings(dst, it.Categories)
			dst = appendFloats(dst, it.Price)
			dst = binary.AppendVarint(dst, int64(it.Quantity))
			if it.Deleted {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	}
	if p := h.Product; p != nil {
		dst = appendString(dst, p.SKU)
		dst = appendString(dst, p.Name)
		dst = appendStrings(dst, p.Categories)
		dst = appendFloats(dst, p.Price)
	}
	if t := h.Timing; t != nil {
		for _, v := range [...]int32{t.Network, t.Server, t.Transfer, t.DOMProcessing, t.DOMCompletion, t.OnLoad} {
			dst = binary.AppendVarint(dst, int64(v))
		}
	}
	if a := h.Attribution; a != nil {
		dst = appendString(dst, a.CampaignName)
		dst = appendString(dst, a.CampaignKeyword)
		dst = appendString(dst, a.ReferrerURL)
		dst = appendTime(dst, a.Time)
	}
	if l := h.Location; l != nil {
		dst = appendString(dst, l.CountryCode)
		dst = appendString(dst, l.RegionCode)
		dst = appendString(dst, l.RegionName)
		dst = appendString(dst, l.City)
		dst = appendString(dst, l.TimeZone)
		var f byte
		if l.HasCoords {
			f = 1
		}
		dst = append(dst, f)
		dst = appendFloats(dst, l.Latitude, l.Longitude)
	}
	if bits&bDimensions != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(h.Dimensions)))
		for _, d := range h.Dimensions {
			dst = binary.AppendVarint(dst, int64(d.ID))
			dst = appendString(dst, d.Value)
		}
	}
	if bits&bPos != 0 {
		dst = binary.AppendUvarint(dst, h.Pos.Hi)
		dst = binary.AppendUvarint(dst, h.Pos.Lo)
	}
	return dst
}

// idMillis returns the arrival time inside a HitID (its first 6 bytes).
func idMillis(id analytics.HitID) int64 {
	return int64(id[0])<<40 | int64(id[1])<<32 | int64(id[2])<<24 | int64(id[3])<<16 | int64(id[4])<<8 | int64(id[5])
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// appendFloats writes a one-byte mask of the non-zero values (up to 8),
// then those values.
func appendFloats(dst []byte, fs ...float64) []byte {
	var mask byte
	for i, f := range fs {
		if math.Float64bits(f) != 0 {
			mask |= 1 << i
		}
	}
	dst = append(dst, mask)
	for _, f := range fs {
		if math.Float64bits(f) != 0 {
			dst = appendFloat(dst, f)
		}
	}
	return dst
}

// appendTime writes a zero flag or the Unix milliseconds and the
// sub-millisecond nanoseconds: uvarint(nanos<<1 | 1) then varint(ms).
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()%1e6)<<1|1)
	return binary.AppendVarint(dst, t.UnixMilli())
}

// appendAffixed writes s as the indexes of its longest prefix and suffix
// from the tables (0 = none) and the rest of s.
func appendAffixed(dst []byte, s string, prefixes, suffixes []string) []byte {
	p, pl := longestPrefix(s, prefixes)
	rest := s[pl:]
	sx, sl := longestSuffix(rest, suffixes)
	dst = binary.AppendUvarint(dst, uint64(p)*affixSpan+uint64(sx))
	return appendString(dst, rest[:len(rest)-sl])
}

// affixSpan bounds the number of suffixes of a table.
const affixSpan = 16

func longestPrefix(s string, table []string) (idx, n int) {
	for i := 1; i < len(table); i++ {
		if p := table[i]; len(p) > n && len(s) >= len(p) && s[:len(p)] == p {
			idx, n = i, len(p)
		}
	}
	return idx, n
}

func longestSuffix(s string, table []string) (idx, n int) {
	for i := 1; i < len(table); i++ {
		if x := table[i]; len(x) > n && len(s) >= len(x) && s[len(s)-len(x):] == x {
			idx, n = i, len(x)
		}
	}
	return idx, n
}

// appendRelated writes s (a referrer or link) as the length of the prefix
// it shares with the page URL and the rest; when it shares nothing, the
// rest is written with the URL prefix table.
func appendRelated(dst []byte, s, url string) []byte {
	n := 0
	for n < len(s) && n < len(url) && s[n] == url[n] {
		n++
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	if n == 0 {
		return appendAffixed(dst, s, urlPrefixes[:], nil)
	}
	return appendString(dst, s[n:])
}

// Decode decodes a hit written by Append (of this or an older version).
// Strings of the result share one allocation. Malformed input is an error
// wrapping analytics.ErrInvalid; it never panics.
func Decode(b []byte) (analytics.Hit, error) {
	var h analytics.Hit
	if len(b) == 0 {
		return h, invalid("empty input")
	}
	if b[0] != Version {
		if b[0] > Version {
			return h, fmt.Errorf("%w %d (this build reads up to %d; encoded by a newer release?): %w", ErrVersion, b[0], Version, analytics.ErrInvalid)
		}
		return h, invalid("version %d", b[0])
	}
	d := decoder{b: b, i: 1}
	// Decoded strings (with their table affixes) go to one arena that
	// becomes a single string at the end; until then they are offsets.
	d.arena = make([]byte, 0, 2*len(b)+128)
	d.spans = d.spanBuf[:0]
	if err := d.hit(&h); err != nil {
		return analytics.Hit{}, err
	}
	if d.i != len(d.b) {
		return analytics.Hit{}, invalid("%d trailing bytes", len(d.b)-d.i)
	}
	d.resolve()
	return h, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("hitcodec: "+format+": %w", append(args, analytics.ErrInvalid)...)
}

// span is a string in the arena, resolved after decoding.
type span struct {
	dst        *string
	start, end int
}

type decoder struct {
	b       []byte
	i       int
	arena   []byte
	spans   []span
	spanBuf [16]span
}

var errShort = invalid("truncated input")

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		if n == 0 {
			return 0, errShort
		}
		return 0, invalid("varint overflow at byte %d", d.i)
	}
	d.i += n
	return v, nil
}

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		if n == 0 {
			return 0, errShort
		}
		return 0, invalid("varint overflow at byte %d", d.i)
	}
	d.i += n
	return v, nil
}

// intv decodes a varint that must fit an int.
func (d *decoder) intv() (int, error) {
	v, err := d.varint()
	if err != nil {
		return 0, err
	}
	if int64(int(v)) != v {
		return 0, invalid("integer %d out of range", v)
	}
	return int(v), nil
}

func (d *decoder) bytes(n int) ([]byte, error) {
	if n < 0 || len(d.b)-d.i < n {
		return nil, errShort
	}
	p := d.b[d.i : d.i+n]
	d.i += n
	return p, nil
}

func (d *decoder) byte1() (byte, error) {
	if d.i >= len(d.b) {
		return 0, errShort
	}
	c := d.b[d.i]
	d.i++
	return c, nil
}

// count decodes a length or count, at most the bytes left divided by the
// smallest size of an element, so that hostile input cannot allocate more
// than it is long.
func (d *decoder) count(minSize int) (int, error) {
	v, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(d.b)-d.i)/uint64(minSize) {
		return 0, errShort
	}
	return int(v), nil
}

func (d *decoder) rawString() ([]byte, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	return d.bytes(n)
}

// str decodes a plain string into *dst (resolved later).
func (d *decoder) str(dst *string) error {
	p, err := d.rawString()
	if err != nil {
		return err
	}
	d.put(dst, p)
	return nil
}

func (d *decoder) put(dst *string, parts ...[]byte) {
	start := len(d.arena)
	for _, p := range parts {
		d.arena = append(d.arena, p...)
	}
	if len(d.arena) > start {
		d.spans = append(d.spans, span{dst, start, len(d.arena)})
	}
}

// resolve turns the arena into one string and points every decoded
// string into it.
func (d *decoder) resolve() {
	s := string(d.arena)
	for _, sp := range d.spans {
		*sp.dst = s[sp.start:sp.end]
	}
}

func (d *decoder) affixed(dst *string, prefixes, suffixes []string) error {
	v, err := d.uvarint()
	if err != nil {
		return err
	}
	p, sx := v/affixSpan, v%affixSpan
	if p >= uint64(len(prefixes)) || sx >= uint64(len(suffixes)) && sx != 0 {
		return invalid("affix index %d/%d out of range", p, sx)
	}
	rest, err := d.rawString()
	if err != nil {
		return err
	}
	var pre, suf string
	if p > 0 {
		pre = prefixes[p]
	}
	if sx > 0 {
		suf = suffixes[sx]
	}
	d.put(dst, []byte(pre), rest, []byte(suf))
	return nil
}

// related decodes a string written by appendRelated; url must already be
// decoded into the arena (urlSpan is its span, or zero).
func (d *decoder) related(dst *string, url []byte) error {
	n, err := d.uvarint()
	if err != nil {
		return err
	}
	if n > uint64(len(url)) {
		return invalid("shared prefix %d longer than the URL (%d)", n, len(url))
	}
	if n == 0 {
		return d.affixed(dst, urlPrefixes[:], nil)
	}
	rest, err := d.rawString()
	if err != nil {
		return err
	}
	d.put(dst, url[:n], rest)
	return nil
}

func (d *decoder) float() (float64, error) {
	p, err := d.bytes(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
}

func (d *decoder) floats(fs ...*float64) error {
	mask, err := d.byte1()
	if err != nil {
		return err
	}
	if mask>>len(fs) != 0 {
		return invalid("float mask %#x", mask)
	}
	for i, f := range fs {
		if mask&(1<<i) != 0 {
			if *f, err = d.float(); err != nil {
				return err
			}
			if math.Float64bits(*f) == 0 {
				return invalid("zero float marked present")
			}
		}
	}
	return nil
}

func (d *decoder) time() (time.Time, error) {
	v, err := d.uvarint()
	if err != nil {
		return time.Time{}, err
	}
	if v == 0 {
		return time.Time{}, nil
	}
	if v&1 == 0 || v>>1 >= 1e6 {
		return time.Time{}, invalid("time flags %d", v)
	}
	ms, err := d.varint()
	if err != nil {
		return time.Time{}, err
	}
	t := msTime(ms, int64(v>>1))
	if t.IsZero() {
		return time.Time{}, invalid("zero time marked present")
	}
	return t, nil
}

func msTime(ms, nanos int64) time.Time {
	return time.UnixMilli(ms).Add(time.Duration(nanos)).UTC()
}

func (d *decoder) strings() ([]string, error) {
	n, err := d.count(1)
	if err != nil || n == 0 {
		return nil, err
	}
	ss := make([]string, n)
	for i := range ss {
		if err := d.str(&ss[i]); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

func (d *decoder) hit(h *analytics.Hit) error {
	bits, err := d.uvarint()
	if err != nil {
		return err
	}
	if bits&^uint64(bKnown) != 0 {
		return invalid("unknown fields %#x", bits&^uint64(bKnown))
	}
	if bits&bIPv4 != 0 && bits&bIPv6 != 0 || bits&bIPZone != 0 && bits&bIPv6 == 0 || bits&bTimeNanos != 0 && bits&bTime == 0 {
		return invalid("contradictory fields %#x", bits)
	}
	kind, err := d.byte1()
	if err != nil {
		return err
	}
	h.Kind = analytics.HitKind(kind)
	if bits&bID != 0 {
		p, err := d.bytes(16)
		if err != nil {
			return err
		}
		copy(h.ID[:], p)
		if h.ID.IsZero() {
			return invalid("zero ID marked present")
		}
	}
	if bits&bSiteID != 0 {
		if h.SiteID, err = d.intv(); err != nil {
			return err
		}
		if h.SiteID == 0 {
			return invalid("zero site marked present")
		}
	}
	if bits&bTime != 0 {
		delta, err := d.varint()
		if err != nil {
			return err
		}
		var nanos uint64
		if bits&bTimeNanos != 0 {
			if nanos, err = d.uvarint(); err != nil {
				return err
			}
			if nanos == 0 || nanos >= 1e6 {
				return invalid("sub-millisecond nanoseconds %d", nanos)
			}
		}
		h.Time = msTime(idMillis(h.ID)+delta, int64(nanos))
		if h.Time.IsZero() {
			return invalid("zero time marked present")
		}
	}
	switch {
	case bits&bIPv4 != 0:
		p, err := d.bytes(4)
		if err != nil {
			return err
		}
		h.IP = netip.AddrFrom4([4]byte(p))
	case bits&bIPv6 != 0:
		p, err := d.bytes(16)
		if err != nil {
			return err
		}
		h.IP = netip.AddrFrom16([16]byte(p))
		if bits&bIPZone != 0 {
			z, err := d.rawString()
			if err != nil {
				return err
			}
			if len(z) == 0 {
				return invalid("empty IP zone marked present")
			}
			h.IP = h.IP.WithZone(string(z))
		}
	}
	var url []byte
	if bits&bUserAgent != 0 {
		if err := d.presentAffixed(&h.UserAgent, uaPrefixes[:], uaSuffixes[:]); err != nil {
			return err
		}
	}
	if bits&bURL != 0 {
		start := len(d.arena)
		if err := d.presentAffixed(&h.URL, urlPrefixes[:], nil); err != nil {
			return err
		}
		url = d.arena[start:]
	}
	if err := d.presentStr(bits, bTitle, &h.Title); err != nil {
		return err
	}
	if bits&bCookieID != 0 {
		if err := d.visitorID(&h.CookieID); err != nil {
			return err
		}
	}
	if err := d.presentStr(bits, bPageViewID, &h.PageViewID); err != nil {
		return err
	}
	if bits&bDevRes != 0 {
		w, err := d.uvarint()
		if err != nil {
			return err
		}
		hh, err := d.uvarint()
		if err != nil {
			return err
		}
		if w > math.MaxUint16 || hh > math.MaxUint16 {
			return invalid("screen size %dx%d", w, hh)
		}
		h.Device.ScreenWidth, h.Device.ScreenHeight = uint16(w), uint16(hh)
		if h.Device.ScreenWidth == 0 && h.Device.ScreenHeight == 0 {
			return invalid("zero resolution marked present")
		}
	}
	if bits&bDevTime != 0 {
		p, err := d.bytes(3)
		if err != nil {
			return err
		}
		h.Device.LocalHour, h.Device.LocalMinute, h.Device.LocalSecond = int8(p[0]), int8(p[1]), int8(p[2])
		if p[0] == 0 && p[1] == 0 && p[2] == 0 {
			return invalid("zero local time marked present")
		}
	}
	if bits&bDevPlugins != 0 {
		v, err := d.uvarint()
		if err != nil {
			return err
		}
		if v == 0 || v > math.MaxUint16 {
			return invalid("plugins %d", v)
		}
		h.Device.Plugins = uint16(v)
	}
	if err := d.presentStr(bits, bLang, &h.Lang); err != nil {
		return err
	}
	if bits&bFlags != 0 {
		v, err := d.uvarint()
		if err != nil {
			return err
		}
		if v == 0 || v > math.MaxUint16 {
			return invalid("flags %d", v)
		}
		h.Flags = analytics.HitFlags(v)
	}
	if bits&bReferrer != 0 {
		n := len(d.spans)
		if err := d.related(&h.Referrer, url); err != nil {
			return err
		}
		if len(d.spans) == n {
			return invalid("empty referrer marked present")
		}
	}
	if err := d.presentStr(bits, bUAData, &h.UAData); err != nil {
		return err
	}
	if err := d.presentStr(bits, bUserID, &h.UserID); err != nil {
		return err
	}
	if bits&bCID != 0 {
		if err := d.visitorID(&h.CID); err != nil {
			return err
		}
	}
	if bits&bEvent != 0 {
		e := &analytics.Event{}
		h.Event = e
		if err := d.strs(&e.Category, &e.Action, &e.Name); err != nil {
			return err
		}
		f, err := d.byte1()
		if err != nil {
			return err
		}
		if f > 3 {
			return invalid("event flags %#x", f)
		}
		e.HasValue = f&1 != 0
		if f&2 != 0 {
			if e.Value, err = d.float(); err != nil {
				return err
			}
			if math.Float64bits(e.Value) == 0 {
				return invalid("zero event value marked present")
			}
		}
	}
	if bits&bSearch != 0 {
		s := &analytics.Search{}
		h.Search = s
		if err := d.strs(&s.Keyword, &s.Category); err != nil {
			return err
		}
		if s.Count, err = d.intv(); err != nil {
			return err
		}
	}
	if bits&bContent != 0 {
		c := &analytics.Content{}
		h.Content = c
		if err := d.strs(&c.Name, &c.Piece, &c.Target, &c.Interaction); err != nil {
			return err
		}
	}
	if bits&bLink != 0 {
		n := len(d.spans)
		if err := d.related(&h.Link, url); err != nil {
			return err
		}
		if len(d.spans) == n {
			return invalid("empty link marked present")
		}
	}
	if bits&bGoalID != 0 {
		if h.GoalID, err = d.intv(); err != nil {
			return err
		}
		if h.GoalID == 0 {
			return invalid("zero goal marked present")
		}
	}
	if bits&bRevenue != 0 {
		if h.Revenue, err = d.float(); err != nil {
			return err
		}
		if math.Float64bits(h.Revenue) == 0 {
			return invalid("zero revenue marked present")
		}
	}
	if bits&bOrder != 0 {
		o := &analytics.Order{}
		h.Order = o
		if err := d.order(o); err != nil {
			return err
		}
	}
	if bits&bProduct != 0 {
		p := &analytics.ProductView{}
		h.Product = p
		if err := d.strs(&p.SKU, &p.Name); err != nil {
			return err
		}
		if p.Categories, err = d.strings(); err != nil {
			return err
		}
		if err := d.floats(&p.Price); err != nil {
			return err
		}
	}
	if bits&bTiming != 0 {
		t := &analytics.PageTiming{}
		h.Timing = t
		for _, p := range []*int32{&t.Network, &t.Server, &t.Transfer, &t.DOMProcessing, &t.DOMCompletion, &t.OnLoad} {
			v, err := d.varint()
			if err != nil {
				return err
			}
			if v < math.MinInt32 || v > math.MaxInt32 {
				return invalid("timing %d out of range", v)
			}
			*p = int32(v)
		}
	}
	if bits&bAttribution != 0 {
		a := &analytics.Attribution{}
		h.Attribution = a
		if err := d.strs(&a.CampaignName, &a.CampaignKeyword, &a.ReferrerURL); err != nil {
			return err
		}
		if a.Time, err = d.time(); err != nil {
			return err
		}
	}
	if bits&bLocation != 0 {
		l := &analytics.Location{}
		h.Location = l
		if err := d.strs(&l.CountryCode, &l.RegionCode, &l.RegionName, &l.City, &l.TimeZone); err != nil {
			return err
		}
		f, err := d.byte1()
		if err != nil {
			return err
		}
		if f > 1 {
			return invalid("location flags %#x", f)
		}
		l.HasCoords = f == 1
		if err := d.floats(&l.Latitude, &l.Longitude); err != nil {
			return err
		}
	}
	if bits&bDimensions != 0 {
		n, err := d.count(2)
		if err != nil {
			return err
		}
		if n == 0 {
			return invalid("empty dimensions marked present")
		}
		h.Dimensions = make([]analytics.Dimension, n)
		for i := range h.Dimensions {
			dim := &h.Dimensions[i]
			if dim.ID, err = d.intv(); err != nil {
				return err
			}
			if err := d.str(&dim.Value); err != nil {
				return err
			}
		}
	}
	if bits&bPos != 0 {
		if h.Pos.Hi, err = d.uvarint(); err != nil {
			return err
		}
		if h.Pos.Lo, err = d.uvarint(); err != nil {
			return err
		}
		if h.Pos.IsZero() {
			return invalid("zero position marked present")
		}
	}
	return nil
}

func (d *decoder) order(o *analytics.Order) error {
	if err := d.str(&o.OrderID); err != nil {
		return err
	}
	if err := d.floats(&o.Revenue, &o.Subtotal, &o.Tax, &o.Shipping, &o.Discount); err != nil {
		return err
	}
	// An item is at least 6 bytes: SKU, name, categories, float mask,
	// quantity, deleted.
	n, err := d.count(6)
	if err != nil || n == 0 {
		return err
	}
	o.Items = make([]analytics.Item, n)
	for i := range o.Items {
		it := &o.Items[i]
		if err := d.strs(&it.SKU, &it.Name); err != nil {
			return err
		}
		if it.Categories, err = d.strings(); err != nil {
			return err
		}
		if err := d.floats(&it.Price); err != nil {
			return err
		}
		if it.Quantity, err = d.intv(); err != nil {
			return err
		}
		del, err := d.byte1()
		if err != nil {
			return err
		}
		if del > 1 {
			return invalid("item deleted flag %d", del)
		}
		it.Deleted = del == 1
	}
	return nil
}

func (d *decoder) strs(dsts ...*string) error {
	for _, s := range dsts {
		if err := d.str(s); err != nil {
			return err
		}
	}
	return nil
}

// presentAffixed decodes an affixed string that must not be empty.
func (d *decoder) presentAffixed(dst *string, prefixes, suffixes []string) error {
	n := len(d.spans)
	if err := d.affixed(dst, prefixes, suffixes); err != nil {
		return err
	}
	if len(d.spans) == n {
		return invalid("empty string marked present")
	}
	return nil
}

func (d *decoder) presentStr(bits, bit uint64, dst *string) error {
	if bits&bit == 0 {
		return nil
	}
	n := len(d.spans)
	if err := d.str(dst); err != nil {
		return err
	}
	if len(d.spans) == n {
		return invalid("empty string marked present")
	}
	return nil
}

func (d *decoder) visitorID(v *analytics.VisitorID) error {
	p, err := d.bytes(8)
	if err != nil {
		return err
	}
	copy(v[:], p)
	if v.IsZero() {
		return invalid("zero visitor id marked present")
	}
	return nil
}
