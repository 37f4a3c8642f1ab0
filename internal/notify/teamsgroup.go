package notify

import "fmt"

// renderTeamsGroup turns a group into one Adaptive Card: a heading that
// says how many events and where, then each event as its own card would
// show it (title, text, facts, error, footer), separated by lines, as many
// as Teams' 28 KB hold, and a closing line that says how many are not
// shown. Each event's texts are cut to teamsFieldMax first.
func renderTeamsGroup(g GroupMessage, t *Template) ([]byte, error) {
	items, err := groupItems(g, t)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	heading := teamsElement{Type: "TextBlock", Text: teamsText.fit(groupSummary(items)), Weight: "Bolder", Size: "Large", Wrap: true}
	closing := func(shown int) teamsElement {
		s := "group " + g.ID
		if l := leftOut(len(items) - shown); l != "" {
			s = l + " · " + s
		}
		return teamsElement{Type: "TextBlock", Text: teamsText.fit(s), Size: "Small", IsSubtle: true, Wrap: true, Separator: true}
	}
	body := []teamsElement{heading}
	payload := encodeTeams(teamsCardOf(append(body, closing(0))))
	if len(payload) > teamsMax {
		return nil, fmt.Errorf("encode teams message: over %d bytes with no event shown", teamsMax)
	}
	for shown, it := range items {
		p := teamsPartsFor(it.ev, t)
		for _, s := range []*string{&p.title, &p.text, &p.errText, &p.footer} {
			*s = teamsText.fitRaw(*s)
		}
		for i := range p.facts {
			p.facts[i].value = teamsText.fitRaw(p.facts[i].value)
		}
		next := append(body, p.elements(teamsElement{Weight: "Bolder", Separator: true})...)
		b := encodeTeams(teamsCardOf(append(next, closing(shown+1))))
		if len(b) > teamsMax {
			break
		}
		body, payload = next, b
	}
	return payload, nil
}
