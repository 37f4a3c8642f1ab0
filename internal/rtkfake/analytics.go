package rtkfake

import (
	"net/http"
	"time"
)

// DailyUsage is one day of an app's usage, as tests script it.
type DailyUsage struct {
	SessionMinutes   float64 // total_session_minutes
	Sessions         int64   // total_sessions
	RecordingMinutes int64   // total_recording_minutes
	Recordings       int64   // total_recordings
}

// dayLayout is the layout of the analytics route's days and dates.
const dayLayout = "2006-01-02"

// defaultAnalyticsDays is how far back the analytics route reaches without
// a start_date: 30 days before today, as the API documents.
const defaultAnalyticsDays = 30

type analyticsBody struct {
	Success bool          `json:"success"`
	Data    analyticsData `json:"data"`
}

type analyticsData struct {
	RecordingStats recordingStats `json:"recording_stats"`
	SessionStats   sessionStats   `json:"session_stats"`
}

type recordingStats struct {
	DayStats                 []recordingDay `json:"day_stats"`
	RecordingCount           int64          `json:"recording_count"`
	RecordingMinutesConsumed float64        `json:"recording_minutes_consumed"`
}

type recordingDay struct {
	Day                   string `json:"day"`
	TotalRecordingMinutes int64  `json:"total_recording_minutes"`
	TotalRecordings       int64  `json:"total_recordings"`
}

type sessionStats struct {
	DayStats                []sessionDay `json:"day_stats"`
	SessionsCount           int64        `json:"sessions_count"`
	SessionsMinutesConsumed float64      `json:"sessions_minutes_consumed"`
}

type sessionDay struct {
	Day                 string  `json:"day"`
	TotalSessionMinutes float64 `json:"total_session_minutes"`
	TotalSessions       int64   `json:"total_sessions"`
}

// SetDailyUsage sets an app's usage on one day (2006-01-02), replacing what
// was set for it. Negative numbers are served as they are, for tests of
// what rtkwatchd makes of them. It panics when day is not a date.
func (s *Server) SetDailyUsage(appID, day string, u DailyUsage) {
	s.updateUsage("SetDailyUsage", appID, day, func(d *DailyUsage) { *d = u })
}

// AddSessionMinutes adds minutes to an app's session minutes on one day.
// It panics when day is not a date.
func (s *Server) AddSessionMinutes(appID, day string, minutes float64) {
	s.updateUsage("AddSessionMinutes", appID, day, func(d *DailyUsage) { d.SessionMinutes += minutes })
}

// updateUsage applies f to an app's usage on one day, for the method
// caller, which panics when day is not a date.
func (s *Server) updateUsage(caller, appID, day string, f func(*DailyUsage)) {
	if _, err := time.Parse(dayLayout, day); err != nil {
		panic("rtkfake: " + caller + ": day " + day + " is not a date")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(appID)
	if a.usage == nil {
		a.usage = make(map[string]DailyUsage)
	}
	u := a.usage[day]
	f(&u)
	a.usage[day] = u
}

// DailyUsage returns an app's usage on one day (zero when none was set).
func (s *Server) DailyUsage(appID, day string) DailyUsage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.apps[appID]; a != nil {
		return a.usage[day]
	}
	return DailyUsage{}
}

// serveAnalytics answers GET …/analytics/daywise: every day from
// start_date to end_date (2006-01-02, both included; by default 30 days
// before today to today, in UTC by the fake's clock), in order, each with
// the usage set for it or zeros, and the totals of the range.
func (s *Server) serveAnalytics(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("app_id")
	s.countList(RouteAnalytics, appID)
	if !s.admit(w, r, RouteAnalytics, appID, "", func() []byte { return s.analyticsBody(appID, s.today(), s.today()) }) {
		return
	}
	q := r.URL.Query()
	today := s.today()
	start, end := today.AddDate(0, 0, -defaultAnalyticsDays), today
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"start_date", &start}, {"end_date", &end}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(dayLayout, v)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, rtkError(400, p.name+" must be a date in YYYY-MM-DD format"))
				return
			}
			*p.to = t
		}
	}
	if end.Before(start) {
		writeJSON(w, http.StatusBadRequest, rtkError(400, "start_date must not be after end_date"))
		return
	}
	if end.Sub(start) > 366*24*time.Hour {
		writeJSON(w, http.StatusBadRequest, rtkError(400, "the range may span at most a year"))
		return
	}
	writeJSON(w, http.StatusOK, s.analyticsBody(appID, start, end))
}

// today returns the fake clock's UTC date at midnight.
func (s *Server) today() time.Time {
	now := s.now().UTC()
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}

// analyticsBody encodes an app's usage from start to end, both included.
func (s *Server) analyticsBody(appID string, start, end time.Time) []byte {
	d := analyticsData{
		RecordingStats: recordingStats{DayStats: []recordingDay{}},
		SessionStats:   sessionStats{DayStats: []sessionDay{}},
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var usage map[string]DailyUsage
	if a := s.apps[appID]; a != nil {
		usage = a.usage
	}
	for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
		key := day.Format(dayLayout)
		u := usage[key]
		d.SessionStats.DayStats = append(d.SessionStats.DayStats, sessionDay{Day: key, TotalSessionMinutes: u.SessionMinutes, TotalSessions: u.Sessions})
		d.SessionStats.SessionsCount += u.Sessions
		d.SessionStats.SessionsMinutesConsumed += u.SessionMinutes
		d.RecordingStats.DayStats = append(d.RecordingStats.DayStats, recordingDay{Day: key, TotalRecordingMinutes: u.RecordingMinutes, TotalRecordings: u.Recordings})
		d.RecordingStats.RecordingCount += u.Recordings
		d.RecordingStats.RecordingMinutesConsumed += float64(u.RecordingMinutes)
	}
	return mustMarshal(analyticsBody{Success: true, Data: d})
}
