package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDiscordGolden(t *testing.T) {
	goldenPayloads(t, "discord", func(body []byte) ([]byte, error) { return renderDiscord(body, nil, "") })
}

// TestDiscordLimits renders every event type with hostile titles, with and
// without a template, and checks every limit of an embed.
func TestDiscordLimits(t *testing.T) {
	tmpl, err := NewTemplate("discord", TemplateOptions{
		Title: "{{.Meeting}}",
		Text:  "{{.Meeting}}{{.Meeting}}{{.Error}}",
	})
	if err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, typ := range SampleEventTypes() {
		for _, title := range []string{oversizedTitle, escapeHeavyTitle} {
			for _, tm := range []*Template{nil, tmpl} {
				payload, err := renderDiscord(hostile(t, typ, title), tm, strings.Repeat("rtkwatchd ", 20))
				if err != nil {
					t.Fatal(err)
				}
				var msg discordMessage
				if err := json.Unmarshal(payload, &msg); err != nil {
					t.Fatal(err)
				}
				if len(msg.Embeds) != 1 || msg.AllowedMentions.Parse == nil || len(msg.AllowedMentions.Parse) != 0 {
					t.Fatalf("%s: %d embeds, allowed mentions %+v", typ, len(msg.Embeds), msg.AllowedMentions)
				}
				e := msg.Embeds[0]
				over := func(what, s string, max int) {
					if n := countRunes(s); n > max {
						t.Errorf("%s: %s has %d characters, over %d", typ, what, n, max)
					}
				}
				over("username", msg.Username, discordUsernameMax)
				over("title", e.Title, discordTitleMax)
				over("description", e.Description, discordDescriptionMax)
				over("footer", e.Footer.Text, discordFooterMax)
				if len(e.Fields) > discordFieldsMax {
					t.Errorf("%s: %d fields", typ, len(e.Fields))
				}
				for _, f := range e.Fields {
					over("field name", f.Name, discordFieldNameMax)
					over("field value", f.Value, discordFieldValueMax)
				}
				size := embedSize(e)
				largest = max(largest, size)
				if size > discordEmbedTotalMax {
					t.Errorf("%s: embed of %d characters, over %d", typ, size, discordEmbedTotalMax)
				}
			}
		}
	}
	if largest != discordEmbedTotalMax {
		t.Errorf("largest embed %d characters, want the texts cut to exactly %d", largest, discordEmbedTotalMax)
	}
}

func TestDiscordAnswers(t *testing.T) {
	const secret = "T0k3nS3cr3t"
	rateLimited := func(retryAfter string) string {
		return `{"message": "You are being rate limited.", "retry_after": ` + retryAfter + `, "global": false}`
	}
	cases := []answerCase{
		{name: "204 no content", respond: reply(204, ""), want: Result{StatusCode: 204}},
		{name: "200 with wait", respond: reply(200, `{"id":"1"}`), want: Result{StatusCode: 200}},
		{name: "300", respond: reply(300, ""), want: Result{StatusCode: 300},
			wantErr: "post http://HOST: status 300 Multiple Choices"},
		{name: "399", respond: reply(399, ""), want: Result{StatusCode: 399},
			wantErr: "post http://HOST: status 399"},
		{name: "400 invalid form body", respond: reply(400, `{"code": 50035, "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}, "message": "Invalid Form Body"}`),
			want:    Result{StatusCode: 400},
			wantErr: `post http://HOST: status 400 Bad Request: {"code": 50035, "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}, "message": "Invalid Form Body"}`},
		{name: "401 invalid token", respond: reply(401, `{"message": "Invalid Webhook Token", "code": 50027}`),
			want:    Result{StatusCode: 401, Broken: true},
			wantErr: `post http://HOST: status 401 Unauthorized: {"message": "Invalid Webhook Token", "code": 50027}`},
		{name: "404 unknown webhook", respond: reply(404, `{"message": "Unknown Webhook", "code": 10015}`),
			want:    Result{StatusCode: 404, Broken: true},
			wantErr: `post http://HOST: status 404 Not Found: {"message": "Unknown Webhook", "code": 10015}`},
		{name: "408", respond: reply(408, ""), want: Result{StatusCode: 408, Retry: true},
			wantErr: "post http://HOST: status 408 Request Timeout"},
		{name: "429 body only", respond: reply(429, rateLimited("0.347")),
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 347 * time.Millisecond},
			wantErr: `post http://HOST: status 429 Too Many Requests: ` + rateLimited("0.347")},
		{name: "429 body rounds up to the millisecond", respond: reply(429, rateLimited("1.0001")),
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 1001 * time.Millisecond},
			wantErr: `post http://HOST: status 429 Too Many Requests: ` + rateLimited("1.0001")},
		{name: "429 header longer than body", respond: reply(429, rateLimited("0.5"), "Retry-After", "1"),
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: time.Second},
			wantErr: `post http://HOST: status 429 Too Many Requests: ` + rateLimited("0.5")},
		{name: "429 body longer than header", respond: reply(429, rateLimited("64.57"), "Retry-After", "64"),
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 64570 * time.Millisecond},
			wantErr: `post http://HOST: status 429 Too Many Requests: ` + rateLimited("64.57")},
		{name: "429 nonsense body", respond: reply(429, `{"retry_after": -3}`),
			want:    Result{StatusCode: 429, Retry: true},
			wantErr: `post http://HOST: status 429 Too Many Requests: {"retry_after": -3}`},
		{name: "499", respond: reply(499, ""), want: Result{StatusCode: 499},
			wantErr: "post http://HOST: status 499"},
		{name: "500", respond: reply(500, ""), want: Result{StatusCode: 500, Retry: true},
			wantErr: "post http://HOST: status 500 Internal Server Error"},
		{name: "503", respond: reply(503, "upstream connect error"), want: Result{StatusCode: 503, Retry: true},
			wantErr: "post http://HOST: status 503 Service Unavailable: upstream connect error"},
	}
	build := func(t *testing.T, url string) breakable {
		n, err := NewDiscord(DiscordOptions{Name: "discord-video", URL: url + "/api/webhooks/123/" + secret})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	body := sample(t, "session.started")
	checkAnswers(t, cases, secret, body, build)
}

func TestDiscordRetryAfter(t *testing.T) {
	tests := []struct {
		body string
		want time.Duration
	}{
		{`{"retry_after": 0.001}`, time.Millisecond},
		{`{"retry_after": 0.0011}`, 2 * time.Millisecond},
		{`{"retry_after": 2}`, 2 * time.Second},
		{`{"retry_after": 0}`, 0},
		{`{"retry_after": -1}`, 0},
		{`{"retry_after": 1e300}`, maxRetryAfter},
		{`{"retry_after": "2"}`, 0},
		{`{}`, 0},
		{`not json`, 0},
		{``, 0},
	}
	for _, tt := range tests {
		if got := discordRetryAfter([]byte(tt.body)); got != tt.want {
			t.Errorf("discordRetryAfter(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestDiscordSendsEmbed(t *testing.T) {
	rc := newReceiver(t, reply(204, ""))
	n, err := NewDiscord(DiscordOptions{Name: "discord-video", URL: rc.srv.URL + "/api/webhooks/1/x", Username: "rtkwatchd"})
	if err != nil {
		t.Fatal(err)
	}
	body := sample(t, "participants.threshold_crossed")
	if res := n.Notify(t.Context(), Message{EventID: "evt_1", Body: body, Attempt: 1}); res.Err != nil {
		t.Fatal(res.Err)
	}
	want, err := renderDiscord(body, nil, "rtkwatchd")
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if diff := cmp.Diff(string(want), string(reqs[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(want), `"username":"rtkwatchd"`) {
		t.Errorf("payload without the username: %s", want)
	}
}

func TestNewDiscordErrorsHideURL(t *testing.T) {
	for _, raw := range []string{"", "discord.com/api/webhooks/1/s3cr3t", "ftp://h/s3cr3t", "https:///s3cr3t"} {
		_, err := NewDiscord(DiscordOptions{Name: "discord-video", URL: raw})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "discord discord-video: url ") {
			t.Errorf("NewDiscord(%q) error %v", raw, err)
		}
	}
}
