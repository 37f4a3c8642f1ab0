package notify

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Secrets of the scrub tests: each character differs from the next, so
// that any start of one in an error is found.
const (
	scrubKey       = "K3Y-9f8e7d6c5b4a"
	scrubSlackPath = "/services/T0/B0/SLACKPATHSECRET"
	scrubHookPath  = "/hook/BADPATHSECRET"
)

// leaksStart fails the test when msg holds the first 4 bytes or more of
// secret.
func leaksStart(t *testing.T, msg, secret string) {
	t.Helper()
	if strings.Contains(msg, secret[:4]) {
		t.Errorf("error %q holds the start of %q", msg, secret)
	}
}

// TestScrubbedBeforeCut: a secret that a receiver echoes across the
// snippet's 200th byte goes, whole, before the snippet is cut; the cut
// never leaves part of the secret nor splits the "…" that replaces it.
func TestScrubbedBeforeCut(t *testing.T) {
	webhookBody := strings.Repeat("x", 190) + " key=" + scrubKey
	slackBody := strings.Repeat("x", 190) + " path=" + scrubSlackPath
	tests := []struct {
		name, body, secret, want string
		slack                    bool
	}{
		{name: "webhook header across byte 200", body: webhookBody, secret: scrubKey,
			want: "status 400 Bad Request: " + strings.Repeat("x", 190) + " key=…"},
		{name: "slack path across byte 200", body: slackBody, secret: scrubSlackPath, slack: true,
			want: "status 400 Bad Request: " + strings.Repeat("x", 190) + " path=…"},
		{name: "secret from byte 199: the … is not split", body: strings.Repeat("x", 199) + scrubKey + "tail",
			secret: scrubKey, want: "status 400 Bad Request: " + strings.Repeat("x", 199)},
		{name: "secret from byte 198: the … fits", body: strings.Repeat("x", 197) + scrubKey + "tail",
			secret: scrubKey, want: "status 400 Bad Request: " + strings.Repeat("x", 197) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, tt.body)
			})
			n := scrubNotifier(t, rc, tt.slack)
			got := n.Notify(t.Context(), scrubMessage(t)).Err.Error()
			leaksStart(t, got, tt.secret)
			if _, msg, _ := strings.Cut(got, ": "); msg != tt.want {
				t.Errorf("error = %q\nwant  …: %q", got, tt.want)
			}
		})
	}
}

// TestScrubbedInEveryEncoding: a receiver that echoes the URL's path or a
// header credential re-encoded (percent-encoded, JSON-escaped, the token of
// "Bearer <token>" alone) shows none of it.
func TestScrubbedInEveryEncoding(t *testing.T) {
	tests := []struct {
		name, echo, secret string
		slack              bool
	}{
		{name: "percent-encoded path", echo: "%2Fservices%2FT0%2FB0%2FSLACKPATHSECRET", secret: "SLACKPATHSECRET", slack: true},
		{name: "percent-encoded path, lower-case hex", echo: "%2fservices%2fT0%2fB0%2fSLACKPATHSECRET", secret: "SLACKPATHSECRET", slack: true},
		{name: "one path segment", echo: "SLACKPATHSECRET", secret: "SLACKPATHSECRET", slack: true},
		{name: "JSON-escaped path", echo: `{"path":"\/hook\/BADPATHSECRET"}`, secret: "BADPATHSECRET"},
		{name: "percent-encoded header", echo: "Bearer%20b3arer%2Ft0ken%2Bxyz", secret: "b3arer/t0ken+xyz"},
		{name: "query-encoded header", echo: "auth=Bearer+b3arer%2Ft0ken%2Bxyz", secret: "b3arer/t0ken+xyz"},
		{name: "JSON-escaped token", echo: `{"token":"b3arer\/t0ken+xyz"}`, secret: "b3arer/t0ken+xyz"},
		{name: "bearer token alone", echo: `token "b3arer/t0ken+xyz" expired`, secret: "b3arer/t0ken+xyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, "bad: %s", tt.echo)
			})
			got := scrubNotifier(t, rc, tt.slack).Notify(t.Context(), scrubMessage(t)).Err.Error()
			leaksStart(t, got, tt.secret)
			if !strings.Contains(got, "bad: ") {
				t.Errorf("error %q lost the receiver's words", got)
			}
		})
	}
}

// TestShortHeaderValuesStay: a header value shorter than minCredentialLen
// is not a credential, and the words it matches stay in errors; one of
// minCredentialLen bytes is scrubbed.
func TestShortHeaderValuesStay(t *testing.T) {
	seven, eight := "abcdefg", "abcdefgh"
	if len(seven) != minCredentialLen-1 || len(eight) != minCredentialLen {
		t.Fatal("the test's values no longer sit at the edge of minCredentialLen")
	}
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "team %s, format json, a=%s b=%s", r.Header.Get("X-Team"), r.Header.Get("X-A"), r.Header.Get("X-B"))
	})
	w, err := NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL, Secrets: []string{testSecret1},
		Headers: map[string]string{"X-Team": "video", "X-Format": "json", "X-A": seven, "X-B": eight}})
	if err != nil {
		t.Fatal(err)
	}
	got := w.Notify(t.Context(), scrubMessage(t)).Err.Error()
	want := "status 400 Bad Request: team video, format json, a=abcdefg b=…"
	if _, msg, _ := strings.Cut(got, ": "); msg != want {
		t.Errorf("error = %q\nwant  …: %q", got, want)
	}
}

// TestSnippetDropsSecretCutByTheWindow: when the body read stops inside a
// secret, the part of it that was read goes too, even where scrubbing
// the rest brings it within the snippet.
func TestSnippetDropsSecretCutByTheWindow(t *testing.T) {
	// 58 echoes of a 70-byte path fill 4,060 bytes of the 4,096 read;
	// scrubbed, they are 58 "…" (174 bytes), and 26 bytes of the 59th
	// would follow within the snippet's 200.
	path := "/services/T0/B0/" + strings.Repeat("0123456789", 5) + "ABCD"
	u, err := parseReceiverURL("https://hooks.example.com" + path)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat(path, maxAnswer/len(path)+1)[:maxAnswer]
	got := u.snippet([]byte(body), true)
	if diff := cmp.Diff(strings.Repeat("…", 58), got); diff != "" {
		t.Errorf("snippet (-want +got):\n%s", diff)
	}
	// A body read whole ends where the receiver ended it.
	if got, want := u.snippet([]byte("ends /serv"), false), "ends /serv"; got != want {
		t.Errorf("whole body: snippet = %q, want %q", got, want)
	}
}

// scrubNotifier returns a Slack notifier whose URL path is scrubSlackPath,
// or a webhook at scrubHookPath with the header X-Api-Key: scrubKey and
// Authorization: Bearer b3arer/t0ken+xyz.
func scrubNotifier(t *testing.T, rc *receiver, slack bool) Notifier {
	t.Helper()
	var n Notifier
	var err error
	if slack {
		n, err = NewSlack(SlackOptions{Name: "slack-video", URL: rc.srv.URL + scrubSlackPath, Limiter: rate.NewLimiter(rate.Inf, 1)})
	} else {
		n, err = NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL + scrubHookPath, Secrets: []string{testSecret1},
			Headers: map[string]string{"X-Api-Key": scrubKey, "Authorization": "Bearer b3arer/t0ken+xyz"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// scrubMessage is an event that every notifier can render.
func scrubMessage(t *testing.T) Message {
	t.Helper()
	return Message{EventID: "evt_1", EventType: diff.TypeSessionStarted, Attempt: 1,
		Body: eventBody(t, testEvents()[diff.TypeSessionStarted])}
}
