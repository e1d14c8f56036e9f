package ingest_test

import (
	"fmt"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
)

// ExampleSaltCutoff: the salt of a day may be deleted, whatever its site,
// once that day is over in every time zone (at 12:00 UTC the next day)
// plus the grace; DeleteExpiredSalts applies it to the salts of sites it
// was not given (deleted sites).
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

// ExampleSiteSaltCutoff: a site's salt of a day goes once that day is
// over in the site's time zone plus the grace; at the same instant sites
// east and west keep salts from different days.
func ExampleSiteSaltCutoff() {
	grace := 24 * time.Hour
	now := time.Date(2024, 6, 16, 7, 0, 0, 0, time.UTC)
	for _, tz := range []string{"Pacific/Kiritimati", "UTC", "America/Los_Angeles", "Pacific/Pago_Pago"} {
		site := analytics.Site{Timezone: tz}
		fmt.Println(tz, "keeps salts from", ingest.SiteSaltCutoff(&site, now, grace))
	}
	// Output:
	// Pacific/Kiritimati keeps salts from 2024-06-15
	// UTC keeps salts from 2024-06-15
	// America/Los_Angeles keeps salts from 2024-06-15
	// Pacific/Pago_Pago keeps salts from 2024-06-14
}
