package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

func TestPosition(t *testing.T) {
	cases := []struct {
		a, b analytics.Position
		less bool
	}{
		{analytics.Position{1, 2}, analytics.Position{1, 3}, true},
		{analytics.Position{1, 3}, analytics.Position{1, 3}, false},
		{analytics.Position{1, 9}, analytics.Position{2, 0}, true},
		{analytics.Position{2, 0}, analytics.Position{1, 9}, false},
	}
	for _, c := range cases {
		if got := c.a.Less(c.b); got != c.less {
			t.Errorf("%v.Less(%v) = %v", c.a, c.b, got)
		}
		p, err := analytics.ParsePosition(c.a.String())
		if err != nil || p != c.a {
			t.Errorf("ParsePosition(%q) = %v, %v", c.a.String(), p, err)
		}
	}
	for _, bad := range []string{"", "1", "a-b", "1-", "-1", "1-2-3"} {
		if _, err := analytics.ParsePosition(bad); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("ParsePosition(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseVisitorID(t *testing.T) {
	v, err := analytics.ParseVisitorID("0123456789ABCDEFtrailing")
	if err != nil || v.String() != "0123456789abcdef" {
		t.Fatalf("got %v, %v", v, err)
	}
	for _, bad := range []string{"", "0123456789abcde", "0123456789abcdeg"} {
		if _, err := analytics.ParseVisitorID(bad); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("ParseVisitorID(%q) err = %v", bad, err)
		}
	}
	// sha1("alice") = 522b276a356bdf39013dfabea2cd43e141ecc9e8
	if got := analytics.UserVisitorID("alice").String(); got != "522b276a356bdf39" {
		t.Errorf("UserVisitorID(alice) = %s", got)
	}
}

func TestParseTimezone(t *testing.T) {
	cases := []struct {
		tz     string
		offset int // seconds east of UTC at 2026-01-15 12:00 UTC
		bad    bool
	}{
		{"", 0, false}, {"UTC", 0, false}, {"UTC+5.5", 19800, false}, {"UTC-3", -10800, false},
		{"UTC+5.75", 20700, false}, {"Europe/Paris", 3600, false}, {"America/New_York", -18000, false},
		{"UTC+15", 0, true}, {"Mars/Base", 0, true}, {"UTCx", 0, true},
	}
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, c := range cases {
		loc, err := analytics.ParseTimezone(c.tz)
		if c.bad {
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Errorf("ParseTimezone(%q) err = %v, want ErrInvalid", c.tz, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTimezone(%q): %v", c.tz, err)
			continue
		}
		if _, off := at.In(loc).Zone(); off != c.offset {
			t.Errorf("ParseTimezone(%q) offset = %d, want %d", c.tz, off, c.offset)
		}
	}
}

func TestShardKey(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	id1, _ := analytics.ParseVisitorID("1111111111111111")
	id2, _ := analytics.ParseVisitorID("2222222222222222")
	base := analytics.Hit{SiteID: 1, IP: ip, UserAgent: "UA"}
	withUID := base
	withUID.UserID, withUID.CookieID = "bob", id1
	withUID2 := withUID
	withUID2.CookieID = id2 // uid wins over _id: same key
	if withUID.ShardKey() != withUID2.ShardKey() {
		t.Error("uid must decide the shard key regardless of _id")
	}
	cookie1, cookie2 := base, base
	cookie1.CookieID, cookie2.CookieID = id1, id2
	cookie2.IP = netip.MustParseAddr("198.51.100.7")
	if cookie1.ShardKey() == cookie2.ShardKey() {
		t.Error("different _id must give different keys")
	}
	sameCookieOtherIP := cookie1
	sameCookieOtherIP.IP = netip.MustParseAddr("203.0.113.9")
	if cookie1.ShardKey() != sameCookieOtherIP.ShardKey() {
		t.Error("_id must decide the key regardless of IP")
	}
	anon2 := base
	anon2.UserAgent = "other"
	if base.ShardKey() == anon2.ShardKey() {
		t.Error("cookieless key must depend on the user agent")
	}
	// Stable across releases and nodes: pin one value.
	if got := base.ShardKey(); got != base.ShardKey() || fmt.Sprint(got) == "" {
		t.Fatal("unstable")
	}
}

func TestIsRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("x: %w", analytics.ErrUnavailable), true},
		{fmt.Errorf("x: %w", analytics.ErrConflict), true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", analytics.ErrInvalid), false},
		{analytics.ErrNotFound, false},
		{analytics.ErrClosed, false},
		{errors.New("other"), false},
	}
	for _, c := range cases {
		if got := analytics.IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v", c.err, got)
		}
	}
}

func TestNewHitID(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_123)
	a, b := analytics.NewHitID(t0), analytics.NewHitID(t0)
	if a == b || a.IsZero() {
		t.Fatal("ids must be unique and non-zero")
	}
	if a.String()[:12] != fmt.Sprintf("%012x", t0.UnixMilli()) {
		t.Errorf("id %s does not start with the time", a)
	}
}

func TestToggle(t *testing.T) {
	if !analytics.Default.Resolve(true) || analytics.Default.Resolve(false) || !analytics.On.Resolve(false) || analytics.Off.Resolve(true) {
		t.Error("Toggle.Resolve")
	}
}

func TestShardKeyAllocs(t *testing.T) {
	id, _ := analytics.ParseVisitorID("1111111111111111")
	hits := []analytics.Hit{
		{SiteID: 1234, IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "UA"},
		{SiteID: 1234, CID: id},
		{SiteID: 1234, CookieID: id},
		{SiteID: 1234, UserID: "bob"},
	}
	for i := range hits {
		if n := testing.AllocsPerRun(100, func() { hits[i].ShardKey() }); n != 0 {
			t.Errorf("hit %d: ShardKey allocates %v times", i, n)
		}
	}
}
