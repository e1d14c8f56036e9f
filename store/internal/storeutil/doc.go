// Package storeutil holds what store/sqlitestore and store/mysqlstore do
// alike, so that the two analytics.Store drivers keep one copy of it:
//
//   - Guard: a store's closed state (Enter, Close) and the wrapping of
//     driver errors into the analytics sentinels (Wrap), with a hook for
//     the driver's own error codes; Invalid for ErrInvalid errors;
//   - the validation rules store/storetest pins (ErrInvalid) of a LogBatch:
//     CheckBatch, CheckRows (with CheckVisit, CheckAction, CheckConversion
//     and CheckInvalidated, and a hook per row for the store's own column
//     limits), and the walkers VisitNames, ActionNames and ConversionNames
//     that check every dictionary name and hand it to the store with its
//     slot in the row; the parts bits of an action (PartsOf);
//   - the argument checks of the other methods (CheckReserve,
//     CheckVisitorMatch, CheckVisitorMatches, CheckVisitQuery, CheckPrune, CheckChunk,
//     CheckVisitorFilter, CheckSite) and of Options (CheckOptions);
//   - the codecs of columns both schemas share: site lists and custom
//     dimensions as JSON (ListJSON, EncodeDimensions), addresses (IPBytes),
//     visitor ids, booleans, nullable floats, and days (ValidDay, CheckDay);
//   - the action dictionary: its types (Dict*), keys (DictKey) and the
//     bounded, epoch-tagged cache of name ids (NameCache, on Generations);
//   - sites and salts: the site columns both schemas share (SiteArgs,
//     SiteRow), the Created that CreateSite sets (SiteCreated), the
//     get-or-create of a daily salt (DailySalt) and the
//     deletion of old ones (DeleteSalts);
//   - reading: the WHERE, ORDER BY and LIMIT of a VisitQuery
//     (VisitQuerySQL), the decoding of a log_visit row (VisitRow) and of the
//     optional parts of an action (ActionParts); the batch lookup of last
//     visits (LastVisits: checks, duplicates, chunks; LastVisitsSQL: one
//     index probe per match, the table of matches in the driver's dialect);
//   - row helpers (QueryAll, QueryIDs, VisitsByID), the transaction that
//     deletes visits with what hangs on them (DeleteVisits) and the loops
//     of retention and the GDPR tools (DeleteInChunks, VisitorSites,
//     SiteVisitIDs, ExportVisits);
//   - the discovery of numbered migration files (ParseMigrations); how a
//     migration is applied stays with each driver.
//
// What depends on the SQL dialect — statements, column types, locking,
// migration application — stays in each driver. Errors returned here carry
// no package prefix: the driver adds its own ("sqlitestore: op: …"), so the
// messages read as they did before the code moved here.
//
// The package is internal to store/: its API changes with the drivers.
package storeutil
