package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits on one document, so that hostile input cannot make Load run for
// ever or drown the reader in messages.
const (
	// maxNodes bounds the values one Load visits, aliases and merges
	// included (a "billion laughs" document stops here).
	maxNodes = 50_000
	// maxMergeDepth bounds merge keys ("<<") within merged mappings.
	maxMergeDepth = 8
	// maxErrors bounds the problems reported for one document.
	maxErrors = 100
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// defaulter is a list element that has defaults of its own, filled in
// before its YAML is decoded over it.
type defaulter interface{ applyDefaults() }

// decoder walks a YAML node tree into Go values by their yaml tags. It is
// strict (unknown and duplicate keys are errors), expands ${VAR} in scalar
// values, records the line of every field it sets, and collects every
// problem, each naming its field path and line. Fields that the document
// leaves out, or sets to null, keep the values they had.
type decoder struct {
	getenv  func(string) string
	lines   map[string]int // field path → line
	errs    Errors
	nodes   int
	stopped bool
}

func newDecoder(getenv func(string) string) *decoder {
	return &decoder{getenv: getenv, lines: make(map[string]int)}
}

// fail records a problem with the field at path.
func (d *decoder) fail(path string, line int, format string, args ...any) {
	if d.stopped {
		return
	}
	if len(d.errs) >= maxErrors {
		d.errs = append(d.errs, &FieldError{Line: line, Err: errors.New("too many problems; stopped here")})
		d.stopped = true
		return
	}
	d.errs = append(d.errs, &FieldError{Field: path, Line: line, Err: fmt.Errorf(format, args...)})
}

// visit counts one node against maxNodes and reports whether to go on.
func (d *decoder) visit(n *yaml.Node) bool {
	if d.stopped {
		return false
	}
	d.nodes++
	if d.nodes > maxNodes {
		d.fail("", n.Line, "document too large: more than %d values, aliases included", maxNodes)
		d.stopped = true
		return false
	}
	return true
}

// document decodes a parsed document into v, a pointer to a struct.
func (d *decoder) document(doc *yaml.Node, v any) {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if isNull(n) {
		return
	}
	if deref(n).Kind != yaml.MappingNode {
		d.fail("", n.Line, "the configuration must be a mapping with keys such as api and watches, not %s", describe(n))
		return
	}
	d.value(n, reflect.ValueOf(v).Elem(), "")
}

// value decodes n into the settable v.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if !d.visit(n) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.fail(path, n.Line, "alias *%s is not defined", n.Value)
			return
		}
		d.value(n.Alias, v, path)
		return
	}
	if isNull(n) {
		return
	}
	switch v.Type() {
	case durationType:
		d.duration(n, v, path)
		return
	case secretType:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.Set(reflect.ValueOf(NewSecret(s)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Map:
		d.stringMap(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Int:
		d.integer(n, v, path)
	case reflect.Bool:
		d.boolean(n, v, path)
	case reflect.Float64:
		d.float(n, v, path)
	default:
		panic("config: no decoding into " + v.Type().String())
	}
}

// mapping decodes a YAML mapping into the struct v by its fields' yaml tags.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "must be a mapping, not %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := make(map[string]int)
	for _, p := range d.pairs(n, path, 0) {
		name, fp, ok := d.key(p, path, seen)
		if !ok {
			continue
		}
		i, ok := fields[name]
		if !ok {
			d.fail(path, p.key.Line, "unknown field %q%s", clip(name), suggest(name, fields))
			continue
		}
		d.lines[fp] = p.key.Line
		d.value(p.value, v.Field(i), fp)
	}
}

// key checks a mapping key: a string, not repeated in the same mapping.
func (d *decoder) key(p pair, path string, seen map[string]int) (name, fieldPath string, ok bool) {
	if p.key.Kind != yaml.ScalarNode {
		d.fail(path, p.key.Line, "keys must be strings, not %s", describe(p.key))
		return "", "", false
	}
	name = p.key.Value
	fieldPath = joinPath(path, name)
	if p.merged {
		return name, fieldPath, true
	}
	if first, dup := seen[name]; dup {
		d.fail(fieldPath, p.key.Line, "duplicate key (first set at line %d)", first)
		return "", "", false
	}
	seen[name] = p.key.Line
	return name, fieldPath, true
}

// sequence decodes a YAML sequence into the slice v.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n.Line, "must be a list, not %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		d.lines[ep] = e.Line
		ev := s.Index(i)
		if def, ok := ev.Addr().Interface().(defaulter); ok {
			def.applyDefaults()
		}
		d.value(e, ev, ep)
	}
	v.Set(s)
}

// stringMap decodes a YAML mapping into the map v, whose keys are strings.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "must be a mapping, not %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := make(map[string]int)
	for _, p := range d.pairs(n, path, 0) {
		name, fp, ok := d.key(p, path, seen)
		if !ok {
			continue
		}
		d.lines[fp] = p.key.Line
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(p.value, ev, fp)
		m.SetMapIndex(reflect.ValueOf(name), ev)
	}
	v.Set(m)
}

// scalar returns the scalar's value with ${VAR} expanded.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "must be %s, not %s", want, describe(n))
		return "", false
	}
	s, err := expand(n.Value, d.getenv)
	if err != nil {
		d.fail(path, n.Line, "%v", err)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "an integer")
	if !ok {
		return
	}
	i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
	if err != nil {
		d.fail(path, n.Line, "must be an integer%s", got(n, s))
		return
	}
	v.SetInt(i)
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		v.SetBool(true)
	case "false":
		v.SetBool(false)
	default:
		d.fail(path, n.Line, "must be true or false%s", got(n, s))
	}
}

func (d *decoder) float(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "a number")
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f-f != 0 { // f-f is NaN for ±Inf and NaN
		d.fail(path, n.Line, "must be a finite number%s", got(n, s))
		return
	}
	v.SetFloat(f)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, `a duration such as "30s"`)
	if !ok {
		return
	}
	t, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		d.fail(path, n.Line, `must be a duration such as "30s" or "1h30m"%s`, got(n, s))
		return
	}
	v.SetInt(int64(t))
}

// got returns `, got "value"` for an error message, or nothing when the
// value came from the environment, which is not echoed.
func got(n *yaml.Node, value string) string {
	if value != n.Value {
		return " (as expanded from the environment)"
	}
	return fmt.Sprintf(", got %q", clip(value))
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// suggest returns ` (did you mean "x"?)` when one known field is within
// two edits of an unknown name, or nothing.
func suggest(name string, fields map[string]int) string {
	best, bestDist := "", 3
	for f := range fields {
		if d := editDistance(name, f); d < bestDist || d == bestDist && f < best {
			best, bestDist = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between short strings a and b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlFields maps the yaml names of t's fields to their indexes.
func yamlFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxMergeDepth; i++ {
		n = n.Alias
	}
	return n
}

// describe names the kind of a node for an error message.
func describe(n *yaml.Node) string {
	switch deref(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "an alias"
}
