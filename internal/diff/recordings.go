package diff

import "time"

// Recording statuses, as the recordings list reports them.
const (
	RecordingInvoked   = "INVOKED"
	RecordingRecording = "RECORDING"
	RecordingPaused    = "PAUSED"
	RecordingUploading = "UPLOADING"
	RecordingUploaded  = "UPLOADED"
	RecordingErrored   = "ERRORED"
)

// Recording is one entry of an app's recordings list
// (GET …/{app_id}/recordings, realtime_kit.RecordingGetRecordingsResponseData),
// reduced to what the rules read. Nothing secret (download URLs, storage
// credentials) belongs here.
type Recording struct {
	ID           string // id
	MeetingID    string // meeting.id; "" when the entry has no meeting
	MeetingTitle string // meeting.title
	SessionID    string // session_id
	Status       string // status
	// InvokedAt, StartedAt and StoppedAt are invoked_time, started_time and
	// stopped_time; zero when absent.
	InvokedAt, StartedAt, StoppedAt time.Time
}

// RecordingsObservation is one read of an app's recordings list.
type RecordingsObservation struct {
	// At is when the read completed: the rule's only "now".
	At time.Time
	// Recordings is the list, with Failure nil: every recording of the app
	// (not only of watched meetings) whose last activity lies within the
	// rules' Horizon before At, in the order read. An entry listed twice
	// counts twice, in order.
	Recordings []Recording
	// Failure, when not nil, says the list could not be read (any page of
	// it); Recordings is then ignored.
	Failure *Failure
}

// Flags of a recording's MediaItem: the events emitted for it.
const (
	recordingStartedFlag uint8 = 1 << iota
	recordingUploadedFlag
	recordingErroredFlag
)

var recordingKind = mediaKind{
	signal: SignalRecordings,
	known: func(status string) bool {
		switch status {
		case RecordingInvoked, RecordingRecording, RecordingPaused, RecordingUploading, RecordingUploaded, RecordingErrored:
			return true
		}
		return false
	},
	step: func(old MediaItem, status string) (string, uint8) {
		flags := old.Flags
		var typ string
		switch status {
		case RecordingRecording:
			typ, flags = onceFlag(flags, recordingStartedFlag, TypeRecordingStarted)
		case RecordingPaused, RecordingUploading:
			flags |= recordingStartedFlag // past its start: a resume is no start
		case RecordingUploaded:
			typ, flags = onceFlag(flags|recordingStartedFlag, recordingUploadedFlag, TypeRecordingUploaded)
		case RecordingErrored:
			typ, flags = onceFlag(flags, recordingErroredFlag, TypeRecordingErrored)
		}
		return typ, flags
	},
	describe: func(d *EventData, e mediaEntry) { d.RecordingID = e.id },
}

// onceFlag returns typ and flags with f set when f was not set, and "" and
// flags when it was: an event that fires once per item.
func onceFlag(flags, f uint8, typ string) (string, uint8) {
	if flags&f != 0 {
		return "", flags
	}
	return typ, flags | f
}

// ApplyRecordings returns the next state of a watch's recordings and the
// events that one read of the app's recordings list implies, given the
// stored state prev (the zero MediaState when never read) and the watch's
// rules. watch identifies the watch (Watch, AccountID, AppID); its MeetingID
// is the meeting_id of watch.failing and watch.recovered (the poller's "*").
// Like Apply, it modifies neither prev nor obs, and what it returns may
// share read-only data with prev.
//
// The rules:
//
//   - A failed read (obs.Failure) changes no item. It counts, with the same
//     rules as a meeting's failed polls (rules.FailingAfter and
//     FailingRatio, at once on 401/403), towards one watch.failing per run
//     of failures, with signal "recordings", repeated every RemindEvery as
//     Apply repeats it; the first good read after it (the RecoverAfter-th in
//     a row) emits watch.recovered.
//   - The first good read records a baseline: every recording listed, and
//     what its status says has happened, silently.
//   - After that, a recording of a watched meeting emits recording.started
//     when it is first read RECORDING, recording.uploaded when first read
//     UPLOADED, recording.errored when first read ERRORED: each at most once
//     per recording, whatever came before (a recording first read UPLOADED
//     is uploaded, not started; a PAUSED one that resumes is not started
//     again). INVOKED, PAUSED and UPLOADING emit nothing. Events carry
//     recording_id, status, previous_status (the status last read, "" for a
//     recording not read before), the recording's meeting_id, session_id
//     and, as meeting_display_name, its meeting's title; previous and
//     current are null.
//   - Recordings of meetings that rules.Watched does not want are followed
//     silently.
//   - An entry without an id, a recording without a meeting, and a status
//     the API does not document (compared in upper case) are never events
//     and change nothing the state says of the recording: they come back as
//     Skipped, for the caller to log and count.
//   - An item's last activity is the latest of its invoked, started and
//     stopped times (the read's time when it has none). An item whose last
//     activity is older than rules.Horizon before obs.At is out of sight: it
//     is forgotten, and an entry for it is ignored, so a list that still
//     shows it repeats nothing. A recording whose upload finishes more than
//     Horizon after its last activity is therefore not reported.
//   - Every event gets the next sequence number of prev (per watch and
//     list, apart from the meetings' own), in the order of the list; ids are
//     derived like Apply's and differ from every other list's.
func ApplyRecordings(watch Meeting, prev MediaState, obs RecordingsObservation, rules MediaRules) (MediaState, []Event, []Skipped) {
	var entries []mediaEntry
	if obs.Failure == nil {
		entries = make([]mediaEntry, len(obs.Recordings))
		for i, r := range obs.Recordings {
			entries[i] = mediaEntry{
				id: r.ID, meetingID: r.MeetingID, title: r.MeetingTitle, sessionID: r.SessionID, status: r.Status,
				seen: latest(r.InvokedAt, r.StartedAt, r.StoppedAt),
			}
		}
	}
	return applyMedia(&recordingKind, watch, prev, obs.At, entries, obs.Failure, rules)
}

// latest returns the latest of ts; zero when all are.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
