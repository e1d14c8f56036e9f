package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/text/unicode/norm"
)

// redactedText replaces a secret in String and Redacted.
const redactedText = "(redacted)"

// Marshal writes c as canonical HCL that Load and Parse read back to an
// equal Config: only settings that differ from Default, in declaration
// order, blocks only when they hold something, durations and sizes in
// their shortest exact form ("90m" is "1h30m", 1048576 bytes is "1MiB").
// The output is deterministic. Secrets are written in clear text, except
// that a secret whose x_file is set is written as the x_file only (Load
// reads the file again), which is how role configs should carry them.
//
// Marshal fails with analytics.ErrInvalid when a string is not valid UTF-8
// or not in Unicode normal form C (HCL normalizes strings, so it would not
// read back equal). It does not validate c.
func (c *Config) Marshal() ([]byte, error) {
	w := &writer{cfg: c, def: Default()}
	s := newSchema()
	f := hclwrite.NewEmptyFile()
	w.block(f.Body(), s.root)
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	return hclwrite.Format(f.Bytes()), nil
}

// Redacted writes every setting of c, defaults included, as HCL with each
// secret replaced: a Redis URL and a MySQL DSN keep everything but the
// password, other secrets become "(redacted)". It is for humans and logs
// ("footfall config show"), not meant to be parsed back.
func (c *Config) Redacted() string {
	w := &writer{cfg: c, def: Default(), all: true, redact: true}
	f := hclwrite.NewEmptyFile()
	w.block(f.Body(), newSchema().root)
	return string(hclwrite.Format(f.Bytes()))
}

// String returns Redacted, so that printing a Config never shows a
// secret.
func (c Config) String() string { return c.Redacted() }

// GoString returns Redacted, so that %#v never shows a secret either.
func (c Config) GoString() string { return c.Redacted() }

// redactedBlock writes one block of c as Redacted does.
func (c *Config) redactedBlock(path string) string {
	w := &writer{cfg: c, def: Default(), all: true, redact: true}
	b := newSchema().root
	for _, name := range strings.Split(path, ".") {
		b = b.block(name)
	}
	f := hclwrite.NewEmptyFile()
	blk := f.Body().AppendNewBlock(b.name, nil)
	w.block(blk.Body(), b)
	return string(hclwrite.Format(f.Bytes()))
}

// String returns the block as HCL with its secrets redacted.
func (in Ingest) String() string { c := Config{Ingest: in}; return c.redactedBlock("ingest") }

// GoString returns String.
func (in Ingest) GoString() string { return in.String() }

// String returns the block as HCL with its secrets redacted.
func (r Redis) String() string {
	c := Config{Queue: Queue{Redis: r}}
	return c.redactedBlock("queue.redis")
}

// GoString returns String.
func (r Redis) GoString() string { return r.String() }

// String returns the block as HCL with its secrets redacted.
func (m MySQL) String() string {
	c := Config{Store: Store{MySQL: m}}
	return c.redactedBlock("store.mysql")
}

// GoString returns String.
func (m MySQL) GoString() string { return m.String() }

// String returns the block as HCL with its secrets redacted.
func (p Privacy) String() string { c := Config{Privacy: p}; return c.redactedBlock("privacy") }

// GoString returns String.
func (p Privacy) GoString() string { return p.String() }

type writer struct {
	cfg, def    *Config
	all, redact bool
	errs        Errors
}

// block writes the settings of b into body and reports whether it wrote
// anything.
func (w *writer) block(body *hclwrite.Body, b *block) bool {
	n := 0
	for _, f := range b.fields {
		v := f.value(w.cfg)
		if !w.all {
			if f.file != nil && f.file.value(w.cfg).String() != "" {
				continue // the file carries the secret
			}
			if isDefault(f, v, f.value(w.def)) {
				continue
			}
		}
		val, ok := w.cty(f, v)
		if !ok {
			continue
		}
		body.SetAttributeValue(f.name, val)
		n++
	}
	for _, sb := range b.blocks {
		blk := hclwrite.NewBlock(sb.name, nil)
		if !w.block(blk.Body(), sb) && !w.all {
			continue
		}
		if n > 0 {
			body.AppendNewline()
		}
		body.AppendBlock(blk)
		n++
	}
	return n > 0
}

func isDefault(f *field, v, d reflect.Value) bool {
	if f.kind == kList && v.Len() == 0 && d.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(v.Interface(), d.Interface())
}

// cty converts the value v of f for hclwrite.
func (w *writer) cty(f *field, v reflect.Value) (cty.Value, bool) {
	switch f.kind {
	case kString:
		s := v.String()
		if w.redact && f.secret && s != "" {
			s = redactSecret(f.redact, s)
		}
		return w.str(f.path, s)
	case kInt:
		return cty.NumberIntVal(v.Int()), true
	case kBool:
		return cty.BoolVal(v.Bool()), true
	case kDuration:
		return cty.StringVal(formatDuration(time.Duration(v.Int()))), true
	case kSize:
		return cty.StringVal(Size(v.Int()).String()), true
	case kList:
		if v.Len() == 0 {
			return cty.ListValEmpty(cty.String), true
		}
		elems := make([]cty.Value, v.Len())
		for i := range elems {
			s := v.Index(i).String()
			if w.redact && f.secret {
				s = redactedText
			}
			e, ok := w.str(fmt.Sprintf("%s[%d]", f.path, i), s)
			if !ok {
				return cty.NilVal, false
			}
			elems[i] = e
		}
		return cty.ListVal(elems), true
	}
	return cty.NilVal, false
}

func (w *writer) str(key, s string) (cty.Value, bool) {
	switch {
	case !utf8.ValidString(s):
		w.errs = append(w.errs, &Error{Key: key, Msg: "not valid UTF-8, cannot be written as HCL"})
		return cty.NilVal, false
	case !norm.NFC.IsNormalString(s):
		w.errs = append(w.errs, &Error{Key: key, Msg: "not in Unicode normal form C, would not read back equal"})
		return cty.NilVal, false
	}
	return cty.StringVal(s), true
}

// redactSecret hides a secret for printing. A URL or DSN keeps everything
// but its password; anything it cannot parse is hidden entirely.
func redactSecret(how, s string) string {
	switch how {
	case "url":
		u, err := url.Parse(s)
		if err != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
			return redactedText
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	case "dsn":
		cfg, err := mysql.ParseDSN(s)
		if err != nil {
			return redactedText
		}
		if cfg.Passwd != "" {
			cfg.Passwd = "xxxxx"
		}
		return cfg.FormatDSN()
	}
	return redactedText
}
