// Package staticgeo is an [analytics.Geo] that answers from a fixed table
// of network prefixes held in memory. It is meant for tests (of the worker,
// the reports, anything that needs predictable locations without a
// database file) and for tiny deployments that only care about a few
// networks.
//
// Lookups pick the longest prefix containing the address, follow the same
// rules as every Geo (private, reserved and unknown addresses give the zero
// Location and a nil error; see [geo.Public]) and pass the
// [github.com/footfall/analytics/geo/geotest] conformance suite. [Geo.SetError]
// makes lookups fail, to test how callers handle a failing database.
package staticgeo
