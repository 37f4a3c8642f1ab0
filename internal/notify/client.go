package notify

import "net/http"

// NewHTTPClient returns the client a notifier uses when its options give
// none: it does not follow redirects, and has a connection pool of its own
// sized for the Worker's attempts in flight. A caller that passes it in
// owns it, and can close its idle connections when the notifier is
// replaced (a reload).
func NewHTTPClient() *http.Client { return defaultClient() }
