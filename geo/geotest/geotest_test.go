package geotest_test

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/geotest"
	"github.com/footfall/analytics/geo/staticgeo"
)

var london = analytics.Location{CountryCode: "gb", RegionCode: "ENG", RegionName: "England", City: "London",
	Latitude: 51.5142, Longitude: -0.0931, HasCoords: true, TimeZone: "Europe/London"}

func TestEqual(t *testing.T) {
	near := london
	near.Latitude += geotest.CoordTolerance / 2
	far := london
	far.Longitude += geotest.CoordTolerance * 2
	noCoords := london
	noCoords.HasCoords = false
	otherCity := london
	otherCity.City = "Londres"
	tests := []struct {
		name string
		got  analytics.Location
		want bool
	}{
		{"same", london, true},
		{"within tolerance", near, true},
		{"beyond tolerance", far, false},
		{"HasCoords differs", noCoords, false},
		{"text differs", otherCity, false},
		{"zero", analytics.Location{}, false},
	}
	for _, tt := range tests {
		if got := geotest.Equal(tt.got, london); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		loc  analytics.Location
		ok   bool
	}{
		{"zero", analytics.Location{}, true},
		{"full", london, true},
		{"upper-case code", analytics.Location{CountryCode: "GB"}, false},
		{"three letters", analytics.Location{CountryCode: "gbr"}, false},
		{"coordinates without HasCoords", analytics.Location{Longitude: 1}, false},
		{"latitude out of range", analytics.Location{Latitude: 91, HasCoords: true}, false},
		{"longitude out of range", analytics.Location{Longitude: -181, HasCoords: true}, false},
	}
	for _, tt := range tests {
		if err := geotest.Check(tt.loc); (err == nil) != tt.ok {
			t.Errorf("%s: Check = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// broken Geos, each violating one rule of the suite.
type brokenGeo struct {
	good analytics.Geo
	mode string
}

func (b brokenGeo) Lookup(ip netip.Addr) (analytics.Location, error) {
	switch b.mode {
	case "invalid-errors":
		if !ip.IsValid() {
			return analytics.Location{}, errors.New("invalid address")
		}
	case "private-located":
		if ip.IsPrivate() {
			return analytics.Location{CountryCode: "gb"}, nil
		}
	case "upper-case":
		l, err := b.good.Lookup(ip)
		l.CountryCode = strings.ToUpper(l.CountryCode)
		return l, err
	case "no-mapped":
		if ip.Is4In6() {
			return analytics.Location{}, nil
		}
	}
	return b.good.Lookup(ip)
}

const brokenEnv = "GEOTEST_BROKEN_MODE"

// TestBrokenHelper is run by TestSuiteCatchesBrokenGeos in a child process.
func TestBrokenHelper(t *testing.T) {
	mode := os.Getenv(brokenEnv)
	if mode == "" {
		return // only meaningful as a child of TestSuiteCatchesBrokenGeos
	}
	geotest.Run(t, func(t *testing.T) analytics.Geo {
		g, err := staticgeo.New(map[string]analytics.Location{"81.2.69.0/24": london})
		if err != nil {
			t.Fatal(err)
		}
		return brokenGeo{g, mode}
	}, []geotest.Case{{Name: "london", Addr: "81.2.69.142", Want: london}})
}

// TestSuiteCatchesBrokenGeos runs the suite against Geos that break one
// rule each and checks that it fails, in the expected subtest.
func TestSuiteCatchesBrokenGeos(t *testing.T) {
	tests := []struct{ mode, failing string }{
		{"invalid-errors", "--- FAIL: TestBrokenHelper/Invalid"},
		{"private-located", "--- FAIL: TestBrokenHelper/Private"},
		{"upper-case", "--- FAIL: TestBrokenHelper/Known/london"},
		{"no-mapped", "--- FAIL: TestBrokenHelper/Known/london"},
		{"none", ""}, // control: the unbroken Geo passes
	}
	for _, tt := range tests {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenHelper$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.mode)
			out, err := cmd.CombinedOutput()
			if tt.failing == "" {
				if err != nil {
					t.Fatalf("the unbroken Geo failed the suite: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), tt.failing) {
				t.Fatalf("suite did not fail in %q: err=%v\n%s", tt.failing, err, out)
			}
		})
	}
}
