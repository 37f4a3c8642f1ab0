package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.yaml.in/yaml/v4"
)

// decode lets the YAML library decode root into cfg, strictly, and adds a
// problem naming the field and line for each of its errors. The library
// skips a mapping with a repeated key, so the repeated keys it finds are
// taken out and the rest decoded again, to report every problem at once.
func (w *walker) decode(root *yaml.Node, cfg *Config) {
	errs, repeats := w.load(root, cfg)
	if len(repeats) > 0 {
		errs, _ = w.load(root, cfg)
		errs = append(repeats, errs...)
	}
	w.errs = append(w.errs, errs...)
}

// load decodes root into cfg and explains the library's errors; those of
// repeated keys, which it takes out of their mappings, come apart.
func (w *walker) load(root *yaml.Node, cfg *Config) (errs, repeats Errors) {
	err := root.Load(cfg, yaml.WithKnownFields(), yaml.WithUniqueKeys())
	var many *yaml.LoadErrors
	var one *yaml.LoadError
	var all []*yaml.LoadError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &many):
		all = many.Errors
	case errors.As(err, &one):
		all = []*yaml.LoadError{one}
	default:
		return Errors{{Err: errors.New("the YAML library could not decode the configuration")}}, nil
	}
	for _, e := range all {
		fe, s := w.explain(e)
		if s == nil || earlier(*s) == nil {
			errs = append(errs, fe)
			continue
		}
		repeats = append(repeats, fe)
		if i := slices.Index(s.mapping.Content, s.node); i >= 0 {
			s.mapping.Content = slices.Delete(s.mapping.Content, i, i+2)
		}
	}
	return errs, repeats
}

// explain turns one of the library's errors into a FieldError, from what
// is at its position, and returns the spot it found there. The library's
// own text, which may quote a secret, is not used.
func (w *walker) explain(e *yaml.LoadError) (*FieldError, *spot) {
	spots := w.spots[mark{e.Mark.Line, e.Mark.Column}]
	for i, s := range spots {
		if field, problem := w.problem(s); problem != "" {
			return &FieldError{Field: field, Line: e.Mark.Line, Err: errors.New(problem)}, &spots[i]
		}
	}
	field := ""
	if len(spots) > 0 {
		field = spots[0].path
	}
	return &FieldError{Field: field, Line: e.Mark.Line, Err: errors.New("cannot be decoded")}, nil
}

// problem says what is wrong with the node at s, and under which field, or
// returns "" when nothing is.
func (w *walker) problem(s spot) (field, problem string) {
	n := s.node
	if s.mapping != nil {
		fields := yamlFields(s.parent)
		switch {
		case n.Kind != yaml.ScalarNode:
			return s.path, "keys must be strings, not " + describe(n)
		case fields != nil && fields[n.Value] == nil:
			return s.path, fmt.Sprintf("unknown field %q%s", clip(n.Value), suggest(n.Value, fields))
		}
		if k := earlier(s); k != nil {
			return joinPath(s.path, n.Value), fmt.Sprintf("duplicate key (first set at line %d)", k.Line)
		}
		return "", ""
	}
	want, kind := wants(s.typ)
	switch {
	case n.Kind != kind:
		return s.path, fmt.Sprintf("must be %s, not %s", want, describe(n))
	case kind == yaml.ScalarNode:
		return s.path, "must be " + want + w.got(n)
	}
	return "", ""
}

// earlier returns the key of the same name before the key at s in its
// mapping, or nil.
func earlier(s spot) *yaml.Node {
	if s.mapping == nil || s.node.Kind != yaml.ScalarNode {
		return nil
	}
	for i := 0; i < len(s.mapping.Content) && s.mapping.Content[i] != s.node; i += 2 {
		if k := s.mapping.Content[i]; k.Kind == yaml.ScalarNode && k.Value == s.node.Value {
			return k
		}
	}
	return nil
}

// wants describes the values of type t for an error message, and gives
// the kind of node they are written as.
func wants(t reflect.Type) (string, yaml.Kind) {
	switch t {
	case durationType:
		return `a duration such as "30s" or "1h30m"`, yaml.ScalarNode
	case secretType:
		return "a string", yaml.ScalarNode
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping", yaml.MappingNode
	case reflect.Slice:
		return "a list", yaml.SequenceNode
	case reflect.Int:
		return "an integer", yaml.ScalarNode
	case reflect.Bool:
		return "true or false", yaml.ScalarNode
	case reflect.Float64:
		return "a number", yaml.ScalarNode
	}
	return "a string", yaml.ScalarNode
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

// got returns `, got "value"` for an error message, or nothing but a note
// when the value came from the environment or a file, which is not echoed.
func (w *walker) got(n *yaml.Node) string {
	if w.expanded[n] {
		return " (as expanded from the environment)"
	}
	return fmt.Sprintf(", got %q", clip(n.Value))
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
func suggest(name string, fields map[string]reflect.Type) string {
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
