package analytics

import (
	"context"
	"errors"
	"net"
)

// Sentinel errors shared by every implementation of the contract. Drivers wrap
// them with %w at their boundary and keep the native error reachable, so
// callers test with errors.Is:
//
//	if errors.Is(err, analytics.ErrNotFound) { … }
var (
	// ErrNotFound: the thing asked for does not exist (a site, a visit, a
	// checkpoint never written is not an error but a zero value).
	ErrNotFound = errors.New("analytics: not found")

	// ErrClosed: the Queue, Store or Geo was closed; the call did nothing.
	ErrClosed = errors.New("analytics: closed")

	// ErrInvalid: the input is malformed or violates a limit. Retrying the
	// same input fails the same way.
	ErrInvalid = errors.New("analytics: invalid")

	// ErrUnavailable: a backend (Redis, MySQL, a file) cannot be reached or
	// is overloaded right now. The same call may succeed later.
	ErrUnavailable = errors.New("analytics: unavailable")

	// ErrConflict: a write lost an optimistic-concurrency check — typically a
	// LogBatch whose From position no longer matches the shard checkpoint
	// because another worker took the shard over (fencing). Nothing was
	// written; the caller drops its cached state for the shard, re-reads the
	// checkpoint and tries again.
	ErrConflict = errors.New("analytics: conflict")
)

// IsRetryable reports whether err is worth retrying unchanged: the backend
// was unavailable, the call timed out, or the write lost a concurrency race.
// Invalid input, missing rows and closed components are not retryable.
// A cancelled context is not retryable either: the caller gave up.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrClosed) {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrConflict) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return false
}
