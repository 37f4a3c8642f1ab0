package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTeamsGolden(t *testing.T) {
	goldenPayloads(t, "teams", func(body []byte) ([]byte, error) { return renderTeams(body, nil) })
}

// TestTeamsLimits renders every event type with hostile titles, with and
// without a template that repeats them, and checks the payload's size and
// shape.
func TestTeamsLimits(t *testing.T) {
	tmpl, err := NewTemplate("teams", TemplateOptions{
		Title: "{{.Meeting}}{{.Meeting}}",
		Text:  `{{range $i, $_ := .Facts}}{{$.Meeting}}{{$.Error}}{{end}}{{.Meeting}}{{.Meeting}}{{.Meeting}}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, typ := range SampleEventTypes() {
		for _, title := range []string{oversizedTitle, escapeHeavyTitle, strings.Repeat("\x01", 5000)} {
			for _, tm := range []*Template{nil, tmpl} {
				payload, err := renderTeams(hostile(t, typ, title), tm)
				if err != nil {
					t.Fatal(err)
				}
				largest = max(largest, len(payload))
				if len(payload) > teamsMax {
					t.Errorf("%s: payload of %d bytes, over %d", typ, len(payload), teamsMax)
				}
				var msg teamsMessage
				if err := json.Unmarshal(payload, &msg); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
				body := msg.Attachments[0].Content.Body
				if body[0].Text == "" || !strings.HasPrefix(body[len(body)-1].Text, "event evt_sample_") {
					t.Errorf("%s: lost its title or footer: %+v", typ, body)
				}
			}
		}
	}
	// The template's text is cut to what the rest leaves, to the byte.
	if largest < teamsMax-6 {
		t.Errorf("largest payload %d bytes: the texts were cut shorter than the limit needs", largest)
	}
}

// TestTeamsEnvelope pins the shape Workflows' "Send webhook alerts to a
// channel" template reads: a message with one Adaptive Card attachment.
func TestTeamsEnvelope(t *testing.T) {
	payload, err := renderTeams(sample(t, "watch.failing"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Schema  string `json:"$schema"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "message" || len(got.Attachments) != 1 {
		t.Fatalf("envelope %+v", got)
	}
	a := got.Attachments[0]
	want := []string{"application/vnd.microsoft.card.adaptive", "AdaptiveCard", "1.4", "http://adaptivecards.io/schemas/adaptive-card.json"}
	if diff := cmp.Diff(want, []string{a.ContentType, a.Content.Type, a.Content.Version, a.Content.Schema}); diff != "" || a.ContentURL != nil {
		t.Errorf("attachment (-want +got):\n%s", diff)
	}
}

func TestTeamsAnswers(t *testing.T) {
	const secret = "sig=s3cr3tSig"
	workflowErr := func(code, msg string) string {
		return `{"error":{"code":"` + code + `","message":"` + msg + `"}}`
	}
	cases := []answerCase{
		{name: "202 accepted", respond: reply(202, ""), want: Result{StatusCode: 202}},
		{name: "200", respond: reply(200, ""), want: Result{StatusCode: 200}},
		{name: "299", respond: reply(299, ""), want: Result{StatusCode: 299}},
		{name: "300", respond: reply(300, ""), want: Result{StatusCode: 300},
			wantErr: "post http://HOST: status 300 Multiple Choices"},
		{name: "302 to elsewhere", respond: reply(302, "", "Location", "http://127.0.0.1:1/x"), want: Result{StatusCode: 302},
			wantErr: "post http://HOST: status 302 Found"},
		{name: "400 bad content", respond: reply(400, workflowErr("InvalidRequestContent", "The input body for trigger 'manual' must be of type JSON")),
			want:    Result{StatusCode: 400},
			wantErr: `post http://HOST: status 400 Bad Request: {"error":{"code":"InvalidRequestContent","message":"The input body for trigger 'manual' must be of type JSON"}}`},
		{name: "401 signature", respond: reply(401, workflowErr("DirectApiAuthorizationRequired", "The request needs a valid "+secret)),
			want:    Result{StatusCode: 401, Broken: true},
			wantErr: `post http://HOST: status 401 Unauthorized: {"error":{"code":"DirectApiAuthorizationRequired","message":"The request needs a valid …"}}`},
		{name: "404 flow gone", respond: reply(404, workflowErr("WorkflowNotFound", "The workflow could not be found.")),
			want:    Result{StatusCode: 404, Broken: true},
			wantErr: `post http://HOST: status 404 Not Found: {"error":{"code":"WorkflowNotFound","message":"The workflow could not be found."}}`},
		{name: "408", respond: reply(408, ""), want: Result{StatusCode: 408, Retry: true},
			wantErr: "post http://HOST: status 408 Request Timeout"},
		{name: "413", respond: reply(413, ""), want: Result{StatusCode: 413},
			wantErr: "post http://HOST: status 413 Request Entity Too Large"},
		{name: "429 throttled", respond: reply(429, workflowErr("WorkflowRequestsThrottled", "Rate limit is exceeded."), "Retry-After", "17"),
			want:    Result{StatusCode: 429, Retry: true, RetryAfter: 17 * time.Second},
			wantErr: `post http://HOST: status 429 Too Many Requests: {"error":{"code":"WorkflowRequestsThrottled","message":"Rate limit is exceeded."}}`},
		{name: "499", respond: reply(499, ""), want: Result{StatusCode: 499},
			wantErr: "post http://HOST: status 499"},
		{name: "500", respond: reply(500, ""), want: Result{StatusCode: 500, Retry: true},
			wantErr: "post http://HOST: status 500 Internal Server Error"},
		{name: "502 no response", respond: reply(502, workflowErr("NoResponse", "The server did not receive a response from an upstream server.")),
			want:    Result{StatusCode: 502, Retry: true},
			wantErr: `post http://HOST: status 502 Bad Gateway: {"error":{"code":"NoResponse","message":"The server did not receive a response from an upstream server."}}`},
	}
	build := func(t *testing.T, url string) breakable {
		n, err := NewTeams(TeamsOptions{Name: "teams-video", URL: url + "/workflows/abc/triggers/manual/paths/invoke?" + secret})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	body := sample(t, "session.started")
	checkAnswers(t, cases, secret, body, build)
}

func TestTeamsSendsCard(t *testing.T) {
	rc := newReceiver(t, reply(202, ""))
	n, err := NewTeams(TeamsOptions{Name: "teams-video", URL: rc.srv.URL + "/invoke?sig=x", UserAgent: "rtkwatchd/1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	body := sample(t, "session.ended")
	if res := n.Notify(t.Context(), Message{EventID: "evt_1", Body: body, Attempt: 1}); res.Err != nil {
		t.Fatal(res.Err)
	}
	want, err := renderTeams(body, nil)
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
	for name, want := range map[string]string{"Content-Type": "application/json; charset=utf-8", "User-Agent": "rtkwatchd/1.2.3"} {
		if got := reqs[0].Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestNewTeamsErrorsHideURL(t *testing.T) {
	for _, raw := range []string{"", "prod.westus.logic.azure.com/workflows/s3cr3t", "ftp://h/s3cr3t", "https:///s3cr3t"} {
		_, err := NewTeams(TeamsOptions{Name: "teams-video", URL: raw})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "teams teams-video: url ") {
			t.Errorf("NewTeams(%q) error %v", raw, err)
		}
	}
}
