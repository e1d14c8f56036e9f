package storeutil

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/footfall/analytics"
)

// Invalid returns an error wrapping analytics.ErrInvalid: the formatted
// message followed by ": analytics: invalid".
func Invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, analytics.ErrInvalid)...)
}

// Guard is the closed state of a store and the way it wraps errors. Set
// its exported fields before first use, then do not change them; the zero
// value of the rest is an open store. A Guard must not be copied after
// first use. Its methods are safe for concurrent use.
type Guard struct {
	// Prefix starts every message: "sqlitestore", "mysqlstore".
	Prefix string
	// Sentinels are the store's own sentinel errors (its ErrSchema): an
	// error that carries one, like one that carries an analytics sentinel,
	// only gets the prefix.
	Sentinels []error
	// Classify maps a driver error to the sentinel it stands for
	// (analytics.ErrUnavailable, analytics.ErrInvalid, the store's
	// ErrSchema) and a hint put after it in the message (" (is the schema
	// migrated? …)"); nil for none. It is asked only about errors that are
	// not already classified by a sentinel, a closed store or a context.
	// Nil: no driver errors are classified.
	Classify func(err error) (sentinel error, hint string)

	closed   atomic.Bool
	once     sync.Once
	closeErr error
}

// Enter fails with analytics.ErrClosed ("prefix: op: analytics: closed")
// once Close was called.
func (g *Guard) Enter(op string) error {
	if g.closed.Load() {
		return fmt.Errorf("%s: %s: %w", g.Prefix, op, analytics.ErrClosed)
	}
	return nil
}

// Closed reports whether Close was called.
func (g *Guard) Closed() bool { return g.closed.Load() }

// Close marks the store closed, then runs release once; it returns
// release's error wrapped ("prefix: close: …"), the same on every call.
func (g *Guard) Close(release func() error) error {
	g.once.Do(func() {
		g.closed.Store(true)
		if err := release(); err != nil {
			g.closeErr = fmt.Errorf("%s: close: %w", g.Prefix, err)
		}
	})
	return g.closeErr
}

// Wrap turns an error of database/sql or the driver into one that wraps
// the analytics sentinel it stands for, keeping the native error reachable
// with errors.Is and errors.As, and prefixes "prefix: op: ". In order:
//
//   - nil stays nil;
//   - an error that already carries an analytics sentinel or one of
//     Sentinels only gets the prefix;
//   - after Close, anything is analytics.ErrClosed;
//   - when ctx is done, the error wraps ctx.Err() (once);
//   - a context error (a deadline of the driver's own) only gets the prefix;
//   - otherwise Classify decides; an error it does not know only gets the
//     prefix.
func (g *Guard) Wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	for _, sentinel := range [...]error{analytics.ErrInvalid, analytics.ErrNotFound, analytics.ErrConflict,
		analytics.ErrClosed, analytics.ErrUnavailable} {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("%s: %s: %w", g.Prefix, op, err)
		}
	}
	for _, sentinel := range g.Sentinels {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("%s: %s: %w", g.Prefix, op, err)
		}
	}
	if g.closed.Load() {
		return fmt.Errorf("%s: %s: %w: %w", g.Prefix, op, analytics.ErrClosed, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return fmt.Errorf("%s: %s: %w", g.Prefix, op, err)
		}
		return fmt.Errorf("%s: %s: %w: %w", g.Prefix, op, cerr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: %w", g.Prefix, op, err)
	}
	if g.Classify != nil {
		if sentinel, hint := g.Classify(err); sentinel != nil {
			return fmt.Errorf("%s: %s: %w%s: %w", g.Prefix, op, sentinel, hint, err)
		}
	}
	return fmt.Errorf("%s: %s: %w", g.Prefix, op, err)
}
