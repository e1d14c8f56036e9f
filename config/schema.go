package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// kind is the type of a leaf setting.
type kind uint8

const (
	kString kind = iota + 1
	kInt
	kBool
	kList
	kDuration
	kSize
)

var kindNames = [...]string{"", "string", "int", "bool", "list", "duration", "size"}

// field is a leaf setting of Config.
type field struct {
	name   string // HCL key: "url"
	path   string // "queue.redis.url"
	env    string // "FOOTFALL_QUEUE_REDIS_URL"
	index  []int  // reflect field index from Config
	kind   kind
	secret bool
	redact string // how String shows a secret: "" (fully hidden), "url", "dsn"
	file   *field // a secret's x_file sibling
	fileOf *field // an x_file's secret
}

// block is a block of Config (the root is the file body).
type block struct {
	name   string // "redis"
	path   string // "queue.redis"; "" for the root
	fields []*field
	blocks []*block
}

func (b *block) field(name string) *field {
	for _, f := range b.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (b *block) block(name string) *block {
	for _, s := range b.blocks {
		if s.name == name {
			return s
		}
	}
	return nil
}

// names lists the keys and block names of b, for suggestions.
func (b *block) names() []string {
	var out []string
	for _, f := range b.fields {
		out = append(out, f.name)
	}
	for _, s := range b.blocks {
		out = append(out, s.name)
	}
	return out
}

// schema describes every setting of Config.
type schema struct {
	root   *block
	fields []*field // every leaf, in struct order
	byEnv  map[string]*field
	byPath map[string]*field
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

// newSchema builds the schema from Config's struct tags. It panics on a
// malformed Config type, which the tests would catch at once.
func newSchema() *schema {
	s := &schema{byEnv: map[string]*field{}, byPath: map[string]*field{}}
	s.root = s.walk(reflect.TypeFor[Config](), "", "", nil)
	return s
}

func (s *schema) walk(t reflect.Type, name, path string, index []int) *block {
	b := &block{name: name, path: path}
	for i := range t.NumField() {
		sf := t.Field(i)
		key := sf.Tag.Get("hcl")
		if key == "" {
			panic("config: field " + sf.Name + " has no hcl tag")
		}
		idx := append(append([]int(nil), index...), i)
		p := key
		if path != "" {
			p = path + "." + key
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			b.blocks = append(b.blocks, s.walk(sf.Type, key, p, idx))
			continue
		}
		f := &field{name: key, path: p, index: idx}
		f.env = "FOOTFALL_" + strings.ToUpper(strings.ReplaceAll(p, ".", "_"))
		switch {
		case sf.Type == durationType:
			f.kind = kDuration
		case sf.Type == sizeType:
			f.kind = kSize
		case sf.Type.Kind() == reflect.String:
			f.kind = kString
		case sf.Type.Kind() == reflect.Int:
			f.kind = kInt
		case sf.Type.Kind() == reflect.Bool:
			f.kind = kBool
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String:
			f.kind = kList
		default:
			panic("config: field " + sf.Name + " has an unsupported type " + sf.Type.String())
		}
		if r, ok := sf.Tag.Lookup("secret"); ok {
			f.secret, f.redact = true, r
		}
		if _, dup := s.byEnv[f.env]; dup {
			panic("config: two settings map to " + f.env)
		}
		b.fields = append(b.fields, f)
		s.fields = append(s.fields, f)
		s.byEnv[f.env] = f
		s.byPath[f.path] = f
	}
	for _, f := range b.fields {
		if !f.secret {
			continue
		}
		ff := b.field(f.name + "_file")
		if ff == nil || ff.kind != kString {
			panic(fmt.Sprintf("config: secret %s has no string %s_file sibling", f.path, f.name))
		}
		f.file, ff.fileOf = ff, f
	}
	return b
}

// value returns the field f of c, settable.
func (f *field) value(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index)
}

// Setting describes one leaf setting of Config, for tools that render
// configuration (nomadgen) or document it.
type Setting struct {
	// Key is the setting's path in the HCL file: "queue.redis.url".
	Key string
	// Env is the environment variable that overrides it:
	// "FOOTFALL_QUEUE_REDIS_URL".
	Env string
	// Type is "string", "int", "bool", "list" (of strings), "duration" or
	// "size".
	Type string
	// Secret is true for settings never printed; FileKey is then the key
	// of the sibling that names a file holding the secret
	// ("queue.redis.url_file").
	Secret  bool
	FileKey string
}

// Settings lists every leaf setting of Config in declaration order.
func Settings() []Setting {
	s := newSchema()
	out := make([]Setting, len(s.fields))
	for i, f := range s.fields {
		out[i] = Setting{Key: f.path, Env: f.env, Type: kindNames[f.kind], Secret: f.secret}
		if f.file != nil {
			out[i].FileKey = f.file.path
		}
	}
	return out
}
