package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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

// fileConfig is the shape of the YAML document: Config plus the keys that
// only say where a secret comes from.
type fileConfig struct {
	API       fileAPI        `yaml:"api"`
	Store     Store          `yaml:"store"`
	Log       Log            `yaml:"log"`
	Admin     Admin          `yaml:"admin"`
	Notifiers []fileNotifier `yaml:"notifiers"`
	Delivery  Delivery       `yaml:"delivery"`
	Watches   []Watch        `yaml:"watches"`
}

type fileAPI struct {
	AccountID     string        `yaml:"account_id"`
	Token         Secret        `yaml:"token"`
	TokenFile     string        `yaml:"token_file"`
	BaseURL       string        `yaml:"base_url"`
	Timeout       time.Duration `yaml:"timeout"`
	RequestsPer5m int           `yaml:"requests_per_5m"`
}

type fileNotifier struct {
	Name       string            `yaml:"name"`
	Type       string            `yaml:"type"`
	URL        Secret            `yaml:"url"`
	URLFile    string            `yaml:"url_file"`
	Secret     Secret            `yaml:"secret"`
	SecretFile string            `yaml:"secret_file"`
	Secrets    []Secret          `yaml:"secrets"`
	Headers    map[string]string `yaml:"headers"`
	Events     []string          `yaml:"events"`
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

// Load reads a YAML configuration from r: it decodes it strictly over
// Default, expands ${VAR} references, reads the *_file secrets and
// validates the result.
//
// Every problem is returned as Errors, each naming the field and line.
// Problems of form (syntax, unknown keys, wrong types, unset variables,
// unreadable files) are reported first; only a well-formed document goes on
// to Validate, whose problems are then all reported together.
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
	doc, err := parse(data)
	if err != nil {
		return nil, err
	}

	def := Default()
	f := fileConfig{
		API: fileAPI{
			BaseURL:       def.API.BaseURL,
			Timeout:       def.API.Timeout,
			RequestsPer5m: def.API.RequestsPer5m,
		},
		Store:    def.Store,
		Log:      def.Log,
		Admin:    def.Admin,
		Delivery: def.Delivery,
	}
	d := newDecoder(getenv)
	if doc != nil {
		d.document(doc, &f)
	}
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}

	src := &sources{lines: d.lines, alias: make(map[string]string)}
	res := &resolver{baseDir: opts.BaseDir, src: src}
	cfg := res.config(&f)
	if len(res.errs) > 0 {
		return nil, res.errs.sorted()
	}
	if errs := validate(cfg, src); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// parse parses one YAML document; nil means the input holds none.
func parse(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return nil, syntaxError(err)
	}
	return nil, Errors{{Line: next.Line, Err: errors.New("more than one YAML document; rtkwatchd reads exactly one")}}
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parserProblems are the YAML parser's (not scanner's) problems. The
// library reports their lines 0-based, unlike all others.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError turns a YAML parser error into Errors with its 1-based line.
func syntaxError(err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return Errors{{Err: fmt.Errorf("invalid YAML: %w", err)}}
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(parserProblems, m[2]) {
		line++
	}
	return Errors{{Line: line, Err: fmt.Errorf("invalid YAML: %s", m[2])}}
}

// sources remember where each field of a loaded Config came from, so that
// validation errors name the key the user wrote and its line.
type sources struct {
	lines map[string]int    // YAML field path → line
	alias map[string]string // Config field path → YAML field path, where they differ
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

// resolver turns a fileConfig into a Config, reading secret files.
type resolver struct {
	baseDir string
	src     *sources
	errs    Errors
}

func (r *resolver) fail(path string, err error) {
	path, line := r.src.locate(path)
	r.errs = append(r.errs, &FieldError{Field: path, Line: line, Err: err})
}

func (r *resolver) config(f *fileConfig) *Config {
	c := &Config{
		API: API{
			AccountID:     f.API.AccountID,
			Token:         r.secret("api.token", f.API.Token, "api.token_file", f.API.TokenFile),
			BaseURL:       f.API.BaseURL,
			Timeout:       f.API.Timeout,
			RequestsPer5m: f.API.RequestsPer5m,
		},
		Store:    f.Store,
		Log:      f.Log,
		Admin:    f.Admin,
		Delivery: f.Delivery,
		Watches:  f.Watches,
	}
	for i, fn := range f.Notifiers {
		p := fmt.Sprintf("notifiers[%d]", i)
		n := Notifier{
			Name:    fn.Name,
			Type:    fn.Type,
			URL:     r.secret(p+".url", fn.URL, p+".url_file", fn.URLFile),
			Headers: fn.Headers,
			Events:  fn.Events,
		}
		// Secrets lists secret (or secret_file) first, then secrets; the
		// aliases let validation name the key each one was written under.
		if s := r.secret(p+".secret", fn.Secret, p+".secret_file", fn.SecretFile); !s.IsZero() {
			from := p + ".secret"
			if fn.SecretFile != "" {
				from = p + ".secret_file"
			}
			r.src.alias[p+".secrets[0]"] = from
			n.Secrets = append(n.Secrets, s)
		}
		for j, s := range fn.Secrets {
			if k := len(n.Secrets); k != j {
				r.src.alias[fmt.Sprintf("%s.secrets[%d]", p, k)] = fmt.Sprintf("%s.secrets[%d]", p, j)
			}
			n.Secrets = append(n.Secrets, s)
		}
		c.Notifiers = append(c.Notifiers, n)
	}
	return c
}

// secret returns the secret given inline at valuePath or in the file named
// at filePath; not both. It records which one the Config field came from.
func (r *resolver) secret(valuePath string, value Secret, filePath, file string) Secret {
	if file == "" {
		return value
	}
	r.src.alias[valuePath] = filePath
	if !value.IsZero() {
		r.fail(filePath, fmt.Errorf("set %s or %s, not both", lastElem(valuePath), lastElem(filePath)))
		return Secret{}
	}
	s, err := readSecretFile(r.resolvePath(file))
	if err != nil {
		r.fail(filePath, err)
		return Secret{}
	}
	return s
}

func (r *resolver) resolvePath(p string) string {
	if filepath.IsAbs(p) || r.baseDir == "" {
		return p
	}
	return filepath.Join(r.baseDir, p)
}

// readSecretFile reads a secret from a regular file (symbolic links are
// followed), without trailing whitespace.
// Its errors name the path, never the contents.
func readSecretFile(path string) (Secret, error) {
	// Refuse FIFOs and devices, which could block or never end.
	if fi, err := os.Stat(path); err != nil {
		return Secret{}, fmt.Errorf("read %q: %w", path, pathErrCause(err))
	} else if !fi.Mode().IsRegular() {
		return Secret{}, fmt.Errorf("read %q: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("read %q: %w", path, pathErrCause(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return Secret{}, fmt.Errorf("read %q: %w", path, pathErrCause(err))
	}
	if len(b) > maxSecretSize {
		return Secret{}, fmt.Errorf("file %q is larger than %d bytes", path, maxSecretSize)
	}
	s := strings.TrimRight(string(b), " \t\r\n")
	if s == "" {
		return Secret{}, fmt.Errorf("file %q is empty", path)
	}
	return NewSecret(s), nil
}

// pathErrCause drops the operation and path that a *fs.PathError repeats.
func pathErrCause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func lastElem(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}
