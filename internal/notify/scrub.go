package notify

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// minCredentialLen is the shortest extra header value, or URL path segment
// or query value on its own, that is treated as a credential and scrubbed
// from errors. Shorter values ("1", "json", "video") are ordinary words
// that would otherwise be blanked wherever they appear in an error; a
// credential is longer. The URL's whole path, query and user information
// are scrubbed whatever their length.
const minCredentialLen = 8

// addSecret adds s, in every form a receiver may echo it in, to the parts
// scrubbed from errors. An empty s adds nothing.
func (r *receiverURL) addSecret(s string) {
	if s == "" || s == "/" {
		return
	}
	for _, f := range echoForms(s) {
		if !slices.Contains(r.secret, f) {
			r.secret = append(r.secret, f)
		}
	}
	// Longest first, so that a whole URL goes before the parts of it.
	slices.SortStableFunc(r.secret, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// addHeaderSecret adds an extra header's value when it is long enough to
// be a credential (see minCredentialLen), and the credential of a value
// such as "Bearer <token>" on its own.
func (r *receiverURL) addHeaderSecret(value string) {
	if len(value) < minCredentialLen {
		return
	}
	r.addSecret(value)
	if i := strings.LastIndexByte(value, ' '); i >= 0 && len(value)-i-1 >= minCredentialLen {
		r.addSecret(value[i+1:])
	}
}

// addURLSecrets adds the parts of u that may hold a credential: the whole
// URL, its path and query, each long path segment and query value, its
// user information and the Basic authorization the client derives from it.
func (r *receiverURL) addURLSecrets(raw string, u *url.URL) {
	for _, s := range []string{raw, u.RequestURI(), u.EscapedPath(), u.Path, u.RawQuery, u.User.String()} {
		r.addSecret(s)
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if len(seg) >= minCredentialLen {
			r.addSecret(seg)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= minCredentialLen {
				r.addSecret(v)
			}
		}
	}
	if u.User != nil {
		p, _ := u.User.Password()
		r.addSecret(p)
		r.addSecret(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + p)))
	}
}

// echoForms returns s as it is and as a receiver may re-encode it:
// percent-encoded as a path or a query (upper- or lower-case hex), and
// escaped in JSON ("\/" for "/", "\u0026" for "&").
func echoForms(s string) []string {
	forms := []string{s}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for _, esc := range []string{url.PathEscape(s), url.QueryEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20")} {
		add(esc)
		add(lowerHex(esc))
	}
	add(strings.ReplaceAll(s, "/", `\/`))
	if b, err := json.Marshal(s); err == nil {
		j := string(b[1 : len(b)-1])
		add(j)
		add(strings.ReplaceAll(j, "/", `\/`))
	}
	return forms
}

// lowerHex lower-cases the hex digits of the percent escapes in s.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// scrub removes every secret, in each of its forms, from s.
func (r receiverURL) scrub(s string) string {
	for _, p := range r.secret {
		s = strings.ReplaceAll(s, p, "…")
	}
	return s
}

// snippet returns the start of a response body for an error: the secrets
// are scrubbed from the whole of body first, then the text is made one
// printable line and cut to maxSnippet bytes, so that no cut ever falls
// inside a secret. When body is only the start of a longer response
// (truncated), an ending that is the start of a secret, cut by the read
// window, goes too.
func (r receiverURL) snippet(body []byte, truncated bool) string {
	s := string(body)
	if truncated {
		s = r.trimPartialSecret(s)
	}
	s = printable([]byte(r.scrub(s)))
	if len(s) <= maxSnippet {
		return s
	}
	end := maxSnippet
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end]
}

// trimPartialSecret removes from the end of s the longest start of a
// secret that s ends with.
func (r receiverURL) trimPartialSecret(s string) string {
	cut := 0
	for _, p := range r.secret {
		for k := min(len(p)-1, len(s)); k > cut; k-- {
			if strings.HasSuffix(s, p[:k]) {
				cut = k
				break
			}
		}
	}
	return s[:len(s)-cut]
}
