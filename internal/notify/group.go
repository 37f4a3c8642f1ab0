package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Group is how a chat-like notifier gathers events into one message: the
// events that arrive within Wait of the first, at most Max of them. The
// zero Group sends every event alone.
type Group struct {
	Wait time.Duration
	Max  int
}

// IsZero reports whether g groups nothing.
func (g Group) IsZero() bool { return g.Wait <= 0 || g.Max < 2 }

// GroupEventType is the event type of a stored group: the outbox keeps a
// group as one delivery of this type, whose body lists its events.
const GroupEventType = "group"

// groupIDPrefix starts the event id of a group; its first event's id
// follows.
const groupIDPrefix = "grp_"

// GroupMessage is one attempt at delivering a group of events as one
// message.
type GroupMessage struct {
	// ID names the group: "grp_" and its first event's id, the same on
	// every attempt.
	ID string
	// Events are the group's events, in the order they were committed.
	Events []Message
	// Attempt numbers this attempt, starting at 1.
	Attempt int
}

// GroupNotifier is a Notifier that can deliver several events as one
// message: the chat-like ones (Slack, Teams, Discord, email).
type GroupNotifier interface {
	Notifier
	// Grouping says how the Worker should gather this notifier's events;
	// the zero Group sends each alone (and the groups stored before a
	// reload changed that still go out as groups).
	Grouping() Group
	// NotifyGroup makes one attempt to deliver g as one message, within
	// the service's limits, saying how many events it had to leave out.
	// It must return once ctx is done.
	NotifyGroup(ctx context.Context, g GroupMessage) Result
}

// encodeGroup is the stored body of a group: its events' bodies, as they
// are, in a JSON array.
func encodeGroup(bodies [][]byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, body := range bodies {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(body)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// decodeGroup reads a stored group back into the message of one attempt.
func decodeGroup(id string, body []byte, attempt int) (GroupMessage, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return GroupMessage{}, fmt.Errorf("decode group %s: %w", id, err)
	}
	if len(raws) == 0 {
		return GroupMessage{}, fmt.Errorf("decode group %s: no events", id)
	}
	g := GroupMessage{ID: id, Attempt: attempt}
	for _, raw := range raws {
		var head struct {
			Type string `json:"type"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return GroupMessage{}, fmt.Errorf("decode group %s: %w", id, err)
		}
		g.Events = append(g.Events, Message{EventID: head.Data.ID, EventType: head.Type, Body: raw, Attempt: attempt})
	}
	return g, nil
}

// groupEvents decodes the events of g for a renderer.
func groupEvents(g GroupMessage) ([]event, error) {
	evs := make([]event, 0, len(g.Events))
	for _, m := range g.Events {
		ev, err := decodeEvent(m.Body)
		if err != nil {
			return nil, fmt.Errorf("group %s: event %s: %w", g.ID, m.EventID, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
