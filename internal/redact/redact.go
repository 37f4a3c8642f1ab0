// Package redact shows URLs that may carry credentials in a form that is
// safe for logs, errors and command output.
package redact

import "net/url"

// URL returns the scheme and host (with its port) of raw, such as
// "https://hooks.slack.com": never its user information, path, query or
// fragment, any of which may hold a credential (a Slack webhook's path is
// its secret). It returns "" when raw is not an absolute URL with a host;
// it never returns any part of such a raw.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
