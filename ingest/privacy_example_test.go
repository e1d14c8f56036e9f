package ingest_test

import (
	"fmt"
	"time"

	"github.com/footfall/analytics/ingest"
)

// ExampleSaltCutoff: the salt of a site's day may be deleted once that
// day is over in every time zone (at 12:00 UTC the next day) plus the
// grace; DeleteExpiredSalts deletes the salts of the days before the
// cutoff.
func ExampleSaltCutoff() {
	grace := 24 * time.Hour
	for _, now := range []string{"2024-06-16T11:59:00Z", "2024-06-16T12:00:00Z"} {
		t, _ := time.Parse(time.RFC3339, now)
		fmt.Println(now, "keeps salts from", ingest.SaltCutoff(t, grace))
	}
	// Output:
	// 2024-06-16T11:59:00Z keeps salts from 2024-06-14
	// 2024-06-16T12:00:00Z keeps salts from 2024-06-15
}
