// Package privacytest proves Footfall's privacy settings end to end, and
// offers the scanner it uses to other tests.
//
// The tests of this package run the real pipeline — ingest.Handler over
// HTTP (httptest), memqueue, ingest.Processor with a staticgeo database
// that places the test addresses (so the full address is used for
// geolocation and must then be dropped), and both stores, sqlitestore (a
// file) and mysqlstore (MariaDB, a database of its own per test, found
// through internal/testenv) — with the handler, processor, queue and
// store logging at Trace level into a buffer. For every privacy setting
// (defaults, IPv4 masks of 1 to 4 bytes, an IPv6 mask, no stored IP,
// cookieless, DNT and GPC in each mode, consent required for cookies or
// for tracking with and without consent=1, hashed user ids, PII
// scrubbing) they send realistic hits (IPv4 and IPv6, user ids, cookie
// ids, cookieless visitors, e-mail addresses, card numbers and secrets in
// URLs, titles, referrers, event fields, search keywords and custom
// dimensions), assert the visits that must be stored, and then read every
// column of every table of the database directly (database/sql, SELECT *)
// and every line of the captured log, looking for what must never be
// there: a client's full address in any form, a cookieless salt outside
// the salt table, an identifier the setting says to drop, an unscrubbed
// e-mail, card number or secret. TestCookielessDays pins the daily salt:
// one visitor within a local day across UTC midnight, another on the next
// local day, and the old day's salt gone from the store once the day (in
// the site's time zone) and the grace are over.
//
// ScanDB and ScanText are the scanner: Needles (Text, Bytes, IP) are
// looked for in every form they could be written in (raw bytes, text in
// any case, URL-escaped, hex, base64, an IPv4 address as a number).
package privacytest
