package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Test secrets: base64 of "rtkwatchd test secret number 1!!" and "…2!!".
const (
	testSecret1 = "whsec_cnRrd2F0Y2hkIHRlc3Qgc2VjcmV0IG51bWJlciAxISE="
	testSecret2 = "whsec_cnRrd2F0Y2hkIHRlc3Qgc2VjcmV0IG51bWJlciAyISE="
)

// signatureVector is one golden signing case in testdata/signatures.json.
type signatureVector struct {
	Name      string   `json:"name"`
	Secrets   []string `json:"secrets"`
	ID        string   `json:"id"`
	Timestamp int64    `json:"timestamp"`
	Body      string   `json:"body"`
	Signature string   `json:"signature"`
}

func TestWebhookSignatureVectors(t *testing.T) {
	path := filepath.Join("testdata", "signatures.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []signatureVector
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	for i, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			w, err := NewWebhook(WebhookOptions{Name: "ops", URL: "https://hooks.example.com/rtk", Secrets: v.Secrets})
			if err != nil {
				t.Fatal(err)
			}
			got := w.sign(v.ID, v.Timestamp, []byte(v.Body))
			if *update {
				vectors[i].Signature = got
				return
			}
			if diff := cmp.Diff(v.Signature, got); diff != "" {
				t.Errorf("signature (-want +got):\n%s", diff)
			}
			// Any one of the secrets verifies the header on its own.
			h := http.Header{}
			h.Set("webhook-id", v.ID)
			h.Set("webhook-timestamp", strconv.FormatInt(v.Timestamp, 10))
			h.Set("webhook-signature", got)
			for j, s := range v.Secrets {
				lib, err := standardwebhooks.NewWebhook(s)
				if err != nil {
					t.Fatal(err)
				}
				if err := lib.VerifyIgnoringTimestamp([]byte(v.Body), h); err != nil {
					t.Errorf("secret %d: official library rejects the signature: %v", j+1, err)
				}
			}
		})
	}
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(vectors); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWebhookRequest(t *testing.T) {
	rc := newReceiver(t, nil)
	at := time.Now().Truncate(time.Second)
	w, err := NewWebhook(WebhookOptions{
		Name:      "ops",
		URL:       rc.srv.URL + "/rtk?token=abc",
		Secrets:   []string{testSecret1, testSecret2},
		Headers:   map[string]string{"X-Team": "video"},
		UserAgent: "rtkwatchd/1.2.3",
		Now:       func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"session.started","data":{"id":"evt_1"}}` + "\n")
	res := w.Notify(t.Context(), Message{EventID: "evt_1", EventType: "session.started", Body: body, Attempt: 1})
	if res.Err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("Notify = %+v, want success", res)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if !bytes.Equal(got.Body, body) {
		t.Errorf("body = %q, want the event bytes as is: %q", got.Body, body)
	}
	wantHeaders := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "rtkwatchd/1.2.3",
		"Webhook-Id":        "evt_1",
		"Webhook-Timestamp": strconv.FormatInt(at.Unix(), 10),
		"X-Team":            "video",
	}
	gotHeaders := map[string]string{}
	for k := range wantHeaders {
		gotHeaders[k] = got.Header.Get(k)
	}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if n := len(strings.Fields(got.Header.Get("Webhook-Signature"))); n != 2 {
		t.Errorf("webhook-signature has %d signatures, want one per secret (2)", n)
	}
	for _, s := range []string{testSecret1, testSecret2} {
		lib, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.Verify(got.Body, got.Header); err != nil {
			t.Errorf("official library rejects the delivery: %v", err)
		}
	}
}

func TestWebhookTimestampPerAttempt(t *testing.T) {
	rc := newReceiver(t, nil)
	at := time.Unix(1795636800, 0)
	w, err := NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL, Secrets: []string{testSecret1},
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{}`)
	for range 2 {
		w.Notify(t.Context(), Message{EventID: "evt_1", Body: body})
		at = at.Add(90 * time.Second)
	}
	reqs := rc.requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.Header.Get("Webhook-Id")+" "+r.Header.Get("Webhook-Timestamp"))
		lib, _ := standardwebhooks.NewWebhook(testSecret1)
		if err := lib.VerifyIgnoringTimestamp(r.Body, r.Header); err != nil {
			t.Errorf("official library rejects attempt: %v", err)
		}
	}
	want := []string{"evt_1 1795636800", "evt_1 1795636890"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("id and timestamp per attempt (-want +got):\n%s", diff)
	}
}

func TestWebhookStatuses(t *testing.T) {
	now := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		code    int
		header  map[string]string
		body    string
		want    Result // Err compared by text below
		wantErr string
	}{
		{name: "200", code: 200, want: Result{StatusCode: 200}},
		{name: "204", code: 204, want: Result{StatusCode: 204}},
		{name: "400 dead", code: 400, body: "bad event\n", want: Result{StatusCode: 400},
			wantErr: "post http://HOST: status 400 Bad Request: bad event"},
		{name: "404 dead", code: 404, want: Result{StatusCode: 404},
			wantErr: "post http://HOST: status 404 Not Found"},
		{name: "410 dead", code: 410, want: Result{StatusCode: 410},
			wantErr: "post http://HOST: status 410 Gone"},
		{name: "301 not followed", code: 301, header: map[string]string{"Location": "http://elsewhere.example/"},
			want: Result{StatusCode: 301}, wantErr: "post http://HOST: status 301 Moved Permanently"},
		{name: "408 retry", code: 408, want: Result{StatusCode: 408, Retry: true},
			wantErr: "post http://HOST: status 408 Request Timeout"},
		{name: "429 retry-after seconds", code: 429, header: map[string]string{"Retry-After": "120"},
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 120 * time.Second},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "429 retry-after date", code: 429,
			header:  map[string]string{"Retry-After": now.Add(45 * time.Second).Format(http.TimeFormat)},
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 45 * time.Second},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "429 retry-after fraction", code: 429, header: map[string]string{"Retry-After": "1.5"},
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 1500 * time.Millisecond},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "429 retry-after garbage", code: 429, header: map[string]string{"Retry-After": "soon"},
			want: Result{StatusCode: 429, Retry: true}, wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "500 retry", code: 500, body: "oops\x00\x01 \n\n  detail", want: Result{StatusCode: 500, Retry: true},
			wantErr: "post http://HOST: status 500 Internal Server Error: oops detail"},
		{name: "503 retry-after", code: 503, header: map[string]string{"Retry-After": "7"},
			want:    Result{StatusCode: 503, Retry: true, RetryAfter: 7 * time.Second},
			wantErr: "post http://HOST: status 503 Service Unavailable"},
		{name: "long body cut", code: 502, body: strings.Repeat("x", 100<<10), want: Result{StatusCode: 502, Retry: true},
			wantErr: "post http://HOST: status 502 Bad Gateway: " + strings.Repeat("x", maxSnippet)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.code)
				_, _ = io.WriteString(w, tt.body)
			})
			w, err := NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL + "/secret-path?key=k",
				Secrets: []string{testSecret1}, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			got := w.Notify(t.Context(), Message{EventID: "evt_1", Body: []byte(`{}`)})
			gotErr := ""
			if got.Err != nil {
				gotErr = strings.ReplaceAll(got.Err.Error(), strings.TrimPrefix(rc.srv.URL, "http://"), "HOST")
			}
			got.Err = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWebhookTransportErrors: a receiver that refuses the connection is a
// retryable error without status, free of the URL's secrets. It runs over
// loopback: the refusal is the kernel's answer to a closed socket, which
// in-memory connections have no counterpart of.
func TestWebhookTransportErrors(t *testing.T) {
	closed := newReceiver(t, nil)
	closed.srv.Close()
	w := newTestWebhook(t, "ops", closed.srv.URL+"/hook/s3cr3t?sig=p4ss", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	got := w.Notify(ctx, Message{EventID: "evt_1", Body: []byte(`{}`)})
	checkTransportError(t, got, "post "+closed.srv.URL+": ")
}

// checkTransportError checks that got is a retryable error without status
// whose text starts with wantErr and quotes none of the secrets of the URL
// the transport tests post to, …/hook/s3cr3t?sig=p4ss.
func checkTransportError(t *testing.T, got Result, wantErr string) {
	t.Helper()
	if got.Err == nil || !got.Retry || got.StatusCode != 0 {
		t.Fatalf("Notify = %+v, want a retryable error without status", got)
	}
	msg := got.Err.Error()
	if !strings.HasPrefix(msg, wantErr) {
		t.Errorf("error %q, want prefix %q", msg, wantErr)
	}
	for _, secret := range []string{"s3cr3t", "p4ss", "/hook"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q leaks %q", msg, secret)
		}
	}
}

func TestWebhookRedactsEchoedURL(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "no route for %s", r.URL.RequestURI())
	})
	w, err := NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL + "/hook/s3cr3t?sig=p4ss", Secrets: []string{testSecret1}})
	if err != nil {
		t.Fatal(err)
	}
	got := w.Notify(t.Context(), Message{EventID: "evt_1", Body: []byte(`{}`)})
	want := "post " + rc.srv.URL + ": status 404 Not Found: no route for …"
	if diff := cmp.Diff(want, got.Err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestNewWebhookErrors(t *testing.T) {
	const secretish = "c2VjcmV0LXZhbHVl" // never to be quoted in an error
	tests := []struct {
		name    string
		opts    WebhookOptions
		wantErr string
	}{
		{name: "no url", opts: WebhookOptions{Name: "ops", Secrets: []string{testSecret1}},
			wantErr: "webhook ops: url is empty"},
		{name: "relative url", opts: WebhookOptions{Name: "ops", URL: "/hook/" + secretish, Secrets: []string{testSecret1}},
			wantErr: "webhook ops: url scheme must be http or https"},
		{name: "bad scheme", opts: WebhookOptions{Name: "ops", URL: "ftp://h/" + secretish, Secrets: []string{testSecret1}},
			wantErr: "webhook ops: url scheme must be http or https"},
		{name: "no host", opts: WebhookOptions{Name: "ops", URL: "https:///" + secretish, Secrets: []string{testSecret1}},
			wantErr: "webhook ops: url has no host"},
		{name: "unparsable url", opts: WebhookOptions{Name: "ops", URL: "https://h/%zz" + secretish, Secrets: []string{testSecret1}},
			wantErr: "webhook ops: url does not parse"},
		{name: "no secret", opts: WebhookOptions{Name: "ops", URL: "https://h/"},
			wantErr: "webhook ops: no signing secret"},
		{name: "secret without prefix", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{testSecret1, secretish}},
			wantErr: `webhook ops: secret 2: must start with "whsec_" followed by base64`},
		{name: "secret not base64", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{"whsec_" + secretish + "!"}},
			wantErr: `webhook ops: secret 1: must be "whsec_" followed by valid standard base64 (with = padding)`},
		{name: "empty secret", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{"whsec_"}},
			wantErr: "webhook ops: secret 1: must decode to at least 16 bytes, not 0"},
		{name: "short secret", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{"whsec_" + secretish}},
			wantErr: "webhook ops: secret 1: must decode to at least 16 bytes, not 12"},
		{name: "reserved header", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{testSecret1},
			Headers: map[string]string{"webhook-signature": secretish}},
			wantErr: "webhook ops: header Webhook-Signature: set by rtkwatchd, cannot be configured"},
		{name: "bad header name", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{testSecret1},
			Headers: map[string]string{"X Team": secretish}},
			wantErr: `webhook ops: header "X Team": not a valid header name`},
		{name: "header value with newline", opts: WebhookOptions{Name: "ops", URL: "https://h/", Secrets: []string{testSecret1},
			Headers: map[string]string{"Authorization": "Bearer " + secretish + "\r\nX-Evil: 1"}},
			wantErr: "webhook ops: header Authorization: value contains a line break or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWebhook(tt.opts)
			if err == nil {
				t.Fatalf("NewWebhook succeeded, want %q", tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secretish) {
				t.Errorf("error %q quotes a secret", err)
			}
		})
	}
}

// TestWebhookRedactsEchoedHeaders sends credentials in extra headers to a
// receiver that echoes every header value in its error body: neither the
// error, nor the dead letter it becomes, nor the worker's log holds them.
func TestWebhookRedactsEchoedHeaders(t *testing.T) {
	const token, key = "Bearer t0ken-in-a-header", "k3y-in-a-header"
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "rejected %q and %q", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	})
	host := strings.TrimPrefix(rc.srv.URL, "http://")
	synctest.Test(t, func(t *testing.T) {
		w, err := NewWebhook(WebhookOptions{Name: "ops", URL: rc.srv.URL, Secrets: []string{testSecret1},
			Headers: map[string]string{"Authorization": token, "X-Api-Key": key}, Client: bubbleClient()})
		if err != nil {
			t.Fatal(err)
		}
		got := w.Notify(t.Context(), Message{EventID: "evt_0", Body: []byte(`{}`)})
		want := `post http://HOST: status 401 Unauthorized: rejected "…" and "…"`
		if diff := cmp.Diff(want, strings.ReplaceAll(got.Err.Error(), host, "HOST")); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}

		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1")
		var logs syncBuffer
		startWorker(t, NewWorker(st, []Notifier{w}, WorkerOptions{Logger: zerolog.New(&logs)}))
		time.Sleep(time.Hour)
		dead := deadLetters(t, st)
		if len(dead) != 1 {
			t.Fatalf("%d dead letters, want 1", len(dead))
		}
		if got := strings.ReplaceAll(dead[0].LastError, host, "HOST"); got != want {
			t.Errorf("dead letter's last error = %q, want %q", got, want)
		}
		for _, secret := range []string{"t0ken-in-a-header", key} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("worker log leaks %q:\n%s", secret, logs.String())
			}
		}
	})
}
