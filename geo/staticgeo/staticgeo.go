package staticgeo

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo"
)

// Geo answers lookups from a fixed map of prefixes. It is safe for
// concurrent use.
type Geo struct {
	// byBits[n] maps the prefixes of length n (IPv4 as IPv4-mapped IPv6,
	// so n counts from the 128-bit form) to their location.
	byBits [129]map[netip.Prefix]analytics.Location
	bits   []int // the lengths in use, longest first
	err    atomic.Pointer[error]
}

var _ analytics.Geo = (*Geo)(nil)

// New returns a Geo for the given table. Keys are prefixes ("81.2.69.0/24",
// "2001:218::/32", "0.0.0.0/0" for a default) or single addresses
// ("81.2.69.142"); country codes are lower-cased. Private and reserved
// addresses are never looked up, whatever the table says. A key that does
// not parse, the same prefix twice or a malformed location is an error
// wrapping analytics.ErrInvalid.
func New(table map[string]analytics.Location) (*Geo, error) {
	g := &Geo{}
	for key, loc := range table {
		p, err := parseKey(key)
		if err != nil {
			return nil, fmt.Errorf("staticgeo: %q: %v: %w", key, err, analytics.ErrInvalid)
		}
		loc.CountryCode = strings.ToLower(loc.CountryCode)
		if c := loc.CountryCode; c != "" && (len(c) != 2 || c[0] < 'a' || c[0] > 'z' || c[1] < 'a' || c[1] > 'z') {
			return nil, fmt.Errorf("staticgeo: %q: country code %q: %w", key, c, analytics.ErrInvalid)
		}
		if !loc.HasCoords && (loc.Latitude != 0 || loc.Longitude != 0) {
			return nil, fmt.Errorf("staticgeo: %q: coordinates without HasCoords: %w", key, analytics.ErrInvalid)
		}
		// Store IPv4 in its mapped form so one table serves both families.
		if p.Addr().Is4() {
			p = netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96)
		}
		m := g.byBits[p.Bits()]
		if m == nil {
			m = make(map[netip.Prefix]analytics.Location)
			g.byBits[p.Bits()] = m
		}
		if _, dup := m[p]; dup {
			return nil, fmt.Errorf("staticgeo: %q: prefix given twice: %w", key, analytics.ErrInvalid)
		}
		m[p] = loc
	}
	for n := 128; n >= 0; n-- {
		if g.byBits[n] != nil {
			g.bits = append(g.bits, n)
		}
	}
	return g, nil
}

func parseKey(key string) (netip.Prefix, error) {
	if strings.Contains(key, "/") {
		p, err := netip.ParsePrefix(key)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(key)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone in address")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Lookup returns the location of the longest prefix containing ip, or the
// zero Location. It fails only after SetError.
func (g *Geo) Lookup(ip netip.Addr) (analytics.Location, error) {
	if p := g.err.Load(); p != nil {
		return analytics.Location{}, *p
	}
	if !geo.Public(ip) {
		return analytics.Location{}, nil
	}
	a := netip.AddrFrom16(ip.Unmap().As16()) // drops the zone, maps IPv4
	for _, n := range g.bits {
		p, _ := a.Prefix(n)
		if loc, ok := g.byBits[n][p]; ok {
			return loc, nil
		}
	}
	return analytics.Location{}, nil
}

// SetError makes every later Lookup return err (nil restores normal
// answers). Use it to test how a caller handles a failing database.
func (g *Geo) SetError(err error) {
	if err == nil {
		g.err.Store(nil)
		return
	}
	g.err.Store(&err)
}
