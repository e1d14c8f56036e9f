package geo_test

import (
	"fmt"
	"net/netip"

	"github.com/footfall/analytics/geo"
)

func ExamplePublic() {
	for _, s := range []string{"81.2.69.142", "::ffff:81.2.69.142", "2001:218::1", "10.0.0.1", "100.64.1.2", "fe80::1%eth0", "2001:db8::1"} {
		fmt.Println(s, geo.Public(netip.MustParseAddr(s)))
	}
	// Output:
	// 81.2.69.142 true
	// ::ffff:81.2.69.142 true
	// 2001:218::1 true
	// 10.0.0.1 false
	// 100.64.1.2 false
	// fe80::1%eth0 false
	// 2001:db8::1 false
}
