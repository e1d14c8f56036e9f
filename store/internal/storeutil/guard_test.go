package storeutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/footfall/analytics"
)

var errSchema = errors.New("test: schema version mismatch")

// codeError is a driver error with a code, as classify sees it.
type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("driver error %d", e.code) }

func testGuard() *Guard {
	return &Guard{Prefix: "teststore", Sentinels: []error{errSchema}, Classify: func(err error) (error, string) {
		var ce *codeError
		if !errors.As(err, &ce) {
			return nil, ""
		}
		switch ce.code {
		case 1:
			return analytics.ErrUnavailable, ""
		case 2:
			return errSchema, " (migrate)"
		}
		return nil, ""
	}}
}

func TestGuardWrap(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		closed bool
		err    error
		want   string
		is     []error // errors.Is must hold for each
		isNot  []error
	}{
		{"nil", live, false, nil, "", nil, nil},
		{"sentinel passes", live, false, fmt.Errorf("x: %w", analytics.ErrNotFound),
			"teststore: op: x: analytics: not found", []error{analytics.ErrNotFound}, []error{analytics.ErrUnavailable}},
		{"store sentinel passes", live, false, errSchema, "teststore: op: test: schema version mismatch", []error{errSchema}, nil},
		{"sentinel wins over closed", live, true, analytics.ErrConflict, "teststore: op: analytics: conflict",
			[]error{analytics.ErrConflict}, []error{analytics.ErrClosed}},
		{"closed", live, true, io.EOF, "teststore: op: analytics: closed: EOF", []error{analytics.ErrClosed, io.EOF}, nil},
		{"context done, its error", cancelled, false, fmt.Errorf("q: %w", context.Canceled),
			"teststore: op: q: context canceled", []error{context.Canceled}, nil},
		{"context done, other error", cancelled, false, &codeError{1},
			"teststore: op: context canceled: driver error 1", []error{context.Canceled}, []error{analytics.ErrUnavailable}},
		{"deadline of the driver", live, false, fmt.Errorf("q: %w", context.DeadlineExceeded),
			"teststore: op: q: context deadline exceeded", []error{context.DeadlineExceeded}, []error{analytics.ErrUnavailable}},
		{"classified", live, false, &codeError{1}, "teststore: op: analytics: unavailable: driver error 1",
			[]error{analytics.ErrUnavailable}, nil},
		{"classified with hint", live, false, &codeError{2}, "teststore: op: test: schema version mismatch (migrate): driver error 2",
			[]error{errSchema}, nil},
		{"unknown code", live, false, &codeError{3}, "teststore: op: driver error 3", nil,
			[]error{analytics.ErrUnavailable, analytics.ErrInvalid}},
		{"plain", live, false, io.ErrUnexpectedEOF, "teststore: op: unexpected EOF", []error{io.ErrUnexpectedEOF}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGuard()
			if tc.closed {
				g.Close(func() error { return nil })
			}
			got := g.Wrap(tc.ctx, "op", tc.err)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("Wrap(nil) = %v", got)
				}
				return
			}
			if got.Error() != tc.want {
				t.Errorf("Wrap = %q, want %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("Wrap(%v) does not wrap it", tc.err)
			}
			for _, target := range tc.is {
				if !errors.Is(got, target) {
					t.Errorf("Wrap = %v, not %v", got, target)
				}
			}
			for _, target := range tc.isNot {
				if errors.Is(got, target) {
					t.Errorf("Wrap = %v, is %v", got, target)
				}
			}
			var ce *codeError
			if errors.As(tc.err, &ce) && !errors.As(got, &ce) {
				t.Errorf("the driver error is not reachable with errors.As in %v", got)
			}
		})
	}
}

func TestGuardWrapWithoutClassify(t *testing.T) {
	g := &Guard{Prefix: "p"}
	if got := g.Wrap(context.Background(), "op", &codeError{1}); got.Error() != "p: op: driver error 1" {
		t.Errorf("Wrap = %q", got)
	}
}

func TestGuardClose(t *testing.T) {
	g := &Guard{Prefix: "teststore"}
	if err := g.Enter("read"); err != nil {
		t.Fatalf("Enter on an open guard = %v", err)
	}
	if g.Closed() {
		t.Fatal("a new guard is closed")
	}
	calls := 0
	release := func() error {
		calls++
		if !g.Closed() {
			t.Error("release runs before the guard is marked closed")
		}
		return io.ErrClosedPipe
	}
	for i := range 3 {
		err := g.Close(release)
		if !errors.Is(err, io.ErrClosedPipe) || err.Error() != "teststore: close: io: read/write on closed pipe" {
			t.Errorf("Close #%d = %v", i+1, err)
		}
	}
	if calls != 1 {
		t.Errorf("release ran %d times, want once", calls)
	}
	err := g.Enter("read")
	if !errors.Is(err, analytics.ErrClosed) || err.Error() != "teststore: read: analytics: closed" {
		t.Errorf("Enter after Close = %v", err)
	}
	if err := (&Guard{}).Close(func() error { return nil }); err != nil {
		t.Errorf("Close with a clean release = %v", err)
	}
}

func TestInvalid(t *testing.T) {
	err := Invalid("%d bytes, longer than %d", 5, 4)
	if !errors.Is(err, analytics.ErrInvalid) || err.Error() != "5 bytes, longer than 4: analytics: invalid" {
		t.Errorf("Invalid = %v", err)
	}
	if err := Invalid("no args"); err.Error() != "no args: analytics: invalid" {
		t.Errorf("Invalid = %v", err)
	}
}
