// Package maxmindgeo is the production [analytics.Geo]: it geolocates
// addresses with a MaxMind DB (.mmdb) file, read with
// github.com/oschwald/maxminddb-golang/v2, and reloads the file when it
// changes.
//
// # Databases
//
// Two record layouts are understood, detected from the records themselves
// (never from the file name, and not from the metadata's database type
// alone, which does not tell them apart):
//
//   - [LayoutGeoIP2]: MaxMind GeoIP2 and GeoLite2 City and Country, and
//     DB-IP's official MaxMind-format Lite downloads. Fields used:
//     country.iso_code, subdivisions[0].iso_code and names, city.names,
//     location.latitude, longitude and time_zone.
//   - [LayoutFlat]: files republished with top-level country_code, state1,
//     state2, city, postcode, latitude, longitude, timezone (the
//     ip-location-db project's DB-IP and GeoLite2 conversions). They have
//     no region code: RegionCode stays empty and RegionName is state1.
//
// A Country database fills only Location.CountryCode. Country codes are
// lower-cased ("gb"), as Matomo stores them; "ZZ" (unknown) becomes "".
// RegionCode is the ISO 3166-2 subdivision code without the country prefix
// ("ENG", "WA"); names are in [Options.Language], falling back to English.
// Coordinates are kept only when both are present and in range. Files in
// other schemas (ASN, ISP, anonymous IP) are refused at Open.
//
// Records are decoded by a hand-written cursor decoder that reads only the
// fields above, skips the rest (names in other languages, continents,
// registered countries …) without decoding them and never builds maps.
// Decoded records are cached by their offset in the file.
//
// # Reloading
//
// [Geo.Reload] reads the file again and swaps the new database in with an
// atomic pointer; [Geo.Run] does so when the file's size or modification
// time changes (every [Options.ReloadInterval]) and, if
// [Options.ReloadOnSIGHUP], on SIGHUP. Lookups never wait for a reload and
// never see a half-loaded database. The file is read into memory rather
// than memory-mapped, so a database that has been replaced stays valid for
// the lookups still using it and is freed by the garbage collector
// afterwards: no reference counting, no unmap, no use-after-close, and an
// updater that rewrites the file in place cannot crash the process.
//
// # Corrupt files
//
// Open and Reload run the library's full Verify (search tree, data section,
// metadata) unless [Options.SkipVerify]: a corrupt file is refused with an
// error wrapping [analytics.ErrInvalid], and on Reload the previous database
// keeps serving. Verify is the expensive part of loading: it visits every
// node and record, about half a second per million networks on a small
// machine, with transient allocations of a few times the file size, where
// reading the file alone takes milliseconds (see BenchmarkOpen). It runs in
// Open and in Run's goroutine, never in lookups. A record that is still
// broken, or holds a field of the wrong type, makes Lookup return an error
// wrapping analytics.ErrInvalid for that address; nothing panics.
package maxmindgeo
