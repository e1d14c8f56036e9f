// Package geo holds what the geolocation drivers share: the rule for which
// addresses are worth looking up at all ([Public]).
//
// The drivers live in sub-packages, each implementing [analytics.Geo]:
//
//   - [github.com/footfall/analytics/geo/maxmindgeo] reads MaxMind DB files
//     (MaxMind GeoIP2/GeoLite2 City and Country, DB-IP Lite in its official
//     MaxMind-format download, and the flat layout of republished DB-IP
//     files), reloading them when they change;
//   - [github.com/footfall/analytics/geo/staticgeo] answers from a fixed map
//     of prefixes, for tests and small deployments;
//   - [github.com/footfall/analytics/geo/geotest] is the conformance suite
//     every implementation passes.
//
// Every implementation answers a private, reserved or unknown address with
// the zero [analytics.Location] and a nil error; an error means the database
// itself failed. The invalid [netip.Addr] (the zero value) is treated as
// unknown: zero Location, nil error.
package geo
