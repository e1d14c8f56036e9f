package ingest

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a+b", "a b"},
		{"caf%C3%A9", "café"},
		{"%2Fpath%3Fq%3D1", "/path?q=1"},
		{"100%", "100%"},     // lone % kept, like PHP
		{"%zz%4", "%zz%4"},   // malformed escapes kept
		{"%%41", "%A"},       // first % kept, then %41
		{"%e2%82%ac", "€"},   // lower-case hex
		{"a%2Bb+c", "a+b c"}, // escaped plus stays a plus
		{"%00x", "\x00x"},    // NUL decoded
		{"%ff", "\xff"},      // invalid UTF-8 left to parseClean
	}
	for _, tc := range tests {
		if got := parseUnescape(tc.in); got != tc.want {
			t.Errorf("parseUnescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// On well-formed input it agrees with the standard library.
	for _, s := range []string{"https%3A%2F%2Fshop.example%2F%3Fa%3D1%26b%3D2", "Hello+W%C3%B6rld%21", "%7B%22brands%22%3A%5B%5D%7D"} {
		want, err := url.QueryUnescape(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseUnescape(s); got != want {
			t.Errorf("parseUnescape(%q) = %q, url.QueryUnescape says %q", s, got, want)
		}
	}
}

func TestParseScan(t *testing.T) {
	var p parseParams
	p.scan("idsite=1&&=x&rec&action_name=a%20b&%5Fid=0123456789abcdef&dimension7=v&dimension0=no&dimensionx=no&dimension12345678=no&foo=%zz")
	if p.v[parseIDSite] != "1" || p.v[parseRec] != "" || p.v[parseActionName] != "a b" || p.v[parseVisitorID] != "0123456789abcdef" {
		t.Errorf("scan: %q %q %q %q", p.v[parseIDSite], p.v[parseRec], p.v[parseActionName], p.v[parseVisitorID])
	}
	if d := p.dimensions(); len(d) != 1 || d[0].ID != 7 || d[0].Value != "v" {
		t.Errorf("dimensions = %v", d)
	}
	if p.n != 9 {
		t.Errorf("n = %d, want 9 (every non-empty key)", p.n)
	}
	// More dimensions than fit inline.
	var q parseParams
	var b strings.Builder
	for i := 1; i <= 12; i++ {
		b.WriteString("&dimension" + string(rune('a'+i)) + "=x") // not dimensions
	}
	for i := 20; i >= 1; i-- {
		b.WriteString("&dimension")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("=v")
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteString("&dimension3=again&dimension15=again")
	q.scan(b.String())
	d := q.dimensions()
	if len(d) != 20 {
		t.Fatalf("%d dimensions, want 20", len(d))
	}
	seen := map[int]string{}
	for _, x := range d {
		seen[x.ID] = x.Value
	}
	if seen[3] != "again" || seen[15] != "again" || seen[20] != "v20" {
		t.Errorf("dimensions = %v", d)
	}
}

func TestParseClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"ééé", 3, "ééé"},
		{"éééé", 3, "ééé"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"\xff\xfe\xfd", 10, "\uFFFD"},
		{"日本語テキスト", 2, "日本"},
	}
	for _, tc := range tests {
		if got := parseClean(tc.in, tc.max); got != tc.want {
			t.Errorf("parseClean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestParseCustomTime(t *testing.T) {
	now := testNow
	tests := []struct {
		cdt, cdo string
		want     time.Time
		ok       bool
	}{
		{"1714975689", "", time.Unix(1714975689, 0).UTC(), true},
		{"1714975689.75", "", time.Unix(1714975689, 0).UTC(), true},
		{"2024-05-06 07:00:00", "", time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC), true},
		{"2024-05-06T07:00:00Z", "", time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC), true},
		{"2024-05-06T09:00:00+02:00", "", time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC), true},
		{"2024-05-05", "", time.Date(2024, 5, 5, 0, 0, 0, 0, time.UTC), true},
		{"2024-05-06 07:00:00", "30", time.Date(2024, 5, 6, 6, 59, 30, 0, time.UTC), true},
		{"", "-30", now.Add(-30 * time.Second), true}, // cdo is taken as an absolute offset
		{"", "1.5", now.Add(-time.Second), true},
		{"2024-05-06 08:00:00", "", time.Time{}, false}, // future
		{"1999-01-01 00:00:00", "", time.Time{}, false}, // over 20 years
		{"0", "", time.Time{}, false},
		{"tomorrow", "", time.Time{}, false},
		{"99999999999999999999", "", time.Time{}, false},
		{"", "x", time.Time{}, false},
		{"", "1e300", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := parseCustomTime(tc.cdt, tc.cdo, now)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseCustomTime(%q, %q) = %v, %v; want %v, %v", tc.cdt, tc.cdo, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true}, {" 2 ", 2, true}, {"1,25", 1.25, true}, {"-3e2", -300, true},
		{"", 0, false}, {"inf", 0, false}, {"NaN", 0, false}, {"0x10", 0, false}, {"1_0", 0, false}, {"1e999", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseFloat(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseFloat(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHandlerIsScript(t *testing.T) {
	for p, want := range map[string]bool{
		"/matomo.js": true, "/piwik.js": true, "/x/y/matomo.js": true, "matomo.js": true,
		"/js/": true, "/js": true, "js/": true, "/js/index.php": true, "/js/piwik.min.js": true, "/a/js/": true,
		"/js/tracker.php": false, "/matomo.php": false, "/myjs/x.js": false, "/foo.js/x": false, "/js/a/b.php": false,
		"/matomo.jsx": false, "/": false, "": false,
	} {
		if got := handlerIsScript(p); got != want {
			t.Errorf("handlerIsScript(%q) = %v, want %v", p, got, want)
		}
	}
}
