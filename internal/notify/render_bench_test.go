package notify

import "testing"

// BenchmarkRender renders one event for each service, and the worst case
// that makes the texts be cut: go test -bench Render -benchmem ./internal/notify/
func BenchmarkRender(b *testing.B) {
	p, err := NewPagerDuty(PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey})
	if err != nil {
		b.Fatal(err)
	}
	renders := map[string]func([]byte) error{
		"slack":   func(body []byte) error { _, err := renderSlack(body, nil); return err },
		"teams":   func(body []byte) error { _, err := renderTeams(body, nil); return err },
		"discord": func(body []byte) error { _, err := renderDiscord(body, nil, ""); return err },
		"email":   func(body []byte) error { _, err := renderEmail(body, nil); return err },
		"pagerduty": func(body []byte) error {
			ev, err := decodeEvent(body)
			for _, a := range pagerDutyActions(ev) {
				_ = p.event(ev, a)
			}
			return err
		},
	}
	bodies := map[string][]byte{
		"typical":   sample(b, "participants.threshold_crossed"),
		"oversized": hostile(b, "watch.failing", escapeHeavyTitle),
	}
	for name, render := range renders {
		for kind, body := range bodies {
			b.Run(name+"/"+kind, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := render(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
