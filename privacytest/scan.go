package privacytest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Needle is a value that must not be found, in every form it could be
// written in. Build one with Text, Bytes or IP.
type Needle struct {
	// Name says what the value is in a Finding ("client ip 81.2.69.142").
	Name  string
	forms []form
}

// form is one way of writing a needle's value. Text forms are matched
// without regard to ASCII case (stores lower-case some texts, hex may be
// written either way); binary forms byte for byte.
type form struct {
	name  string
	value []byte
	fold  bool
}

// Text is a text needle (an e-mail address, a user id, a secret): found
// as it is and URL-escaped (query and path escaping) in any ASCII case,
// and hex- or base64-encoded as it is or lower-cased.
func Text(name, s string) Needle {
	n := Needle{Name: name}
	n.add("text", []byte(s), true)
	n.add("query-escaped", []byte(url.QueryEscape(s)), true)
	n.add("path-escaped", []byte(url.PathEscape(s)), true)
	for _, v := range []string{s, strings.ToLower(s)} {
		n.add("hex", []byte(hex.EncodeToString([]byte(v))), true)
		n.add("base64", []byte(base64.StdEncoding.EncodeToString([]byte(v))), false)
		n.add("base64url", []byte(base64.RawURLEncoding.EncodeToString([]byte(v))), false)
	}
	return n
}

// Bytes is a binary needle (a salt, a visitor id): found as the raw
// bytes, hex (any case) or base64.
func Bytes(name string, b []byte) Needle {
	n := Needle{Name: name}
	n.add("binary", b, false)
	n.add("hex", []byte(hex.EncodeToString(b)), true)
	n.add("base64", []byte(base64.StdEncoding.EncodeToString(b)), false)
	n.add("base64url", []byte(base64.RawURLEncoding.EncodeToString(b)), false)
	return n
}

// IP is a client address: found as text (and, for IPv6, fully
// expanded), as its 4-byte (IPv4) and 16-byte (IPv6, IPv4-mapped) binary
// forms and their hex, and an IPv4 address as a 32-bit decimal number.
// An anonymized address (trailing bytes zeroed) is none of these.
func IP(name string, ip netip.Addr) Needle {
	ip = ip.Unmap().WithZone("")
	n := Needle{Name: name}
	n.add("text", []byte(ip.String()), true)
	a16 := ip.As16()
	n.add("binary16", a16[:], false)
	n.add("hex16", []byte(hex.EncodeToString(a16[:])), true)
	if ip.Is4() {
		a4 := ip.As4()
		n.add("binary4", a4[:], false)
		n.add("hex4", []byte(hex.EncodeToString(a4[:])), true)
		n.add("uint32", []byte(strconv.FormatUint(uint64(binary.BigEndian.Uint32(a4[:])), 10)), false)
		n.add("mapped-text", []byte(netip.AddrFrom16(a16).String()), true)
	} else {
		n.add("expanded", []byte(ip.StringExpanded()), true)
	}
	return n
}

func (n *Needle) add(name string, v []byte, fold bool) {
	if len(v) == 0 {
		return
	}
	if fold {
		v = bytes.ToLower(v)
	}
	for _, f := range n.forms {
		if f.fold == fold && bytes.Equal(f.value, v) {
			return
		}
	}
	n.forms = append(n.forms, form{name, v, fold})
}

// Finding is a needle found somewhere.
type Finding struct {
	Where  string // "table.column row 3", or the name of a scanned text
	Needle string // Needle.Name
	Form   string // which form matched ("text", "binary4", "hex", …)
	Value  string // the cell or a window of the text around the match, quoted
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s (%s) in %s", f.Where, f.Needle, f.Form, f.Value)
}

// match returns the first needle form found in v.
func match(v []byte, needles []Needle) (needle, form string, at int, ok bool) {
	if len(v) == 0 {
		return "", "", 0, false
	}
	var lower []byte
	for _, n := range needles {
		for _, f := range n.forms {
			hay := v
			if f.fold {
				if lower == nil {
					lower = asciiLower(v)
				}
				hay = lower
			}
			if i := bytes.Index(hay, f.value); i >= 0 {
				return n.Name, f.name, i, true
			}
		}
	}
	return "", "", 0, false
}

// asciiLower lower-cases ASCII letters only, so that binary values keep
// their length and every other byte.
func asciiLower(v []byte) []byte {
	out := make([]byte, len(v))
	for i, c := range v {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// ScanText reports every line of text (a captured log) that contains a
// needle; where names the text in the findings.
func ScanText(where string, text []byte, needles []Needle) []Finding {
	var out []Finding
	for i, line := range bytes.Split(text, []byte("\n")) {
		if n, f, _, ok := match(line, needles); ok {
			out = append(out, Finding{Where: fmt.Sprintf("%s line %d", where, i+1), Needle: n, Form: f, Value: strconv.Quote(string(line))})
		}
	}
	return out
}

// Dialect is the SQL dialect of a scanned database.
type Dialect int

const (
	SQLite Dialect = iota + 1
	MySQL
)

// Report is what ScanDB read and found.
type Report struct {
	Findings []Finding
	// Tables, Rows and Cells count what was read, so that a test can
	// tell a clean scan from an empty one.
	Tables, Rows, Cells int
	// Columns lists every "table.column" read.
	Columns []string
}

// ScanDB reads every row of every table of db (SELECT *) and reports
// every cell that holds a needle in one of its forms, except the cells
// for which skip (when not nil) reports true. Values are compared as the
// bytes the driver returns (BLOB and binary columns raw, text as text)
// and, for other types, as their text form. ScanDB only reads.
func ScanDB(ctx context.Context, db *sql.DB, d Dialect, skip func(table, column string) bool, needles []Needle) (Report, error) {
	var r Report
	var q string
	switch d {
	case SQLite:
		q = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	case MySQL:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"
	default:
		return r, fmt.Errorf("privacytest: unknown dialect %d", d)
	}
	tables, err := strings1(ctx, db, q)
	if err != nil {
		return r, fmt.Errorf("privacytest: list tables: %w", err)
	}
	for _, t := range tables {
		if err := scanTable(ctx, db, d, t, skip, needles, &r); err != nil {
			return r, err
		}
		r.Tables++
	}
	return r, nil
}

func strings1(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteIdent(d Dialect, name string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func scanTable(ctx context.Context, db *sql.DB, d Dialect, table string, skip func(table, column string) bool, needles []Needle, r *Report) error {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(d, table))
	if err != nil {
		return fmt.Errorf("privacytest: read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("privacytest: columns of %s: %w", table, err)
	}
	for _, c := range cols {
		r.Columns = append(r.Columns, table+"."+c)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for n := 1; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("privacytest: read %s: %w", table, err)
		}
		r.Rows++
		for i, v := range vals {
			r.Cells++
			if skip != nil && skip(table, cols[i]) {
				continue
			}
			b := cellBytes(v)
			if nd, f, _, ok := match(b, needles); ok {
				r.Findings = append(r.Findings, Finding{
					Where: fmt.Sprintf("%s.%s row %d", table, cols[i], n), Needle: nd, Form: f, Value: strconv.Quote(string(b)),
				})
			}
		}
	}
	return rows.Err()
}

// cellBytes is the bytes of a driver value: []byte and strings as they
// are, times in RFC 3339, numbers and booleans as text.
func cellBytes(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return x
	case string:
		return []byte(x)
	case time.Time:
		return []byte(x.Format(time.RFC3339Nano))
	default:
		return []byte(fmt.Sprint(x))
	}
}
