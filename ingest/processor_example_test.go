package ingest_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
)

func ExampleNewProcessor() {
	ctx := context.Background()
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		panic(err)
	}
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: ":memory:", Migrate: true})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	site := analytics.Site{Name: "Example", URLs: []string{"https://example.com"}}
	if err := st.CreateSite(ctx, &site); err != nil {
		panic(err)
	}

	p, err := ingest.NewProcessor(ingest.ProcessorOptions{Queue: q, Store: st})
	if err != nil {
		panic(err)
	}

	// Two page views of one visitor, as ingest.Handler would queue them.
	now := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	hit := analytics.Hit{
		SiteID:    site.ID,
		Kind:      analytics.KindPageview,
		IP:        netip.MustParseAddr("203.0.113.77"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
		CookieID:  analytics.VisitorID{1, 2, 3, 4, 5, 6, 7, 8},
		Device:    analytics.Device{LocalHour: -1, LocalMinute: -1, LocalSecond: -1},
	}
	first, second := hit, hit
	first.ID, first.Time = analytics.NewHitID(now), now
	first.URL, first.Referrer = "https://example.com/?gclid=abc123", "https://www.google.com/"
	second.ID, second.Time = analytics.NewHitID(now), now.Add(90*time.Second)
	second.URL, second.Referrer = "https://example.com/pricing", "https://example.com/?gclid=abc123"
	if err := q.Enqueue(ctx, []analytics.Hit{first, second}); err != nil {
		panic(err)
	}

	// Run returns once the closed queue is drained.
	q.Close()
	if err := p.Run(ctx); err != nil {
		panic(err)
	}

	err = st.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(v *analytics.VisitDetails) error {
		fmt.Println("referrer:", v.Referrer.Type, v.Referrer.Name)
		fmt.Println("client:", v.Client.BrowserName, v.Client.OSName)
		fmt.Println("stored ip:", v.IP)
		fmt.Println("actions:", v.Actions, "time on site:", v.TotalTime)
		for _, a := range v.ActionList {
			fmt.Println(" ", a.URL, a.TimeSpentRef)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// referrer: search Google
	// client: Firefox Linux
	// stored ip: 203.0.0.0
	// actions: 2 time on site: 91
	//   https://example.com/ 0
	//   https://example.com/pricing 90
}
