package diff

import "time"

// Livestream statuses, as the livestreams list reports them.
const (
	LivestreamLive    = "LIVE"
	LivestreamIdle    = "IDLE"
	LivestreamErrored = "ERRORED"
	LivestreamInvoked = "INVOKED"
)

// Livestream is one entry of an app's livestreams list
// (GET …/{app_id}/livestreams, realtime_kit.LivestreamGetAllLivestreamsResponseData),
// reduced to what the rules read. Nothing secret (stream_key, ingest_server)
// belongs here.
type Livestream struct {
	ID        string // id
	MeetingID string // meeting_id; "" for a livestream of the app's own, not of a meeting
	Name      string // name
	Status    string // status
	// CreatedAt and UpdatedAt are created_at and updated_at; zero when
	// absent.
	CreatedAt, UpdatedAt time.Time
}

// LivestreamsObservation is one read of an app's livestreams list.
type LivestreamsObservation struct {
	// At is when the read completed: the rule's only "now".
	At time.Time
	// Livestreams is the list, with Failure nil: every livestream of the app
	// whose last activity lies within the rules' Horizon before At.
	Livestreams []Livestream
	// Failure, when not nil, says the list could not be read.
	Failure *Failure
}

// livestreamLiveFlag marks a livestream LIVE since it last stopped.
const livestreamLiveFlag uint8 = 1

var livestreamKind = mediaKind{
	signal: SignalLivestreams,
	known: func(status string) bool {
		switch status {
		case LivestreamLive, LivestreamIdle, LivestreamErrored, LivestreamInvoked:
			return true
		}
		return false
	},
	step: func(old MediaItem, status string) (string, uint8) {
		live := old.Flags&livestreamLiveFlag != 0
		switch status {
		case LivestreamLive:
			if !live {
				return TypeLivestreamStarted, livestreamLiveFlag
			}
		case LivestreamIdle:
			if live {
				return TypeLivestreamStopped, 0
			}
		case LivestreamErrored:
			if old.Status != LivestreamErrored {
				return TypeLivestreamErrored, 0
			}
			return "", 0
		}
		return "", old.Flags
	},
	describe: func(d *EventData, e mediaEntry) { d.LivestreamID = e.id },
}

// ApplyLivestreams is ApplyRecordings for a watch's livestreams, with signal
// "livestreams" on watch.failing and watch.recovered. After the baseline, a
// livestream of a watched meeting emits
//
//   - livestream.started when it is read LIVE and was not live (new, or
//     stopped since it was last live);
//   - livestream.stopped when it is read IDLE after it was read LIVE (an
//     INVOKED read in between does not break that);
//   - livestream.errored when it is read ERRORED and was not ERRORED at the
//     last read; that also ends its being live, without livestream.stopped.
//
// so a livestream that goes live again after it stopped starts again.
// Events carry livestream_id, status, previous_status and its meeting_id,
// with the livestream's name as meeting_display_name and no session_id. A
// livestream without a meeting_id belongs to the app, not to a meeting: it
// is ignored, and not reported as skipped. Its last activity is the later
// of created_at and updated_at. Everything else is as for recordings.
func ApplyLivestreams(watch Meeting, prev MediaState, obs LivestreamsObservation, rules MediaRules) (MediaState, []Event, []Skipped) {
	var entries []mediaEntry
	if obs.Failure == nil {
		entries = make([]mediaEntry, len(obs.Livestreams))
		for i, l := range obs.Livestreams {
			entries[i] = mediaEntry{
				id: l.ID, meetingID: l.MeetingID, title: l.Name, status: l.Status,
				seen: latest(l.CreatedAt, l.UpdatedAt),
			}
		}
	}
	return applyMedia(&livestreamKind, watch, prev, obs.At, entries, obs.Failure, rules)
}
