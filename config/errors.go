package config

import (
	"cmp"
	"slices"
	"strings"

	"github.com/footfall/analytics"
)

// Error is one problem in a configuration. It wraps analytics.ErrInvalid.
// Its message never contains a secret's value.
type Error struct {
	// Source says where the offending value came from: "file:line,col" for
	// the HCL file, the variable name (FOOTFALL_QUEUE_SHARDS) for the
	// environment; empty for a default or a value set in code.
	Source string
	// Key is the setting's path, "queue.shards" or, for one entry of a
	// list, "ingest.trusted_proxies[2]". Empty for syntax errors and
	// unknown keys, whose Msg names what is wrong.
	Key string
	// Msg says what is wrong.
	Msg string

	// pos orders file errors by position.
	line, col int
}

// Error formats e as "config: <source>: <key>: <msg>", leaving out the
// empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns analytics.ErrInvalid.
func (e *Error) Unwrap() error { return analytics.ErrInvalid }

// Errors is every problem found in a configuration, in file order, then
// environment, then validation. Its message has one line per problem.
// Load, Parse and Validate return it (as error) when anything is wrong;
// errors.As gives the list, errors.Is(err, analytics.ErrInvalid) holds.
type Errors []*Error

// Error joins the problems' messages with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As see each one.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// err returns es as an error, nil when empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// sortByPos sorts positioned problems by line and column, keeping the
// order of the others.
func (es Errors) sortByPos() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := cmp.Compare(a.line, b.line); c != 0 {
			return c
		}
		return cmp.Compare(a.col, b.col)
	})
}
