package maxmindgeo

import (
	"net/netip"
	"testing"

	"github.com/footfall/analytics/geo"
	"github.com/footfall/analytics/geo/geotest"
)

// FuzzLookup looks up arbitrary 16-byte addresses (and their first 4 bytes
// as IPv4) in a City database of each layout, through Lookup and through
// the unfiltered database lookup, which also reaches the addresses
// geo.Public turns away. Nothing may panic or fail on an intact database,
// every answer must be well formed, and the IPv4 and IPv4-mapped forms of an
// address must agree.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{
		"81.2.69.142", "216.160.83.56", "89.160.20.112", "2001:218::1", "::214.0.1.1",
		"10.0.0.1", "::1", "fe80::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2a02:cf40::1",
	} {
		a := netip.MustParseAddr(s).As16()
		f.Add(a[:])
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})

	var geos []*Geo
	for _, path := range []string{geoip2City, geoip2Country, flatFixture(f, f.TempDir())} {
		g, err := Open(path, Options{})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { g.Close() })
		geos = append(geos, g)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		var raw [16]byte
		copy(raw[:], b)
		ip6 := netip.AddrFrom16(raw)
		ip4 := netip.AddrFrom4([4]byte(raw[:4]))
		for _, g := range geos {
			db := g.db.Load()
			for _, ip := range []netip.Addr{ip6, ip4} {
				got, err := g.Lookup(ip)
				if err != nil {
					t.Fatalf("%s: Lookup(%s): %v", db.meta.Path, ip, err)
				}
				if err := geotest.Check(got); err != nil {
					t.Fatalf("%s: Lookup(%s) = %+v: %v", db.meta.Path, ip, got, err)
				}
				if !geo.Public(ip) && !got.IsZero() {
					t.Fatalf("%s: Lookup(%s) = %+v for a non-public address", db.meta.Path, ip, got)
				}
				raw, err := db.lookup(ip.Unmap())
				if err != nil {
					t.Fatalf("%s: lookup(%s): %v", db.meta.Path, ip, err)
				}
				if err := geotest.Check(raw); err != nil {
					t.Fatalf("%s: lookup(%s) = %+v: %v", db.meta.Path, ip, raw, err)
				}
			}
			mapped, err := g.Lookup(netip.AddrFrom16(ip4.As16()))
			if err != nil {
				t.Fatal(err)
			}
			direct, _ := g.Lookup(ip4)
			if mapped != direct {
				t.Fatalf("%s: Lookup(%s) = %+v but Lookup of its mapped form = %+v", db.meta.Path, ip4, direct, mapped)
			}
		}
	})
}
