package staticgeo_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/geotest"
	"github.com/footfall/analytics/geo/staticgeo"
)

var (
	london = analytics.Location{CountryCode: "gb", RegionCode: "ENG", RegionName: "England", City: "London",
		Latitude: 51.5142, Longitude: -0.0931, HasCoords: true, TimeZone: "Europe/London"}
	gb    = analytics.Location{CountryCode: "gb"}
	tokyo = analytics.Location{CountryCode: "jp", City: "Tokyo", TimeZone: "Asia/Tokyo"}
	world = analytics.Location{CountryCode: "aq"}
)

func newTable(t *testing.T) *staticgeo.Geo {
	t.Helper()
	g, err := staticgeo.New(map[string]analytics.Location{
		"81.2.0.0/16":     gb,
		"81.2.69.142/31":  london,
		"81.2.69.200":     {CountryCode: "GB", City: "Upper"},
		"2001:218::/32":   tokyo,
		"2001:218:1::/48": {CountryCode: "jp", City: "Osaka"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	geotest.Run(t, func(t *testing.T) analytics.Geo { return newTable(t) }, []geotest.Case{
		{Name: "longest prefix", Addr: "81.2.69.143", Want: london},
		{Name: "shorter prefix", Addr: "81.2.70.1", Want: gb},
		{Name: "single address, code lower-cased", Addr: "81.2.69.200", Want: analytics.Location{CountryCode: "gb", City: "Upper"}},
		{Name: "outside every prefix", Addr: "81.3.0.1", Want: analytics.Location{}},
		{Name: "ipv6", Addr: "2001:218::1", Want: tokyo},
		{Name: "ipv6 longer prefix", Addr: "2001:218:1::9", Want: analytics.Location{CountryCode: "jp", City: "Osaka"}},
	})
}

func TestDefaultRoute(t *testing.T) {
	g, err := staticgeo.New(map[string]analytics.Location{"0.0.0.0/0": world, "::/0": world, "81.2.69.0/24": gb})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want analytics.Location
	}{
		{"8.8.8.8", world},
		{"2a00::1", world},
		{"81.2.69.1", gb},
		{"10.0.0.1", analytics.Location{}}, // private beats the table
		{"::1", analytics.Location{}},
	}
	for _, tt := range tests {
		got, err := g.Lookup(netip.MustParseAddr(tt.addr))
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		table map[string]analytics.Location
	}{
		{"bad prefix", map[string]analytics.Location{"81.2.69.0/33": gb}},
		{"bad address", map[string]analytics.Location{"81.2.69": gb}},
		{"zone", map[string]analytics.Location{"fe80::1%eth0": gb}},
		{"duplicate after masking", map[string]analytics.Location{"81.2.69.0/24": gb, "81.2.69.7/24": gb}},
		{"country code not two letters", map[string]analytics.Location{"81.2.69.0/24": {CountryCode: "gbr"}}},
		{"coordinates without HasCoords", map[string]analytics.Location{"81.2.69.0/24": {CountryCode: "gb", Latitude: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := staticgeo.New(tt.table)
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("New = %v, %v; want an error wrapping ErrInvalid", g, err)
			}
		})
	}
}

func TestSetError(t *testing.T) {
	g := newTable(t)
	boom := errors.New("boom")
	g.SetError(boom)
	if _, err := g.Lookup(netip.MustParseAddr("81.2.69.142")); !errors.Is(err, boom) {
		t.Fatalf("Lookup after SetError: %v, want %v", err, boom)
	}
	g.SetError(nil)
	if got, err := g.Lookup(netip.MustParseAddr("81.2.69.142")); err != nil || got != london {
		t.Fatalf("Lookup after SetError(nil) = %+v, %v", got, err)
	}
}
