package mysqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestAppendLiteral(t *testing.T) {
	at := time.Date(2024, 3, 10, 23, 59, 59, 999_999_999, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "NULL"},
		{"nil bytes", []byte(nil), "NULL"},
		{"empty bytes", []byte{}, "X''"},
		{"bytes", []byte{0, 0x27, 0x5c, 0xff}, "X'00275cff'"},
		{"int64", int64(-42), "-42"},
		{"int", 7, "7"},
		{"uint64 max", ^uint64(0), "18446744073709551615"},
		{"uint32", uint32(4000000000), "4000000000"},
		{"float", 59.9, "59.9"},
		{"float exponent", 1e21, "1e+21"},
		{"true", true, "1"},
		{"false", false, "0"},
		{"zero time", time.Time{}, "'0000-00-00'"},
		{"time: UTC, truncated to the millisecond", at, "'2024-03-10 22:59:59.999'"},
		{"plain text", "https://example.com/a?b=c&d=%20 é ✓ 🎉", "'https://example.com/a?b=c&d=%20 é ✓ 🎉'"},
		{"empty text", "", "''"},
		{"quote", "it's", "X'69742773'"},
		{"backslash", `a\b`, "X'615c62'"},
		{"NUL", "a\x00", "X'6100'"},
		{"newline", "a\n", "X'610a'"},
		{"DEL", "a\x7f", "X'617f'"},
		{"invalid UTF-8", "caf\xe9", "X'636166e9'"},
		{"invalid UTF-8 after valid", "é\xe9", "X'c3a9e9'"},
		{"quote after non-ASCII", "é'", "X'c3a927'"},
	} {
		if got := string(appendLiteral(nil, tc.v)); got != tc.want {
			t.Errorf("%s: appendLiteral(%#v) = %s, want %s", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestAppendLiteralUnknownType(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "int8") {
			t.Errorf("recovered %v, want a panic naming the type", r)
		}
	}()
	appendLiteral(nil, int8(1))
}

func TestLiteralSQL(t *testing.T) {
	got := literalSQL("UPDATE t SET a = ?, b = ? WHERE c = ?", int64(1), "x'y", nil)
	if want := "UPDATE t SET a = 1, b = X'782779' WHERE c = NULL"; got != want {
		t.Errorf("literalSQL = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
	}{{"too few arguments", "? ?", []any{1}}, {"too many arguments", "?", []any{1, 2}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			literalSQL(tc.query, tc.args...)
		}()
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"", "abc", "it's", `a\b`, "caf\xe9", "é✓🎉", "\x00", "\x7f", "ͭ'", "é\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := string(appendLiteral(nil, s))
		if !plainText(s) {
			if !strings.HasPrefix(lit, "X'") {
				t.Fatalf("%q: %s, want a hex literal", s, lit)
			}
			return
		}
		// A plain literal is the text between quotes, with nothing a
		// string literal treats specially in either backslash mode.
		if lit != "'"+s+"'" || strings.ContainsAny(s, "'\\\x00") {
			t.Fatalf("%q: plain literal %s", s, lit)
		}
	})
}
