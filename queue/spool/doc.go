// Package spool keeps ingest accepting hits while the queue backend is
// away: Queue wraps an analytics.Queue and, when its Enqueue fails with
// ErrUnavailable (Redis unreachable, or above its memory mark), appends
// the hits to a local, fsynced spool instead and answers success. Run
// replays them, in order, once the inner queue accepts hits again. A full
// spool (MaxBytes) answers ErrUnavailable: ingest then replies 503, it
// never drops hits silently.
//
// # On disk
//
// Dir holds segment files "<first seq>.seg" (a new one every SegmentBytes),
// "spool.id" (the spool's stable ID) and "lock" (one process per
// directory). A record is one Enqueue call:
//
//	uint32 LE payload length | uint32 LE CRC32C(payload) | payload
//	payload: uvarint seq, uvarint len + token, uvarint hit count,
//	         per hit: uvarint len + hitcodec bytes
//
// Records are fsynced before Enqueue returns (concurrent calls share one
// fsync). On open, each segment is scanned: a record with a bad length or
// CRC — the torn tail of a crash mid-write — is logged and truncated away
// with everything after it in that segment. A segment file is deleted
// only after all its records were accepted by the inner queue.
//
// # Order and duplicates
//
// While the spool holds hits, new hits go to the spool too, so they stay
// behind the spooled ones. A crash between the inner queue accepting a
// replay and the spool noting it replays those records again; an inner
// Enqueue that failed after sending may have accepted hits that the spool
// also keeps. An inner queue that implements Replayer (redisqueue does)
// removes both kinds of duplicates using the records' Seq and the Uncertain
// token of the failed call; with any other inner queue delivery is at
// least once.
package spool
