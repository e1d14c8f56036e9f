package storeutil

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/analytics"
)

func TestBoolIntNullFloat(t *testing.T) {
	if BoolInt(true) != 1 || BoolInt(false) != 0 {
		t.Errorf("BoolInt = %d, %d; want 1, 0", BoolInt(true), BoolInt(false))
	}
	if v := NullFloat(1.5, true); v != 1.5 {
		t.Errorf("NullFloat(1.5, true) = %v", v)
	}
	if v := NullFloat(1.5, false); v != nil {
		t.Errorf("NullFloat(1.5, false) = %v, want nil", v)
	}
}

func TestIP(t *testing.T) {
	for _, tc := range []struct {
		name string
		ip   netip.Addr
		len  int // of the stored bytes; 0 = NULL
	}{
		{"none", netip.Addr{}, 0},
		{"ipv4", netip.MustParseAddr("192.0.2.1"), 4},
		{"ipv6", netip.MustParseAddr("2001:db8::1"), 16},
		{"4in6 stays 16", netip.MustParseAddr("::ffff:192.0.2.1"), 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := IPBytes(tc.ip)
			var b []byte
			if tc.len == 0 {
				if v != nil {
					t.Fatalf("IPBytes = %v, want NULL", v)
				}
			} else {
				b = v.([]byte)
				if len(b) != tc.len {
					t.Fatalf("IPBytes = %d bytes, want %d", len(b), tc.len)
				}
			}
			got, err := ParseIP(b)
			if err != nil || got != tc.ip {
				t.Errorf("ParseIP(IPBytes(%v)) = %v, %v", tc.ip, got, err)
			}
		})
	}
	if _, err := ParseIP([]byte{1, 2, 3}); err == nil {
		t.Error("ParseIP of 3 bytes succeeded")
	}
}

func TestVisitorID(t *testing.T) {
	want := analytics.VisitorID{1, 2, 3, 4, 5, 6, 7, 8}
	if got := VisitorID(want[:]); got != want {
		t.Errorf("VisitorID = %v, want %v", got, want)
	}
	if got := VisitorID(nil); !got.IsZero() {
		t.Errorf("VisitorID(nil) = %v, want zero", got)
	}
	if got := VisitorID([]byte{9}); got != (analytics.VisitorID{9}) {
		t.Errorf("VisitorID(short) = %v", got)
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		name string
		list []string
		json string
		back []string
	}{
		{"nil", nil, "[]", nil},
		{"empty", []string{}, "[]", nil},
		{"two", []string{"https://a.example", `q"uote`}, `["https://a.example","q\"uote"]`, []string{"https://a.example", `q"uote`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ListJSON(tc.list)
			if got != tc.json {
				t.Errorf("ListJSON = %s, want %s", got, tc.json)
			}
			back, err := ParseList(got)
			if err != nil || !cmp.Equal(back, tc.back) {
				t.Errorf("ParseList(%s) = %q, %v; want %q", got, back, err, tc.back)
			}
		})
	}
	if _, err := ParseList("{"); err == nil {
		t.Error("ParseList of bad JSON succeeded")
	}
}

func TestDimensions(t *testing.T) {
	for _, tc := range []struct {
		name string
		dims []analytics.Dimension
		json string // "" = NULL
	}{
		{"none", nil, ""},
		{"empty", []analytics.Dimension{}, ""},
		{"two", []analytics.Dimension{{ID: 1, Value: "a"}, {ID: 7, Value: ""}}, `[{"id":1,"v":"a"},{"id":7,"v":""}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeDimensions(tc.dims)
			if err != nil || string(b) != tc.json || (tc.json == "") != (b == nil) {
				t.Fatalf("EncodeDimensions = %q, %v; want %q", b, err, tc.json)
			}
			back, err := ParseDimensions(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.dims) == 0 {
				if back != nil {
					t.Errorf("ParseDimensions = %v, want nil", back)
				}
				return
			}
			if !cmp.Equal(back, tc.dims) {
				t.Errorf("ParseDimensions = %v, want %v", back, tc.dims)
			}
		})
	}
	if _, err := ParseDimensions([]byte("[{")); err == nil {
		t.Error("ParseDimensions of bad JSON succeeded")
	}
}

func FuzzParseDimensions(f *testing.F) {
	f.Add([]byte(`[{"id":1,"v":"a"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"id":"x"}]`))
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDimensions(b)
		if err != nil {
			return
		}
		// What decodes encodes and decodes to the same dimensions.
		again, err := EncodeDimensions(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseDimensions(again)
		if err != nil || len(back) != len(d) {
			t.Fatalf("round trip of %q: %v, %v", b, back, err)
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add(`[]`)
	f.Add(`["a","b"]`)
	f.Add(`[1]`)
	f.Add(`"x"`)
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseList(s)
		if err != nil {
			return
		}
		back, err := ParseList(ListJSON(l))
		if err != nil || len(back) != len(l) {
			t.Fatalf("round trip of %q: %q, %v", s, back, err)
		}
	})
}

func TestDays(t *testing.T) {
	for _, tc := range []struct {
		day string
		ok  bool
	}{
		{"2024-03-01", true},
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2024-3-1", false},
		{"2024-03-01 ", false},
		{"", false},
		{"20240301", false},
	} {
		if got := ValidDay(tc.day); got != tc.ok {
			t.Errorf("ValidDay(%q) = %v, want %v", tc.day, got, tc.ok)
		}
		err := CheckDay(tc.day)
		if tc.ok != (err == nil) || err != nil && (!errors.Is(err, analytics.ErrInvalid) ||
			err.Error() != "day is not YYYY-MM-DD: analytics: invalid") {
			t.Errorf("CheckDay(%q) = %v", tc.day, err)
		}
	}
}
