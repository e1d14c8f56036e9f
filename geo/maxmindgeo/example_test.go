package maxmindgeo_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics/geo/maxmindgeo"
)

func ExampleOpen() {
	g, err := maxmindgeo.Open("testdata/GeoIP2-City-Test.mmdb", maxmindgeo.Options{})
	if err != nil {
		panic(err)
	}
	defer g.Close()

	m := g.Metadata()
	fmt.Println(m.DatabaseType, m.Layout, m.Cities)

	for _, s := range []string{"81.2.69.142", "2001:218::1", "192.168.1.1"} {
		loc, err := g.Lookup(netip.MustParseAddr(s))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %q %q %q %q %q\n", s, loc.CountryCode, loc.RegionCode, loc.RegionName, loc.City, loc.TimeZone)
	}
	// Output:
	// GeoIP2-City geoip2 true
	// 81.2.69.142: "gb" "ENG" "England" "London" "Europe/London"
	// 2001:218::1: "jp" "" "" "" "Asia/Tokyo"
	// 192.168.1.1: "" "" "" "" ""
}

func ExampleOptions_language() {
	g, err := maxmindgeo.Open("testdata/GeoIP2-City-Test.mmdb", maxmindgeo.Options{Language: "fr"})
	if err != nil {
		panic(err)
	}
	defer g.Close()
	loc, _ := g.Lookup(netip.MustParseAddr("81.2.69.142"))
	fmt.Println(loc.RegionName, loc.City)
	// Output: Angleterre Londres
}

// A long-running process keeps the database fresh with Run, next to
// whatever updates the file (geoipupdate, a cron job).
func ExampleGeo_Run() {
	g, err := maxmindgeo.Open("testdata/GeoLite2-City-Test.mmdb", maxmindgeo.Options{
		ReloadInterval: time.Minute,
		ReloadOnSIGHUP: true,
		OnReload: func(m maxmindgeo.Metadata, err error) {
			if err != nil {
				fmt.Println("geo reload failed:", err)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	defer g.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	fmt.Println(g.Run(ctx)) // returns when ctx ends or g is closed
	// Output: <nil>
}
