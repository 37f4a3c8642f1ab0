package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Limits on one document, so that hostile input cannot make Load run for
// ever or drown the reader in messages.
const (
	// maxNodes bounds the values one Load visits, aliases and merges
	// included (a "billion laughs" document stops here).
	maxNodes = 50_000
	// maxErrors bounds the problems reported for one document.
	maxErrors = 100
)

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// A walker goes once over a parsed document before the YAML library decodes
// it, following the Go type that each node decodes into. It expands ${VAR}
// in scalar values, replaces each *_file key of a secret by the secret read
// from the file, bounds the document's size, aliases included, and rejects
// aliases that contain themselves. It remembers the field path, line and
// type of every node where it is written, so that every problem, the
// library's included, can name its field and line.
type walker struct {
	getenv   func(string) string
	baseDir  string
	src      *sources
	spots    map[mark][]spot
	expanded map[*yaml.Node]bool // values taken from the environment or a file
	active   map[*yaml.Node]bool // nodes being walked, to catch cycles
	sizes    map[*yaml.Node]int  // values under each node, aliases included
	total    int
	errs     Errors
	fatal    bool // the document is not to be decoded at all
}

// mark is a node's position, as the library's errors give it.
type mark struct{ line, column int }

// spot is one node at a mark: a value and the type it decodes into, or a
// key (typ nil) and the mapping it belongs to, which decodes into parent.
type spot struct {
	node    *yaml.Node
	path    string // the value's path, or the key's mapping's
	typ     reflect.Type
	mapping *yaml.Node
	parent  reflect.Type
}

func newWalker(getenv func(string) string, baseDir string) *walker {
	return &walker{
		getenv:   getenv,
		baseDir:  baseDir,
		src:      newSources(),
		spots:    make(map[mark][]spot),
		expanded: make(map[*yaml.Node]bool),
		active:   make(map[*yaml.Node]bool),
		sizes:    make(map[*yaml.Node]int),
	}
}

func (w *walker) fail(path string, line int, err error) {
	w.errs = append(w.errs, &FieldError{Field: path, Line: line, Err: err})
}

// walk visits n, which decodes into t at path; t is nil where the document
// has no place for n (an unknown key, a value of the wrong kind), which the
// library reports. An alias counts the values it stands for; the walk
// visits them where they are written.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if w.fatal {
		return
	}
	start := w.total
	switch {
	case n.Kind != yaml.AliasNode:
		w.total++
	case w.active[n.Alias]:
		w.fail(path, n.Line, fmt.Errorf("alias *%s refers to a value that contains it", clip(n.Value)))
		w.fatal = true
		return
	default:
		w.total += w.sizes[n.Alias]
	}
	if w.total > maxNodes {
		w.fail("", n.Line, fmt.Errorf("document too large: more than %d values, aliases included", maxNodes))
		w.fatal = true
		return
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem() // an optional section, such as ha
	}
	w.active[n] = true
	defer func() { delete(w.active, n); w.sizes[n] = w.total - start }()
	if t != nil {
		m := mark{n.Line, n.Column}
		w.spots[m] = append(w.spots[m], spot{node: n, path: path, typ: t})
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if t != nil {
			w.scalar(n, t, path)
		}
	case yaml.SequenceNode:
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			et = t.Elem()
		}
		for i, e := range n.Content {
			ep := fmt.Sprintf("%s[%d]", path, i)
			w.src.setLine(ep, e.Line)
			if et != nil && isNull(e) {
				want, _ := wants(et)
				w.fail(ep, e.Line, fmt.Errorf("must be %s, not empty", want))
			}
			w.walk(e, et, ep)
		}
	case yaml.MappingNode:
		w.mapping(n, t, path)
	}
}

// mapping visits the pairs of a mapping that decodes into t, a struct or a
// map. The values of a merge key ("<<") decode into t too.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	isMap := t != nil && t.Kind() == reflect.Map
	if fields == nil && !isMap {
		t = nil
	}
	if fields != nil {
		w.secretFiles(n, fields, path)
	}
	for i := 0; t != nil && i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && !isMerge(k) {
			w.src.setLine(joinPath(path, k.Value), k.Line) // before merged keys
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			w.merge(v, t, path)
			continue
		}
		var vt reflect.Type
		kp := path
		if t != nil {
			m := mark{k.Line, k.Column}
			w.spots[m] = append(w.spots[m], spot{node: k, path: path, mapping: n, parent: t})
			if k.Kind == yaml.ScalarNode {
				kp, vt = joinPath(path, k.Value), fields[k.Value]
				if isMap {
					vt = t.Elem()
				}
			}
		}
		w.walk(v, vt, kp)
	}
}

// merge visits the value of a merge key: a mapping or a list of mappings,
// merged into the mapping at path, which decodes into t.
func (w *walker) merge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind != yaml.SequenceNode {
		w.walk(v, t, path)
		return
	}
	start := w.total
	for _, e := range v.Content {
		w.walk(e, t, path)
	}
	w.total++
	w.sizes[v] = w.total - start
}

// scalar expands ${VAR} references in a scalar value. The result, and a
// quoted value of a number or boolean field, decode as if written plain,
// by the field's type: "5" fills an int. A value that fails to expand
// becomes null, which the library skips.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) {
	const quoted = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle
	plain := false
	if !w.expanded[n] && strings.Contains(n.Value, "$") {
		s, err := expand(n.Value, w.getenv)
		if err != nil {
			w.fail(path, n.Line, err)
			n.Tag, n.Value, n.Style = "!!null", "", 0
			return
		}
		w.src.fromEnv(path, n.Value, s)
		w.expanded[n], n.Value, plain = true, s, true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Bool, reflect.Float64:
		plain = plain || n.Style&quoted != 0
	}
	if plain && n.Style&yaml.TaggedStyle == 0 {
		n.Tag, n.Style = "", 0
		if n.ShortTag() == "!!null" {
			n.Tag = "!!str"
		}
	}
}

// secretFiles replaces each "X_file: path" pair of a mapping that decodes
// into a struct with a Secret field X by "X: <the file's contents>". The
// pair goes when the file cannot be read or X is set too.
func (w *walker) secretFiles(n *yaml.Node, fields map[string]reflect.Type, path string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, ok := strings.CutSuffix(k.Value, "_file")
		if !ok || k.Kind != yaml.ScalarNode || fields[k.Value] != nil || fields[name] != secretType {
			continue
		}
		fp := joinPath(path, k.Value)
		w.src.setLine(fp, k.Line)
		w.src.alias[joinPath(path, name)] = fp
		s, err := w.secretFile(n, name, v)
		if err != nil || s == "" {
			if err != nil {
				w.fail(fp, k.Line, err)
			}
			n.Content = slices.Delete(n.Content, i, i+2)
			i -= 2
			continue
		}
		n.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: k.Line, Column: k.Column}
		n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: v.Line, Column: v.Column}
		w.expanded[n.Content[i+1]] = true
	}
}

// secretFile reads the secret of the key name from the file that v names;
// "" without an error when v is null.
func (w *walker) secretFile(n *yaml.Node, name string, v *yaml.Node) (string, error) {
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == name {
			return "", fmt.Errorf("set %s or %s_file, not both", name, name)
		}
	}
	if v = deref(v); isNull(v) {
		return "", nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("must be a file name, not %s", describe(v))
	}
	p, err := expand(v.Value, w.getenv)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) && w.baseDir != "" {
		p = filepath.Join(w.baseDir, p)
	}
	return readSecretFile(p)
}

// yamlFields maps the YAML keys of struct t to their types; nil if t is not
// a struct of keys.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct || t == secretType {
		return nil
	}
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			fields[name] = f.Type
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

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}
