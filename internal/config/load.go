package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Size limits of the files Load reads.
const (
	maxConfigSize = 1 << 20
	maxSecretSize = 64 << 10
)

// LoadOptions tell Load where to find the environment and secret files.
type LoadOptions struct {
	// Getenv looks up ${VAR} references; nil means os.Getenv. A variable
	// that is unset or empty is an error.
	Getenv func(string) string
	// BaseDir is the directory against which relative *_file paths
	// resolve; empty means the working directory. LoadFile sets it to the
	// configuration file's directory when it is empty.
	BaseDir string
}

// LoadFile reads the configuration file at path; see Load.
func LoadFile(path string, opts LoadOptions) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	return Load(f, opts)
}

// Load reads a YAML configuration from r: it expands ${VAR} references,
// reads the *_file secrets, decodes the document strictly over Default and
// validates the result.
//
// Every problem is returned as Errors, each naming the field and line, all
// at once: those of form (unknown or repeated keys, wrong types, unset
// variables, unreadable files) and those Validate finds, ordered by line.
// Validate's problems with a field that has a problem of form, or with the
// fields above or under it, are left out: they would only repeat it. Only a
// document that cannot be read as YAML at all (a syntax error, more than
// one document, one too large or with an alias that contains itself) stops
// at its first problem.
func Load(r io.Reader, opts LoadOptions) (*Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, Errors{{Err: fmt.Errorf("configuration larger than %d bytes", maxConfigSize)}}
	}
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	w := newWalker(getenv, opts.BaseDir)
	if root != nil && !isNull(root) {
		if deref(root).Kind != yaml.MappingNode {
			return nil, Errors{{Line: root.Line, Err: fmt.Errorf(
				"the configuration must be a mapping with keys such as api and watches, not %s", describe(root))}}
		}
		w.walk(root, configType, "")
		if !w.fatal {
			w.decode(root, &cfg)
		}
	}
	if w.fatal {
		return nil, w.errs.final()
	}
	cfg.HA.haDefaults(func(path string) bool { _, ok := w.src.lineOf(path); return ok })
	errs := w.errs
	for _, e := range validate(&cfg, w.src) {
		if !overlaps(e.Field, w.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs.final()
	}
	return &cfg, nil
}

// parse returns the root node of the one YAML document in data; nil when
// there is none.
func parse(data []byte) (*yaml.Node, error) {
	l, err := yaml.NewLoader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	var doc, next yaml.Node
	switch err := l.Load(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, syntaxError(err, data)
	}
	switch err := l.Load(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(err, data)
	default:
		return nil, Errors{{Line: next.Line, Err: errors.New("more than one YAML document; rtkwatchd reads exactly one")}}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// syntaxError turns the YAML parser's error into Errors, at the line where
// the parser found the problem, and names the line where the construct it
// was reading began when that is another one. When that construct is a
// { } or [ ] whose lines hold an unquoted ${VAR} (whose braces end a flow
// mapping), it says to quote it.
func syntaxError(err error, data []byte) error {
	var e *yaml.LoadError
	if !errors.As(err, &e) {
		return Errors{{Err: fmt.Errorf("invalid YAML: %w", err)}}
	}
	msg := "invalid YAML: " + e.Message
	if e.ContextMsg != "" && e.ContextMark.Line > 0 && e.ContextMark.Line != e.Mark.Line {
		msg += fmt.Sprintf(" (%s that starts at line %d)", e.ContextMsg, e.ContextMark.Line)
	}
	if strings.Contains(e.ContextMsg, "flow") && unquotedVar(data, e.ContextMark.Line, e.Mark.Line) {
		msg += `; inside { } or [ ], quote a ${VAR}: "${VAR}"`
	}
	return Errors{{Line: e.Mark.Line, Err: errors.New(msg)}}
}

// unquotedVar reports whether lines from to to (1-based) of data hold a
// ${ that no quote comes before on its line.
func unquotedVar(data []byte, from, to int) bool {
	lines := strings.Split(string(data), "\n")
	for i := max(from, 1); i <= min(to, len(lines)); i++ {
		line := lines[i-1]
		if j := strings.Index(line, "${"); j >= 0 && !strings.ContainsAny(line[:j], `"'`) {
			return true
		}
	}
	return false
}

// sources remember where each field of a loaded Config came from, so that
// validation errors name the key the user wrote and its line, and never
// echo a value taken from the environment.
type sources struct {
	lines  map[string]int    // YAML field path → line
	alias  map[string]string // Config field path → YAML field path, where they differ
	env    map[string]string // YAML field path → its text before ${VAR} expansion
	values []string          // the expanded values of minEchoLen bytes or more
}

// minEchoLen is the length from which an expanded value is scrubbed from
// every validation message, wherever it appears: shorter ones ("info",
// "1") would blank ordinary words. Each field's own value, of any length,
// is never quoted (see validator.quote).
const minEchoLen = 8

func newSources() *sources {
	return &sources{
		lines: make(map[string]int),
		alias: make(map[string]string),
		env:   make(map[string]string),
	}
}

// fromEnv records that the value at path, written as raw, expanded to value.
func (s *sources) fromEnv(path, raw, value string) {
	s.env[path] = raw
	if len(value) >= minEchoLen {
		s.values = append(s.values, value)
	}
}

// expandedFrom returns what the file says at path, when its value was
// expanded from the environment.
func (s *sources) expandedFrom(path string) (string, bool) {
	if s == nil {
		return "", false
	}
	raw, ok := s.env[path]
	return raw, ok
}

// scrub replaces every long expanded value in msg by "…".
func (s *sources) scrub(msg string) string {
	if s == nil {
		return msg
	}
	for _, v := range s.values {
		msg = strings.ReplaceAll(msg, v, "…")
	}
	return msg
}

// overlaps reports whether a problem of Validate's at field repeats one of
// form in errs: one at the same field, above it or under it, whose value
// the library could not decode (it leaves out a whole list when one of
// its items fails). A problem of the document as a whole (an unknown top
// key) hides none.
func overlaps(field string, errs Errors) bool {
	under := func(a, b string) bool {
		return strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[")
	}
	for _, e := range errs {
		if e.Field != "" && (e.Field == field || under(field, e.Field) || under(e.Field, field)) {
			return true
		}
	}
	return false
}

// setLine records the line of the YAML field at path, unless known: a key
// of a mapping comes before the same key of a mapping it merges.
func (s *sources) setLine(path string, line int) {
	if _, ok := s.lines[path]; !ok {
		s.lines[path] = line
	}
}

// lineOf returns the line where the document wrote path, and whether it
// did.
func (s *sources) lineOf(path string) (int, bool) {
	if s == nil {
		return 0, false
	}
	line, ok := s.lines[path]
	return line, ok
}

// locate returns the YAML path and line of a Config field path. A field
// the document left out gets the line of its nearest ancestor.
func (s *sources) locate(path string) (string, int) {
	if s == nil {
		return path, 0
	}
	if a, ok := s.alias[path]; ok {
		path = a
	}
	for p := path; p != ""; p = parentPath(p) {
		if line, ok := s.lines[p]; ok {
			return path, line
		}
	}
	return path, 0
}

// parentPath strips the last element from a path: "a.b[2]" → "a.b" → "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// readSecretFile reads a secret from a regular file (symbolic links are
// followed), without trailing whitespace.
// Its errors name the path, never the contents.
func readSecretFile(path string) (string, error) {
	// Refuse FIFOs and devices, which could block or never end.
	if fi, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("read %q: %w", path, pathErrCause(err))
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("read %q: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", path, pathErrCause(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return "", fmt.Errorf("read %q: %w", path, pathErrCause(err))
	}
	if len(b) > maxSecretSize {
		return "", fmt.Errorf("file %q is larger than %d bytes", path, maxSecretSize)
	}
	s := strings.TrimRight(string(b), " \t\r\n")
	if s == "" {
		return "", fmt.Errorf("file %q is empty", path)
	}
	return s, nil
}

// pathErrCause drops the operation and path that a *fs.PathError repeats.
func pathErrCause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
