// Package hitcodec is the compact, versioned binary encoding of
// analytics.Hit that queue drivers store (a Redis stream entry, a spool
// record).
//
// # Format
//
// An encoded hit is a version byte (Version), a presence bitmap (an
// unsigned varint: one bit per optional field or sub-struct, most common
// fields in the low bits so a typical page view needs three bytes), then
// the present fields in bitmap order:
//
//   - integers are varints (signed ones zig-zag), floats 8 bytes little
//     endian (bit exact: -0, NaN payloads and infinities survive);
//   - strings are a varint length and the bytes; the user agent, URLs and
//     the referrer are shortened with fixed tables of common prefixes and
//     suffixes (part of the version: a new table is a new version) and the
//     referrer and link reuse the prefix they share with the page URL;
//   - an IP address is 4 or 16 bytes (an IPv4-mapped IPv6 address stays
//     IPv6), plus its zone when it has one;
//   - times are varint milliseconds since the Unix epoch plus the
//     sub-millisecond nanoseconds (so they are exact); Hit.Time is stored
//     as a delta to the millisecond time inside Hit.ID, one byte when equal;
//   - the kind is one byte, the flags a varint.
//
// Decoded times are in UTC (time.Time.Equal holds, the zone is not kept);
// empty slices decode as nil; times must lie within the int64 range of
// Unix milliseconds (years 1970 ± 292 million). Everything else
// round-trips exactly: Decode(Append(nil, &h)) == h.
//
// A typical JavaScript-tracker page view (a 60-character URL, a 30-character
// title, a 110–125-character browser user agent, screen resolution, cookie
// id, page view id, plugins and local time) encodes to 160–190 bytes; with a
// user agent and URL that match no table entry, to about 25 bytes more
// than its raw strings and IDs.
//
// Decode never panics: malformed input is an error wrapping
// analytics.ErrInvalid, and input of a newer version than this package
// knows is an error that says so (ErrVersion).
package hitcodec
