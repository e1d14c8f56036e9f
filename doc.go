// Package analytics is the contract of Footfall, self-hosted, privacy-first
// web analytics that speaks Matomo's protocols.
//
// A tracking request enters through ingest.Handler, which parses it into a
// Hit and puts it on a Queue. Workers (ingest.Processor) take Deliveries of
// one shard at a time, enrich the hits (geolocation through Geo, user agent,
// referrer, exclusions), sessionize them into Visits and Actions and write
// each delivery to the Store in one transaction together with the shard's
// checkpoint, then acknowledge it. An Archiver builds reports from the logs.
//
// This package holds only the domain types and the small interfaces between
// those parts, with their semantics; it imports no driver. Implementations
// live in leaf packages named after their backend:
//
//	queue/memqueue      in-process queue (embedded default)
//	queue/redisqueue    Redis Streams (production)
//	store/sqlitestore   SQLite, pure Go (embedded default)
//	store/mysqlstore    MySQL / MariaDB (production)
//	geo/maxmindgeo      MaxMind-format databases (GeoIP2, GeoLite2, DB-IP)
//
// and each passes its conformance suite (queue/queuetest, store/storetest,
// geo/geotest).
//
// # Guarantees
//
// Nothing accepted is lost and nothing is counted twice: a hit is
// acknowledged only after its effect is committed, and a store skips a hit
// at or before its shard's checkpoint (Position). One visitor's hits are
// processed in order because a shard has at most one outstanding Delivery.
// Errors wrap the sentinels of errors.go; IsRetryable tells which are worth
// retrying.
package analytics
