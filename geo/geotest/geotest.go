package geotest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/footfall/analytics"
)

// Case is an address and the Location a Geo must return for it.
type Case struct {
	Name string
	Addr string // as accepted by netip.ParseAddr
	Want analytics.Location
}

// CoordTolerance is how far, in degrees, returned coordinates may be from
// the wanted ones (databases store them as float32 or float64).
const CoordTolerance = 1e-4

// PrivateAddrs returns addresses that are private, loopback, link-local or
// otherwise special-purpose, which every Geo answers with the zero Location
// and a nil error.
func PrivateAddrs() []string {
	return []string{
		"10.0.0.1", "192.168.1.1", "127.0.0.1", "::1", "fe80::1", "fe80::1%eth0",
		"172.16.0.1", "100.64.0.1", "169.254.10.20", "0.0.0.0", "::",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "fc00::1", "fd00:1234::5",
		"2001:db8::1", "192.0.2.1", "198.51.100.1", "203.0.113.1",
		"224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",
	}
}

// Equal reports whether got matches want: all text fields and HasCoords
// exactly, coordinates within CoordTolerance.
func Equal(got, want analytics.Location) bool {
	g, w := got, want
	g.Latitude, g.Longitude, w.Latitude, w.Longitude = 0, 0, 0, 0
	if g != w {
		return false
	}
	return math.Abs(got.Latitude-want.Latitude) <= CoordTolerance &&
		math.Abs(got.Longitude-want.Longitude) <= CoordTolerance
}

// Check reports what is malformed in l, or nil: the country code must be
// empty or two lower-case ASCII letters, coordinates in range and both zero
// unless HasCoords.
func Check(l analytics.Location) error {
	if c := l.CountryCode; c != "" {
		if len(c) != 2 || c[0] < 'a' || c[0] > 'z' || c[1] < 'a' || c[1] > 'z' {
			return fmt.Errorf("country code %q is not two lower-case letters", c)
		}
	}
	if !l.HasCoords && (l.Latitude != 0 || l.Longitude != 0) {
		return fmt.Errorf("coordinates %v,%v without HasCoords", l.Latitude, l.Longitude)
	}
	if l.HasCoords && (!(l.Latitude >= -90 && l.Latitude <= 90) || !(l.Longitude >= -180 && l.Longitude <= 180)) {
		return fmt.Errorf("coordinates %v,%v out of range", l.Latitude, l.Longitude)
	}
	return nil
}

// Run runs the conformance suite against the Geo that newGeo returns. newGeo
// is called once per subtest and should register its cleanup with
// t.Cleanup. cases must name at least one address the Geo knows.
func Run(t *testing.T, newGeo func(t *testing.T) analytics.Geo, cases []Case) {
	t.Helper()
	if len(cases) == 0 {
		t.Fatal("geotest: no cases: give at least one address the Geo knows")
	}
	type parsed struct {
		Case
		ip netip.Addr
	}
	var ps []parsed
	for _, c := range cases {
		ip, err := netip.ParseAddr(c.Addr)
		if err != nil {
			t.Fatalf("geotest: case %q: %v", c.Name, err)
		}
		if err := Check(c.Want); err != nil {
			t.Fatalf("geotest: case %q wants a malformed location: %v", c.Name, err)
		}
		ps = append(ps, parsed{c, ip})
	}

	t.Run("Known", func(t *testing.T) {
		g := newGeo(t)
		for _, c := range ps {
			t.Run(c.Name, func(t *testing.T) {
				expect(t, g, c.ip, c.Want)
				if c.ip.Is4() {
					expect(t, g, netip.AddrFrom16(c.ip.As16()), c.Want)
				}
				if c.ip.Is6() && !c.ip.Is4In6() && c.ip.Zone() == "" {
					expect(t, g, c.ip.WithZone("eth0"), c.Want)
				}
			})
		}
	})

	t.Run("Private", func(t *testing.T) {
		g := newGeo(t)
		for _, s := range PrivateAddrs() {
			expect(t, g, netip.MustParseAddr(s), analytics.Location{})
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		g := newGeo(t)
		expect(t, g, netip.Addr{}, analytics.Location{})
	})

	t.Run("WellFormed", func(t *testing.T) {
		g := newGeo(t)
		// A fixed seed: the same addresses every run.
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 4000 {
			var ip netip.Addr
			if i%2 == 0 {
				var b [4]byte
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				ip = netip.AddrFrom4(b)
			} else {
				var b [16]byte
				b[0] = 0x20 | byte(rng.Uint32())&0x1f // mostly inside 2000::/3
				for j := 1; j < len(b); j++ {
					b[j] = byte(rng.Uint32())
				}
				ip = netip.AddrFrom16(b)
			}
			got, err := g.Lookup(ip)
			if err != nil {
				t.Errorf("Lookup(%s): %v", ip, err)
				continue
			}
			if err := Check(got); err != nil {
				t.Errorf("Lookup(%s) = %+v: %v", ip, got, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		g := newGeo(t)
		private := PrivateAddrs()
		const workers, rounds = 8, 50
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for r := range rounds {
					c := ps[(w+r)%len(ps)]
					got, err := g.Lookup(c.ip)
					if err != nil || !Equal(got, c.Want) {
						errs <- fmt.Errorf("Lookup(%s) = %+v, %v; want %+v", c.ip, got, err, c.Want)
						return
					}
					p := netip.MustParseAddr(private[(w+r)%len(private)])
					if got, err := g.Lookup(p); err != nil || !got.IsZero() {
						errs <- fmt.Errorf("Lookup(%s) = %+v, %v; want zero", p, got, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func expect(t *testing.T, g analytics.Geo, ip netip.Addr, want analytics.Location) {
	t.Helper()
	got, err := g.Lookup(ip)
	if err != nil {
		t.Errorf("Lookup(%s): unexpected error %v", ip, err)
		return
	}
	if !Equal(got, want) {
		t.Errorf("Lookup(%s) =\n\t%+v\nwant\n\t%+v", ip, got, want)
	}
}
