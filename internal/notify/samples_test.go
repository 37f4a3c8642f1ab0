package notify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Titles no service would take as they are: about 3,000 characters of a
// meeting name, and one made of every character some service escapes.
var (
	oversizedTitle   = strings.Repeat("Quarterly all-hands for the whole company, ", 70)
	escapeHeavyTitle = strings.Repeat(`<!channel> & "quotes" \ *bold* _it_ [x](http://e.test) @everyone `+"\x01\u2028🎥 ", 60)
)

// sample returns SampleEvent(typ), failing the test for an unknown type.
func sample(t testing.TB, typ string) []byte {
	t.Helper()
	b, ok := SampleEvent(typ)
	if !ok {
		t.Fatalf("no sample event of type %q", typ)
	}
	return b
}

// hostile returns the sample event of type typ with every free-text field
// set to title: the meeting's name, the error, and the ids that come from
// the API.
func hostile(t testing.TB, typ, title string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(sample(t, typ), &ev); err != nil {
		t.Fatal(err)
	}
	data := ev["data"].(map[string]any)
	data["meeting_display_name"] = title
	data["error"] = title
	for _, k := range []string{"recording_id", "livestream_id", "notifier", "status"} {
		if _, ok := data[k]; ok {
			data[k] = title
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenCases are the events every renderer's golden files cover: the
// sample of each type, a participants threshold crossed down, an unknown
// type, and the oversized and escape-heavy titles.
func goldenCases(t testing.TB) map[string][]byte {
	t.Helper()
	cases := map[string][]byte{
		"oversized-title":    hostile(t, "participants.threshold_crossed", oversizedTitle),
		"escape-heavy-title": hostile(t, "watch.failing", escapeHeavyTitle),
	}
	for _, typ := range SampleEventTypes() {
		cases[typ] = sample(t, typ)
	}
	var down map[string]any
	if err := json.Unmarshal(sample(t, "participants.threshold_crossed"), &down); err != nil {
		t.Fatal(err)
	}
	data := down["data"].(map[string]any)
	data["direction"], data["live_participants"], data["previous_live_participants"] = "down", 93, 97
	cases["participants.threshold_crossed.down"] = mustJSON(t, down)
	var unknown map[string]any
	if err := json.Unmarshal(sample(t, "session.started"), &unknown); err != nil {
		t.Fatal(err)
	}
	unknown["type"] = "session.renamed"
	cases["unknown-type"] = mustJSON(t, unknown)
	return cases
}

// goldenPayloads checks the JSON payload render makes of every golden case
// against testdata/dir/NAME.json.
func goldenPayloads(t *testing.T, dir string, render func(body []byte) ([]byte, error)) {
	t.Helper()
	for name, body := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			payload, err := render(body)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, dir+"/"+name+".json", indentJSON(t, payload))
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// indentJSON pretty-prints a payload for a golden file, keeping its order
// and escapes.
func indentJSON(t testing.TB, payload []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, payload, "", "  "); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, payload)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestSampleEvents(t *testing.T) {
	types := SampleEventTypes()
	if len(types) != 17 {
		t.Errorf("%d sample types, want the 17 of SPEC §5, §8 and §10", len(types))
	}
	for _, typ := range types {
		ev, err := decodeEvent(sample(t, typ))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if ev.Type != typ || ev.d.ID != "evt_sample_"+strings.ReplaceAll(typ, ".", "_") {
			t.Errorf("%s: decoded type %q, id %q", typ, ev.Type, ev.d.ID)
		}
		if strings.HasPrefix(ev.title(), "Event ") {
			t.Errorf("%s: no title of its own: %q", typ, ev.title())
		}
	}
	if _, ok := SampleEvent("session.renamed"); ok {
		t.Error("SampleEvent of an unknown type succeeded")
	}
	types[0] = "changed"
	if diff := cmp.Diff("session.started", SampleEventTypes()[0]); diff != "" {
		t.Errorf("SampleEventTypes shares its slice (-want +got):\n%s", diff)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	for _, body := range []string{``, `{"type":`, `[]`, `{}`, `{"type":"x","data":[]}`, `{"type":"x","data":{"sequence":"7"}}`} {
		if _, err := decodeEvent([]byte(body)); err == nil {
			t.Errorf("decodeEvent(%s) succeeded", body)
		}
	}
	ev, err := decodeEvent([]byte(`{"type":"x","data":null}`))
	if err != nil || ev.subject() != "rtkwatchd" {
		t.Errorf("decodeEvent of null data = %+v, %v", ev, err)
	}
}
