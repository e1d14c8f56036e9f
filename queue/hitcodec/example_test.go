package hitcodec_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

func ExampleAppend() {
	now := time.Date(2026, 5, 4, 10, 11, 12, 0, time.UTC)
	h := analytics.Hit{
		ID:        analytics.NewHitID(now),
		SiteID:    1,
		Time:      now,
		Kind:      analytics.KindPageview,
		IP:        netip.MustParseAddr("203.0.113.7"),
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		URL:       "https://www.example.com/",
	}
	b := hitcodec.Append(nil, &h)
	back, err := hitcodec.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(b), "bytes;", back.URL, back.Time.Equal(h.Time))
	// Output: 50 bytes; https://www.example.com/ true
}
