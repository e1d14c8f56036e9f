// Package geotest is the conformance suite for implementations of
// [analytics.Geo].
//
// A driver's test calls [Run] with a constructor and a table of known
// addresses:
//
//	func TestConformance(t *testing.T) {
//		geotest.Run(t, func(t *testing.T) analytics.Geo {
//			g, err := maxmindgeo.Open("testdata/GeoIP2-City-Test.mmdb", maxmindgeo.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { g.Close() })
//			return g
//		}, []geotest.Case{
//			{Name: "london", Addr: "81.2.69.142", Want: analytics.Location{CountryCode: "gb", …}},
//		})
//	}
//
// The suite checks, for every implementation:
//
//   - each case's address gives exactly the wanted Location (coordinates
//     within [CoordTolerance] degrees) and a nil error, and so do its
//     IPv4-mapped IPv6 form (::ffff:a.b.c.d) and, for IPv6, the address with
//     a zone;
//   - private, loopback, link-local and other special-purpose addresses
//     ([PrivateAddrs]) give the zero Location and a nil error;
//   - the invalid netip.Addr{} gives the zero Location and a nil error: it is
//     an unknown address, not a failure of the database (the contract keeps
//     errors for a failing database);
//   - every answer, for the cases and for a fixed pseudo-random sweep of
//     public addresses, is well formed: a lower-case two-letter country code
//     or none, coordinates in range and zero unless HasCoords;
//   - concurrent lookups from several goroutines give the same answers (run
//     the tests with -race).
package geotest
