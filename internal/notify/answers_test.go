package notify

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// answerCase is one answer of a service and the Result it must give.
type answerCase struct {
	name    string
	respond func(int, http.ResponseWriter, *http.Request)
	want    Result // Err is compared as wantErr
	wantErr string // with the receiver's host:port as HOST; "" for success
}

// breakable is a notifier that can turn broken.
type breakable interface {
	Notifier
	Broken() error
}

// reply answers with code, the headers given as name, value pairs, and body.
func reply(code int, body string, headers ...string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// checkAnswers sends body through a notifier built by build for each case's
// receiver, and checks the Result. A Broken result must make the next
// attempt fail at once, without a request; any other lets it through.
// Last, it sends to a receiver that is gone (checkUnreachable). secret is a
// part of the notifier's URL or configuration that no error may contain.
func checkAnswers(t *testing.T, cases []answerCase, secret string, body []byte, build func(t *testing.T, url string) breakable) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.respond)
			n := build(t, rc.srv.URL)
			host := strings.TrimPrefix(rc.srv.URL, "http://")
			got := n.Notify(t.Context(), Message{EventID: "evt_1", Body: body, Attempt: 1})
			gotErr := ""
			if got.Err != nil {
				gotErr = strings.ReplaceAll(got.Err.Error(), host, "HOST")
				if strings.Contains(gotErr, secret) {
					t.Errorf("error %q contains the secret", gotErr)
				}
			}
			got.Err = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			again := n.Notify(t.Context(), Message{EventID: "evt_2", Body: body, Attempt: 1})
			wantRequests := 2
			if tt.want.Broken {
				wantRequests = 1
				if again.Err == nil || again.Retry || !again.Broken || n.Broken() == nil {
					t.Errorf("attempt after breakage = %+v, Broken() = %v; want a broken, non-retryable error", again, n.Broken())
				} else if strings.Contains(again.Err.Error(), secret) {
					t.Errorf("broken error %q contains the secret", again.Err)
				}
			} else if n.Broken() != nil {
				t.Errorf("Broken() = %v after a %s", n.Broken(), tt.name)
			}
			if got := rc.count(); got != wantRequests {
				t.Errorf("receiver got %d requests, want %d", got, wantRequests)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) { checkUnreachable(t, secret, body, build) })
}

// checkUnreachable sends through a notifier whose receiver is gone: a
// network error, retried, without the URL's secret.
func checkUnreachable(t *testing.T, secret string, body []byte, build func(t *testing.T, url string) breakable) {
	t.Helper()
	rc := newReceiver(t, nil)
	url := rc.srv.URL
	rc.srv.Close()
	got := build(t, url).Notify(t.Context(), Message{EventID: "evt_1", Body: body, Attempt: 1})
	if got.Err == nil || !got.Retry || got.Broken || got.StatusCode != 0 {
		t.Errorf("Notify to a closed port = %+v, want a retryable error without status", got)
	}
	if got.Err != nil && strings.Contains(got.Err.Error(), secret) {
		t.Errorf("error %q contains the secret", got.Err)
	}
}
