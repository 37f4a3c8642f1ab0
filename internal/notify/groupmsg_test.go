package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// testGroup makes a group of bodies, as the Worker reads one back from the
// outbox.
func testGroup(t testing.TB, bodies ...[]byte) GroupMessage {
	t.Helper()
	g, err := decodeGroup("grp_evt_first", encodeGroup(bodies), 1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sampleGroup is a group of three sample events of two watches.
func sampleGroup(t testing.TB) GroupMessage {
	t.Helper()
	var failing map[string]any
	if err := json.Unmarshal(sample(t, "watch.failing"), &failing); err != nil {
		t.Fatal(err)
	}
	failing["data"].(map[string]any)["watch"] = "stand-up"
	return testGroup(t, sample(t, "session.started"), sample(t, "participants.threshold_crossed"), mustJSON(t, failing))
}

// hostileGroup is a group of n events with oversized or escape-heavy
// titles and errors, of every sample type in turn.
func hostileGroup(t testing.TB, n int) GroupMessage {
	t.Helper()
	types := SampleEventTypes()
	var bodies [][]byte
	for i := range n {
		title := oversizedTitle
		if i%2 == 1 {
			title = escapeHeavyTitle
		}
		bodies = append(bodies, hostile(t, types[i%len(types)], title))
	}
	return testGroup(t, bodies...)
}

func TestGroupCodec(t *testing.T) {
	g := sampleGroup(t)
	if len(g.Events) != 3 || g.Events[1].EventID != "evt_sample_participants_threshold_crossed" ||
		g.Events[2].EventType != "watch.failing" || g.Events[0].Attempt != 1 {
		t.Errorf("decoded group %+v", g)
	}
	if string(g.Events[0].Body) != string(sample(t, "session.started")) {
		t.Errorf("a member's body changed on its way through the group:\n%s", g.Events[0].Body)
	}
	for _, bad := range []string{``, `{}`, `[]`, `[1]`, `[{"type":`} {
		if _, err := decodeGroup("grp_x", []byte(bad), 1); err == nil {
			t.Errorf("decodeGroup(%q) succeeded, want an error", bad)
		}
	}
}

func TestGroupSummary(t *testing.T) {
	item := func(watch string) groupItem { return groupItem{ev: event{d: diff.EventData{Watch: watch}}} }
	tests := []struct {
		items []groupItem
		want  string
	}{
		{[]groupItem{item("a"), item("a")}, "2 events in watch a"},
		{[]groupItem{item("a"), item("b"), item("a")}, "3 events in watches a and b"},
		{[]groupItem{item("a"), item("b"), item("c")}, "3 events in 3 watches"},
		{[]groupItem{item(""), item("")}, "2 events"},
	}
	for _, tt := range tests {
		if got := groupSummary(tt.items); got != tt.want {
			t.Errorf("groupSummary = %q, want %q", got, tt.want)
		}
	}
	for n, want := range map[int]string{0: "", 1: "1 more event is not shown here", 52: "52 more events are not shown here"} {
		if got := leftOut(n); got != want {
			t.Errorf("leftOut(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestGroupGolden renders the sample group for every chat-like type.
func TestGroupGolden(t *testing.T) {
	tmpl, err := NewTemplate("chat", TemplateOptions{Title: "{{.Title}} ({{.Watch}})"})
	if err != nil {
		t.Fatal(err)
	}
	g := sampleGroup(t)
	for _, tt := range []struct {
		name   string
		render func() ([]byte, error)
	}{
		{"slack", func() ([]byte, error) { return renderSlackGroup(g, nil) }},
		{"slack-template", func() ([]byte, error) { return renderSlackGroup(g, tmpl) }},
		{"teams", func() ([]byte, error) { return renderTeamsGroup(g, nil) }},
		{"discord", func() ([]byte, error) { return renderDiscordGroup(g, nil, "") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "group/"+tt.name+".json", indentJSON(t, payload))
		})
	}
	c, err := renderEmailGroup(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "group/email.txt", []byte("Subject: "+c.subject+"\n\n--- text/plain\n"+c.text+"\n--- text/html\n"+c.html))
}

// TestGroupLimits renders groups of 1 to 100 hostile events for every
// type: each message stays inside its service's limits and says exactly
// how many events it leaves out.
func TestGroupLimits(t *testing.T) {
	for _, n := range []int{1, 2, 10, 11, 48, 49, 100} {
		g := hostileGroup(t, n)
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			checkSlackGroup(t, g)
			checkDiscordGroup(t, g)
			checkTeamsGroup(t, g)
			c, err := renderEmailGroup(g, nil)
			if err != nil {
				t.Fatal(err)
			}
			if countRunes(c.subject) > emailSubjectMax || strings.Count(c.text, "\n-- \n") != n {
				t.Errorf("email: subject %q, %d events in the text, want %d", c.subject, strings.Count(c.text, "\n-- \n"), n)
			}
		})
	}
}

func checkSlackGroup(t *testing.T, g GroupMessage) {
	t.Helper()
	payload, err := renderSlackGroup(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msg slackMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatal(err)
	}
	checkSlackLimits(t, "slack group", msg)
	shown := len(msg.Blocks) - 2
	if want := min(len(g.Events), 48); shown != want {
		t.Errorf("slack: %d events shown of %d, want %d", shown, len(g.Events), want)
	}
	ctx := msg.Blocks[len(msg.Blocks)-1].Elements[0].Text
	if got, want := strings.Contains(ctx, "not shown"), shown < len(g.Events); got != want || want && !strings.Contains(ctx, leftOut(len(g.Events)-shown)) {
		t.Errorf("slack: closing context %q for %d of %d events", ctx, shown, len(g.Events))
	}
	for _, b := range msg.Blocks[1 : len(msg.Blocks)-1] {
		if n := countRunes(b.Text.Text); n > slackGroupItemMax {
			t.Errorf("slack: an event's section has %d characters, over %d", n, slackGroupItemMax)
		}
		if strings.Contains(b.Text.Text, "<!channel>") {
			t.Errorf("slack: unescaped mention in %q", b.Text.Text)
		}
	}
}

func checkDiscordGroup(t *testing.T, g GroupMessage) {
	t.Helper()
	payload, err := renderDiscordGroup(g, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var msg discordMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range msg.Embeds {
		total += embedSize(e)
	}
	if len(msg.Embeds) != min(len(g.Events), discordEmbedsMax) || total > discordEmbedTotalMax || countRunes(msg.Content) > discordContentMax {
		t.Errorf("discord: %d embeds of %d characters, content of %d", len(msg.Embeds), total, countRunes(msg.Content))
	}
	if l := leftOut(len(g.Events) - len(msg.Embeds)); l != "" && !strings.Contains(msg.Content, l) || l == "" && strings.Contains(msg.Content, "not shown") {
		t.Errorf("discord: content %q for %d embeds of %d events", msg.Content, len(msg.Embeds), len(g.Events))
	}
}

func checkTeamsGroup(t *testing.T, g GroupMessage) {
	t.Helper()
	payload, err := renderTeamsGroup(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(payload) > teamsMax {
		t.Errorf("teams: %d bytes, over %d", len(payload), teamsMax)
	}
	var msg teamsMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatal(err)
	}
	body := msg.Attachments[0].Content.Body
	shown := 0
	for _, e := range body {
		if e.Separator && e.Weight == "Bolder" {
			shown++
		}
	}
	closing := body[len(body)-1].Text
	if l := leftOut(len(g.Events) - shown); shown == 0 || l != "" && !strings.Contains(closing, l) || l == "" && strings.Contains(closing, "not shown") {
		t.Errorf("teams: %d of %d events shown, closing %q", shown, len(g.Events), closing)
	}
	if len(g.Events) > 30 && shown == len(g.Events) {
		t.Errorf("teams: all %d hostile events fit in %d bytes; the test no longer tests the limit", shown, len(payload))
	}
}
