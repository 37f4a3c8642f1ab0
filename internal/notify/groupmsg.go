package notify

import (
	"fmt"
	"slices"
	"strings"
)

// groupItem is one event of a group as a renderer shows it: its title and
// text (the template's or the defaults), and the event for the rest.
type groupItem struct {
	ev          event
	title, text string
}

// groupItems decodes the events of g and renders each one's title and
// text with t.
func groupItems(g GroupMessage, t *Template) ([]groupItem, error) {
	evs, err := groupEvents(g)
	if err != nil {
		return nil, err
	}
	items := make([]groupItem, len(evs))
	for i, ev := range evs {
		items[i] = groupItem{ev: ev, title: ev.title(), text: ev.plainText()}
		if t != nil {
			items[i].title, items[i].text = t.renderOrDefault(ev)
		}
	}
	return items, nil
}

// groupSummary says in one line what a group is: "12 events in watch
// town-hall", "3 events in watches a and b", "5 events in 4 watches".
func groupSummary(items []groupItem) string {
	var watches []string
	for _, it := range items {
		if w := it.ev.d.Watch; w != "" && !slices.Contains(watches, w) {
			watches = append(watches, w)
		}
	}
	s := fmt.Sprintf("%d events", len(items))
	switch len(watches) {
	case 0:
	case 1:
		s += " in watch " + watches[0]
	case 2:
		s += " in watches " + watches[0] + " and " + watches[1]
	default:
		s += fmt.Sprintf(" in %d watches", len(watches))
	}
	return s
}

// leftOut says how many events of a group a message could not show, or ""
// when it shows them all.
func leftOut(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 more event is not shown here"
	}
	return fmt.Sprintf("%d more events are not shown here", n)
}

// factLine is an item's facts on one line: the meeting and its watch, the
// event's numbers, its time.
func (it groupItem) factLine() string {
	subject := it.ev.subject()
	if w := it.ev.d.Watch; w != "" {
		subject += " (watch " + w + ")"
	}
	parts := []string{subject}
	for _, f := range it.ev.facts() {
		parts = append(parts, f.label+" "+f.value)
	}
	if !it.ev.Timestamp.IsZero() {
		parts = append(parts, it.ev.Timestamp.UTC().Format("15:04:05 UTC"))
	}
	return strings.Join(parts, " · ")
}
