// Package faulttest holds integration tests that run the real footfall
// binary against real services — Redis, a SQLite file, MariaDB — and break
// things on purpose: workers killed with SIGKILL in the middle of a batch,
// workers joining and leaving under load, Redis restarted while ingest is
// answering, a poison hit among good ones, many visitors processed by many
// workers at once.
//
// Every test runs twice, once against each store (subtests sqlite and
// mysql), and counts exactly what it sent and what the store holds: no hit
// lost, none stored twice (HitIDs are unique), each visitor's actions in
// the order they were sent, every visit's counters equal to its stored
// actions, the queue and its dead-letter stream empty at the end (except
// the poison hit, which must be dead-lettered with its error).
//
// The tests build cmd/footfall once per test binary (without -race: the
// workers are separate processes) and start it as `footfall worker` and
// `footfall serve --role=ingest` with FOOTFALL_* variables. Each test uses
// its own Redis key prefix, its own SQLite data directory or MariaDB
// database (ff_<random>, dropped at the end), and, for the Redis restart,
// a private redis-server with append-only persistence on a free port —
// never the shared one. Services are found through internal/testenv: the
// tests skip without them, and fail with FOOTFALL_REQUIRE_SERVICES=1 (CI).
//
//	FOOTFALL_REQUIRE_SERVICES=1 go test -race ./faulttest/
//
// The package has no code of its own: only this file and tests.
package faulttest
