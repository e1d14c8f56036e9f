package privacytest

import (
	"net/url"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
)

// TestCookielessDays: on a cookieless site in Los Angeles, the same
// address and user agent are one visitor within a local day — across UTC
// midnight — and another visitor on the next local day, even with the
// tracker sending a new _id on every page (cookies blocked) and all the
// hits of the visitor on one queue shard. The day's salt stays in the
// store until the day is over in the site's zone plus the grace (24h), to
// the minute, then the processor deletes it; salts and full addresses are
// never stored elsewhere or logged.
func TestCookielessDays(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			inst := config.Default().PrivacyDefaults()
			// 2024-06-14 16:50 in Los Angeles (PDT, UTC−7).
			start := time.Date(2024, 6, 14, 23, 50, 0, 0, time.UTC)
			site := analytics.Site{Timezone: "America/Los_Angeles", Privacy: analytics.Privacy{Cookieless: analytics.On}}
			p := newPipeline(t, kind, inst, site, start)
			p.pclock.set(start)
			id := 0
			visit := func(ip bool, path string) {
				id++
				client := req{ip: ipC, ua: uaC, params: url.Values{
					"url": {"https://shop.example" + path}, "action_name": {path},
					"_id": {[]string{"00000000000000a1", "00000000000000a2", "00000000000000a3", "00000000000000a4", "00000000000000a5"}[id%5]},
				}}
				if !ip {
					client.ip, client.ua = ipA, uaA
				}
				p.send(client)
				p.process()
			}
			visitorOf := func(path string) analytics.VisitorID {
				t.Helper()
				for _, v := range p.visits() {
					for _, a := range v.ActionList {
						if a.Title == path {
							return v.VisitorID
						}
					}
				}
				t.Fatalf("no visit has %s", path)
				return analytics.VisitorID{}
			}
			days := func() []string {
				var ds []string
				for _, s := range p.salts() {
					ds = append(ds, s.day)
				}
				return ds
			}

			visit(true, "/a") // 23:50Z = 16:50 local
			p.clock.set(time.Date(2024, 6, 15, 0, 5, 0, 0, time.UTC))
			p.pclock.set(p.clock.now())
			visit(true, "/b")  // 00:05Z next UTC day = 17:05 local, same day
			visit(false, "/x") // another client, same day
			if visitorOf("/a") != visitorOf("/b") {
				t.Error("same address and user agent on the same local day (across UTC midnight) are two visitors")
			}
			if visitorOf("/a") == visitorOf("/x") {
				t.Error("two clients are one visitor")
			}
			p.clock.set(time.Date(2024, 6, 15, 17, 0, 0, 0, time.UTC)) // 10:00 local, the next day
			p.pclock.set(p.clock.now())
			visit(true, "/c")
			if visitorOf("/c") == visitorOf("/a") {
				t.Error("the next local day is the same visitor")
			}
			if got := len(p.visits()); got != 3 {
				t.Errorf("%d visits, want 3 (a+b, x, c)", got)
			}
			for ip, shards := range p.shards {
				if len(shards) != 1 {
					t.Errorf("hits of %v on %d shards: %v", ip, len(shards), shards)
				}
			}
			eq(t, "salt days", len(days()), 2)
			oldSalt := p.salts()[0]
			eq(t, "first salt day", oldSalt.day, "2024-06-14")

			// 2024-06-14 ends in Los Angeles at 06-15 07:00Z; with the 24h
			// grace its salt may go at 06-16 07:00Z (hours before the day
			// is over everywhere plus the grace, 06-16 12:00Z).
			p.clock.set(time.Date(2024, 6, 16, 6, 59, 0, 0, time.UTC))
			p.pclock.set(p.clock.now())
			if _, err := p.proc.PruneSalts(t.Context()); err != nil {
				t.Fatal(err)
			}
			if ds := days(); len(ds) != 2 || ds[0] != "2024-06-14" {
				t.Fatalf("before the grace is over: salt days %v, want 2024-06-14 and -15", ds)
			}
			// 00:30 local on 06-16: a hit makes that day's salt.
			p.clock.set(time.Date(2024, 6, 16, 7, 30, 0, 0, time.UTC))
			p.pclock.set(p.clock.now())
			visit(true, "/d")
			n, err := p.proc.PruneSalts(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "salts deleted", n, 1)
			if ds := days(); len(ds) != 2 || ds[0] != "2024-06-15" || ds[1] != "2024-06-16" {
				t.Fatalf("after the grace: salt days %v, want 2024-06-15 and -16", ds)
			}
			// The deleted salt is nowhere, salt table included.
			r, err := ScanDB(t.Context(), p.db, kind.dialect, nil, []Needle{Bytes("deleted salt", oldSalt.value)})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				t.Errorf("deleted salt still stored: %v", f)
			}

			// Run deletes expired salts when it starts: a day later the
			// salt of 06-15 goes.
			p.pclock.set(time.Date(2024, 6, 17, 7, 30, 0, 0, time.UTC))
			p.drain()
			if ds := days(); len(ds) != 1 || ds[0] != "2024-06-16" {
				t.Fatalf("after Run: salt days %v, want 2024-06-16", ds)
			}

			ips := []Needle{IP("C's address", ipC), IP("A's address", ipA), Bytes("deleted salt", oldSalt.value)}
			p.scan(ips, ips)
		})
	}
}
