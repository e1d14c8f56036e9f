package storeutil_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// errBusy stands for a driver error that means "try again later".
var errBusy = errors.New("database is busy")

func ExampleGuard() {
	g := &storeutil.Guard{Prefix: "examplestore", Classify: func(err error) (error, string) {
		if errors.Is(err, errBusy) {
			return analytics.ErrUnavailable, ""
		}
		return nil, ""
	}}
	err := g.Wrap(context.Background(), "write batch", errBusy)
	fmt.Println(err, analytics.IsRetryable(err))

	_ = g.Close(func() error { return nil })
	fmt.Println(g.Enter("sites"))
	// Output:
	// examplestore: write batch: analytics: unavailable: database is busy true
	// examplestore: sites: analytics: closed
}
