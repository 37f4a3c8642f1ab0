package poller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// MeetingGauges exports what the store holds of each meeting as gauges
// labelled by watch and meeting (metrics.meetings): its live participants,
// its minutes consumed and whether a session is live, all 0 when none is.
// A failed poll leaves them as they were. At most maxSeries series exist:
// a meeting whose three would pass the cap gets none, and a counter says
// how many updates were dropped. A meeting's series go when its snapshot
// is deleted, or its watch leaves the config. It is a MeetingObserver and
// safe for concurrent use.
type MeetingGauges struct {
	live, minutes, session *prometheus.GaugeVec
	dropped                prometheus.Counter

	mu        sync.Mutex
	enabled   bool
	maxSeries int
	tracked   map[meetingKey]struct{}
}

// meetingKey names one meeting of one watch.
type meetingKey struct{ watch, meeting string }

// NewMeetingGauges registers the per-meeting gauges with reg. They stay
// empty until SetLimit enables them.
func NewMeetingGauges(reg prometheus.Registerer) *MeetingGauges {
	g := &MeetingGauges{
		live: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_meeting_live_participants",
			Help: "live_participants of the meeting's live session at its last good poll; 0 without one.",
		}, []string{"watch", "meeting"}),
		minutes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_meeting_minutes_consumed",
			Help: "minutes_consumed of the meeting's live session at its last good poll; 0 without one.",
		}, []string{"watch", "meeting"}),
		session: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_meeting_session_live",
			Help: "1 while the meeting has a live session (as of its last good poll), else 0.",
		}, []string{"watch", "meeting"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rtkwatchd_meeting_series_dropped_total",
			Help: "Updates of per-meeting gauges dropped because metrics.max_series was reached.",
		}),
		tracked: make(map[meetingKey]struct{}),
	}
	reg.MustRegister(g.live, g.minutes, g.session, g.dropped)
	return g
}

// SetLimit turns the gauges on or off and sets their cap. Turning them
// off, or lowering the cap below what exists, drops every series; they
// come back as meetings are polled.
func (g *MeetingGauges) SetLimit(enabled bool, maxSeries int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !enabled || maxSeries < len(g.tracked)*config.SeriesPerMeeting {
		g.dropAllLocked()
	}
	g.enabled, g.maxSeries = enabled, maxSeries
}

// Observed implements MeetingObserver.
func (g *MeetingGauges) Observed(watch, meetingID string, s *diff.Session) {
	k := meetingKey{watch, meetingID}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.enabled {
		return
	}
	if _, ok := g.tracked[k]; !ok {
		if (len(g.tracked)+1)*config.SeriesPerMeeting > g.maxSeries {
			g.dropped.Inc()
			return
		}
		g.tracked[k] = struct{}{}
	}
	var live, minutes, session float64
	if s != nil {
		live, minutes, session = float64(s.LiveParticipants), s.MinutesConsumed, 1
	}
	g.live.WithLabelValues(watch, meetingID).Set(live)
	g.minutes.WithLabelValues(watch, meetingID).Set(minutes)
	g.session.WithLabelValues(watch, meetingID).Set(session)
}

// Forgot implements MeetingObserver.
func (g *MeetingGauges) Forgot(watch, meetingID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deleteLocked(meetingKey{watch, meetingID})
}

// Retain drops the series of every meeting that keep does not keep (see
// Keeps), as a reload prunes their snapshots.
func (g *MeetingGauges) Retain(keep func(watch, meetingID string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.tracked {
		if !keep(k.watch, k.meeting) {
			g.deleteLocked(k)
		}
	}
}

func (g *MeetingGauges) deleteLocked(k meetingKey) {
	if _, ok := g.tracked[k]; !ok {
		return
	}
	delete(g.tracked, k)
	for _, v := range []*prometheus.GaugeVec{g.live, g.minutes, g.session} {
		v.DeleteLabelValues(k.watch, k.meeting)
	}
}

func (g *MeetingGauges) dropAllLocked() {
	for k := range g.tracked {
		g.deleteLocked(k)
	}
}
