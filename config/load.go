package config

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/footfall/analytics"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// maxSecretFile caps the size of a secret file (x_file).
const maxSecretFile = 64 << 10

// Load reads the HCL file at path, overlays the FOOTFALL_* variables of env
// (in os.Environ form), reads secret files, fills defaults and validates.
// An empty path means defaults and env only. Every problem found is
// reported at once, as Errors, wrapping analytics.ErrInvalid; a file that
// cannot be read wraps the os error too.
func Load(path string, env []string) (*Config, error) {
	var src []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w: %w", err, analytics.ErrInvalid)
		}
		src = b
	}
	return parse(src, path, env, readSecretFile)
}

// Parse is Load with the file's contents given; filename is used only in
// messages (default "config.hcl"). Secret files (x_file) are read from the
// file system, relative to the working directory.
func Parse(src []byte, filename string, env []string) (*Config, error) {
	if filename == "" {
		filename = "config.hcl"
	}
	return parse(src, filename, env, readSecretFile)
}

// readSecretFile reads a secret file. It must be a regular file (not a
// FIFO or device, which could block or never end) of at most 64 KiB.
func readSecretFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s: larger than %s", name, Size(maxSecretFile))
	}
	return b, nil
}

// origin is where a setting's value came from.
type origin struct {
	source    string
	line, col int
}

type loader struct {
	s        *schema
	cfg      *Config
	filename string
	errs     Errors
	origins  map[string]origin
	inFile   map[*field]hcl.Range // settings the file sets, at their names
	readFile func(string) ([]byte, error)
}

func parse(src []byte, filename string, env []string, readFile func(string) ([]byte, error)) (*Config, error) {
	l := &loader{
		s:        newSchema(),
		cfg:      Default(),
		filename: filename,
		origins:  map[string]origin{},
		inFile:   map[*field]hcl.Range{},
		readFile: readFile,
	}
	if len(src) > 0 {
		l.file(src)
	}
	l.errs.sortByPos()
	l.env(env)
	if len(l.errs) == 0 {
		l.secretFiles()
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	if errs := l.cfg.validate(); len(errs) > 0 {
		for _, e := range errs {
			o, ok := l.origins[e.Key]
			if !ok {
				base, _, _ := strings.Cut(e.Key, "[")
				o = l.origins[base]
			}
			e.Source = o.source
		}
		return nil, errs
	}
	return l.cfg, nil
}

// ---------------------------------------------------------------------------
// The HCL file
// ---------------------------------------------------------------------------

func (l *loader) pos(r hcl.Range) origin {
	return origin{
		source: fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column),
		line:   r.Start.Line,
		col:    r.Start.Column,
	}
}

func (l *loader) errAt(r hcl.Range, key, format string, args ...any) {
	o := l.pos(r)
	l.errs = append(l.errs, &Error{Source: o.source, Key: key, Msg: fmt.Sprintf(format, args...), line: o.line, col: o.col})
}

func (l *loader) diags(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		if d.Subject != nil {
			l.errAt(*d.Subject, "", "%s", msg)
		} else {
			l.errs = append(l.errs, &Error{Source: l.filename, Msg: msg})
		}
	}
}

func (l *loader) file(src []byte) {
	f, diags := hclsyntax.ParseConfig(src, l.filename, hcl.InitialPos)
	if diags.HasErrors() {
		l.diags(diags)
		return
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		l.errs = append(l.errs, &Error{Source: l.filename, Msg: "not in HCL native syntax"})
		return
	}
	l.body(l.s.root, body)
}

func where(b *block) string {
	if b.path == "" {
		return ""
	}
	return fmt.Sprintf(" in block %q", b.path)
}

func suggest(given string, names []string) string {
	best, bestD := "", 3 // as HCL's own suggestions
	for _, n := range names {
		if d := levenshtein.Distance(given, n, nil); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func (l *loader) body(b *block, body *hclsyntax.Body) {
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte })
	for _, a := range attrs {
		f := b.field(a.Name)
		if f == nil {
			if b.block(a.Name) != nil {
				l.errAt(a.NameRange, "", "%q is a block, not an attribute: write %s { … }", a.Name, a.Name)
			} else {
				l.errAt(a.NameRange, "", "unknown attribute %q%s%s", a.Name, where(b), suggest(a.Name, b.names()))
			}
			continue
		}
		if l.expr(f, a.Expr) {
			l.inFile[f] = a.NameRange
			l.origins[f.path] = l.pos(a.Expr.Range())
		}
	}
	seen := map[string]hcl.Range{}
	for _, blk := range body.Blocks {
		sub := b.block(blk.Type)
		if sub == nil {
			if b.field(blk.Type) != nil {
				l.errAt(blk.TypeRange, "", "%q is an attribute, not a block: write %s = …", blk.Type, blk.Type)
			} else {
				l.errAt(blk.TypeRange, "", "unknown block %q%s%s", blk.Type, where(b), suggest(blk.Type, b.names()))
			}
			continue
		}
		if len(blk.Labels) > 0 {
			l.errAt(blk.LabelRanges[0], "", "block %q takes no labels", sub.path)
			continue
		}
		if first, dup := seen[blk.Type]; dup {
			l.errAt(blk.TypeRange, "", "duplicate block %q (first at line %d)", sub.path, first.Start.Line)
			continue
		}
		seen[blk.Type] = blk.TypeRange
		l.body(sub, blk.Body)
	}
	// A secret and its x_file both given (non-empty) in the file.
	for _, f := range b.fields {
		if f.file == nil {
			continue
		}
		r1, ok1 := l.inFile[f]
		r2, ok2 := l.inFile[f.file]
		if ok1 && ok2 && f.value(l.cfg).Len() > 0 && f.file.value(l.cfg).Len() > 0 {
			if r2.Start.Byte < r1.Start.Byte {
				r2 = r1 // report the later of the two
			}
			l.errAt(r2, "", "%s and %s are both set; set only one", f.path, f.file.path)
		}
	}
}

// expr evaluates a constant expression into f; it reports whether it set
// a value.
func (l *loader) expr(f *field, e hclsyntax.Expression) bool {
	v, diags := e.Value(nil)
	if diags.HasErrors() {
		l.diags(diags)
		return false
	}
	r := e.Range()
	if !v.IsWhollyKnown() || v.IsNull() {
		l.errAt(r, f.path, "must be a %s value, not null", kindNames[f.kind])
		return false
	}
	v, _ = v.Unmark()
	dst := f.value(l.cfg)
	ty := v.Type()
	switch f.kind {
	case kString:
		if ty != cty.String {
			l.errAt(r, f.path, "must be a string, got %s", ty.FriendlyName())
			return false
		}
		dst.SetString(v.AsString())
	case kBool:
		if ty != cty.Bool {
			l.errAt(r, f.path, "must be true or false, got %s", ty.FriendlyName())
			return false
		}
		dst.SetBool(v.True())
	case kInt:
		if ty != cty.Number {
			l.errAt(r, f.path, "must be a whole number, got %s", ty.FriendlyName())
			return false
		}
		n, ok := wholeNumber(v.AsBigFloat())
		if !ok {
			l.errAt(r, f.path, "must be a whole number, got %s", v.AsBigFloat().Text('g', 10))
			return false
		}
		dst.SetInt(n)
	case kDuration:
		if ty != cty.String {
			l.errAt(r, f.path, "must be a duration string like \"30s\", \"5m\" or \"24h\", got %s", ty.FriendlyName())
			return false
		}
		d, err := parseDuration(v.AsString())
		if err != nil {
			l.errAt(r, f.path, "%s", err)
			return false
		}
		dst.SetInt(int64(d))
	case kSize:
		switch ty {
		case cty.String:
			n, err := ParseSize(v.AsString())
			if err != nil {
				l.errAt(r, f.path, "%s", errString(err))
				return false
			}
			dst.SetInt(int64(n))
		case cty.Number:
			n, ok := wholeNumber(v.AsBigFloat())
			if !ok || n < 0 {
				l.errAt(r, f.path, "must be a whole number of bytes or a size string like \"64KB\", \"1MiB\"")
				return false
			}
			dst.SetInt(n)
		default:
			l.errAt(r, f.path, "must be a size like \"512\", \"64KB\" or \"1MiB\", got %s", ty.FriendlyName())
			return false
		}
	case kList:
		if !ty.IsTupleType() && !ty.IsListType() && !ty.IsSetType() {
			l.errAt(r, f.path, "must be a list of strings, got %s", ty.FriendlyName())
			return false
		}
		var elems []hclsyntax.Expression
		if t, ok := e.(*hclsyntax.TupleConsExpr); ok && len(t.Exprs) == v.LengthInt() {
			elems = t.Exprs
		}
		var out []string
		i := 0
		ok := true
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			er := r
			if elems != nil {
				er = elems[i].Range()
			}
			key := fmt.Sprintf("%s[%d]", f.path, i)
			if ev.IsNull() || ev.Type() != cty.String {
				l.errAt(er, key, "must be a string, got %s", ev.Type().FriendlyName())
				ok = false
				continue
			}
			out = append(out, ev.AsString())
			if elems != nil {
				l.origins[key] = l.pos(er)
			}
		}
		if !ok {
			return false
		}
		dst.Set(reflect.ValueOf(out))
	}
	return true
}

// wholeNumber returns f as an int64 when it is a whole number within
// ±2^53 (beyond which HCL numbers are not meant to be exact here).
func wholeNumber(f *big.Float) (int64, bool) {
	if !f.IsInt() {
		return 0, false
	}
	n, acc := f.Int64()
	if acc != big.Exact || n > math.MaxInt64/2 || n < math.MinInt64/2 {
		return 0, false
	}
	return n, true
}

// ---------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------

// envAllowed are FOOTFALL_* variables that are not settings.
func envAllowed(name string) bool {
	return strings.HasPrefix(name, "FOOTFALL_TEST_") ||
		name == "FOOTFALL_REQUIRE_SERVICES" || name == "FOOTFALL_CONFIG"
}

func (l *loader) env(env []string) {
	vals := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "FOOTFALL_") || envAllowed(k) {
			continue
		}
		vals[k] = v // the last of duplicates wins, as in os/exec
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	slices.Sort(names)
	set := map[*field]bool{}
	for _, k := range names {
		f := l.s.byEnv[k]
		if f == nil {
			envNames := make([]string, 0, len(l.s.fields))
			for _, f := range l.s.fields {
				envNames = append(envNames, f.env)
			}
			l.errs = append(l.errs, &Error{Source: k, Msg: "unknown variable" + suggest(strings.ToUpper(k), envNames)})
			continue
		}
		v := vals[k]
		if v == "" {
			continue // empty is unset, so that templates may leave a variable blank
		}
		if msg := setText(f.value(l.cfg), f, v); msg != "" {
			l.errs = append(l.errs, &Error{Source: k, Key: f.path, Msg: msg})
			continue
		}
		set[f] = true
		l.origins[f.path] = origin{source: k}
		for key := range l.origins {
			if strings.HasPrefix(key, f.path+"[") {
				delete(l.origins, key)
			}
		}
	}
	// A secret and its file: the environment replaces what the file said.
	for _, f := range l.s.fields {
		if f.file == nil {
			continue
		}
		switch {
		case set[f] && set[f.file]:
			l.errs = append(l.errs, &Error{Source: f.file.env, Msg: fmt.Sprintf("%s and %s are both set; set only one", f.env, f.file.env)})
		case set[f]:
			f.file.value(l.cfg).SetString("")
			delete(l.origins, f.file.path)
		case set[f.file]:
			f.value(l.cfg).SetZero()
		}
	}
}

// setText sets dst (of field f) from its text form (environment values);
// it returns a message when the text is not valid, which never quotes a
// secret.
func setText(dst reflect.Value, f *field, s string) string {
	quoted := strconv.Quote(s)
	if f.secret {
		quoted = "(secret)"
	}
	switch f.kind {
	case kString:
		dst.SetString(s)
	case kBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return "must be true or false (or 1, 0), got " + quoted
		}
		dst.SetBool(b)
	case kInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n > math.MaxInt64/2 || n < math.MinInt64/2 {
			return "must be a whole number, got " + quoted
		}
		dst.SetInt(n)
	case kDuration:
		d, err := parseDuration(s)
		if err != nil {
			return err.Error()
		}
		dst.SetInt(int64(d))
	case kSize:
		n, err := ParseSize(s)
		if err != nil {
			return errString(err)
		}
		dst.SetInt(int64(n))
	case kList:
		dst.Set(reflect.ValueOf(splitList(s, ",")))
	}
	return ""
}

// splitList splits s at any of seps, trims spaces and drops empty entries;
// nil when nothing is left.
func splitList(s, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Secret files
// ---------------------------------------------------------------------------

func (l *loader) secretFiles() {
	for _, f := range l.s.fields {
		if f.file == nil {
			continue
		}
		name := f.file.value(l.cfg).String()
		if name == "" {
			continue
		}
		o := l.origins[f.file.path]
		b, err := l.readFile(name)
		if err != nil {
			l.errs = append(l.errs, &Error{Source: o.source, Key: f.file.path, Msg: "cannot read the secret: " + err.Error()})
			continue
		}
		dst := f.value(l.cfg)
		switch f.kind {
		case kList:
			dst.Set(reflect.ValueOf(splitList(string(b), "\r\n,")))
		default:
			dst.SetString(strings.TrimRight(string(b), "\r\n"))
		}
		l.origins[f.path] = o
	}
}
