// Package stdwebhooks holds what the Standard Webhooks specification fixes
// for every sender: the form of a signing secret ("whsec_" and base64) and
// the headers a sender sets on each request itself. Config validation and
// the webhook notifier both ask it, so that they cannot disagree.
package stdwebhooks

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// MinKeyBytes is the shortest signing key accepted, once decoded.
const MinKeyBytes = 16

// Headers of the specification, set on every request.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// reserved are the headers a sender sets on every request itself, in
// canonical form: the specification's own and those of the JSON POST.
var reserved = []string{
	"Content-Type", "Content-Length", "Host", "User-Agent",
	"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature",
}

// DecodeSecret returns the HMAC key of a "whsec_<base64>" signing secret:
// standard base64 with padding, at least MinKeyBytes long. Its errors never
// quote the secret.
func DecodeSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, errors.New(`must start with "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New(`must be "whsec_" followed by valid standard base64 (with = padding)`)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("must decode to at least %d bytes, not %d", MinKeyBytes, len(key))
	}
	return key, nil
}

// Reserved reports whether a sender sets the header name itself, so that
// configuration may not set or override it. Case does not matter.
func Reserved(name string) bool {
	return slices.Contains(reserved, http.CanonicalHeaderKey(name))
}
