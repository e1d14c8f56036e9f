// Package storetest is the conformance suite that every analytics.Store
// driver passes (store/sqlitestore always, store/mysqlstore whenever MySQL
// is reachable, in CI always), under -race.
//
// A driver's test calls Run with a Harness that makes a fresh, migrated
// store per subtest (a new file, a new database), and with Features for
// what it claims where drivers may differ:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness { return harness{} }, storetest.Features{})
//	}
//
// # What it checks
//
//   - Sites: CreateSite assigns increasing IDs and Created; Site, Sites and
//     UpdateSite round-trip every field; unknown IDs give ErrNotFound.
//     Goals: IDs 1, 2, … per site, every field round-trips.
//   - RoundTrip: a LogBatch with visits, actions using every optional part
//     (Event, Search, Content, Product, Timing, Dimensions, PrevURL and
//     PrevTitle), goal conversions, an order and a cart with items reads
//     back field for field through Visits(WithActions) and LastVisit;
//     a name of exactly Features.MaxNameLen bytes is kept whole;
//     checkpoints keep all 64 bits of Position.Hi and Lo.
//   - TimePrecision: times come back in UTC, truncated to
//     Features.TimePrecision (the suite compares at that precision;
//     the default is milliseconds); so does the Site.Created that
//     CreateSite sets.
//   - Upsert: a visit written again is replaced (counters are absolute); an
//     action written again is left alone; a second order with the same
//     (site, OrderID) and a goal conversion with the same (visit, goal,
//     buster) are ignored; the open cart (GoalCart) is replaced.
//   - Fencing: a batch whose From is not the stored checkpoint fails with
//     ErrConflict and writes nothing — the "worker died after the commit,
//     before the ack" redelivery replays the committed batch from its old
//     From and changes no row and no visit counter; a batch with no rows
//     at the checkpoint is harmless.
//   - Atomicity: a batch failing at its 300th action (a name one byte over
//     the limit, ErrInvalid) leaves nothing, and the fixed batch then
//     reads back whole; batches whose context cancels itself after the
//     driver looked at it n times, for growing n, are each either fully
//     written with their checkpoint or not at all; invalid batches
//     (see Run) are rejected with ErrInvalid.
//   - Concurrency: 4 writers × 50 batches on their own shards all land;
//     concurrent ReserveIDs ranges never overlap.
//   - LastVisit by visitor and by config id picks the latest last action
//     time, per site; Visits honours From ≤ last action < To, NewestFirst,
//     Limit, VisitorID, and orders actions by time then ID, over 700
//     visits too.
//   - Salts: 32 random bytes per site and day, the same for every caller
//     (also concurrent first callers); DeleteSaltsBefore deletes only
//     older days, of the listed sites only when sites are given (also
//     more than one statement's list), and counts them.
//   - Invalidations: stored once per site day, read back through the
//     optional InvalidationLister interface when the store has it.
//   - Retention (analytics.Pruner, when implemented): DeleteLogsBefore
//     deletes exactly the site's visits whose last action is strictly
//     before the cut-off, with their actions, conversions and items, in
//     chunks, reports the counts, leaves everything else as it was, and
//     rejects a bad site, chunk or time; DeleteUnusedNames deletes unused
//     entries without changing what reads back, and names it deleted can
//     be written again (no stale cached id).
//   - VisitorEraser (when implemented): ExportVisitor by visitor id, user
//     id or either returns exactly those visits, oldest first, with
//     actions and conversions; DeleteVisitor deletes them (counts, the
//     rest untouched); an empty filter is ErrInvalid.
//   - Migrator and Pinger, when implemented; Close is idempotent and every
//     later call fails with ErrClosed.
//
// State is compared through the contract itself (every visit with its
// actions, conversions and items, the checkpoints, the invalidations), so
// the suite needs nothing driver-specific to count rows.
package storetest
