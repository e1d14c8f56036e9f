package staticgeo_test

import (
	"fmt"
	"net/netip"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/staticgeo"
)

func ExampleNew() {
	g, err := staticgeo.New(map[string]analytics.Location{
		"81.2.69.0/24":  {CountryCode: "GB", City: "London", TimeZone: "Europe/London"},
		"2001:218::/32": {CountryCode: "jp"},
	})
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"81.2.69.142", "::ffff:81.2.69.142", "2001:218::1", "192.168.1.1", "8.8.8.8"} {
		loc, err := g.Lookup(netip.MustParseAddr(s))
		fmt.Printf("%-18s %q %q %v\n", s, loc.CountryCode, loc.City, err)
	}
	// Output:
	// 81.2.69.142        "gb" "London" <nil>
	// ::ffff:81.2.69.142 "gb" "London" <nil>
	// 2001:218::1        "jp" "" <nil>
	// 192.168.1.1        "" "" <nil>
	// 8.8.8.8            "" "" <nil>
}
