package poller

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Metrics is an Observer that exports what the poller does to Prometheus.
type Metrics struct {
	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec
	events       *prometheus.CounterVec
	lastGoodPoll *prometheus.GaugeVec
	unknown      *prometheus.GaugeVec
	signalReads  *prometheus.CounterVec
	leftOut      *prometheus.CounterVec

	// series keeps the series of each watch that Polled updates, watch →
	// *watchSeries, so that a poll does not look them up by their labels:
	// hashing the labels of three series was 2% of the CPU of a poll.
	series sync.Map
}

// watchSeries are the series of one watch that every poll updates.
type watchSeries struct {
	duration prometheus.Observer
	lastGood prometheus.Gauge

	mu    sync.Mutex
	polls map[string]prometheus.Counter // by outcome
}

// watchSeries returns the series of watch, creating them on first use.
func (m *Metrics) watchSeries(watch string) *watchSeries {
	if ws, ok := m.series.Load(watch); ok {
		return ws.(*watchSeries)
	}
	ws, _ := m.series.LoadOrStore(watch, &watchSeries{
		duration: m.pollDuration.WithLabelValues(watch),
		lastGood: m.lastGoodPoll.WithLabelValues(watch),
		polls:    make(map[string]prometheus.Counter),
	})
	return ws.(*watchSeries)
}

// pollCounter returns the polls_total series of watch and outcome.
func (m *Metrics) pollCounter(ws *watchSeries, watch, outcome string) prometheus.Counter {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	c, ok := ws.polls[outcome]
	if !ok {
		c = m.polls.WithLabelValues(watch, outcome)
		ws.polls[outcome] = c
	}
	return c
}

// NewMetrics registers the poller's metrics with reg and, when budget is not
// nil, a gauge of the requests the budget allows at once.
func NewMetrics(reg prometheus.Registerer, budget *Budget) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rtkwatchd_polls_total",
			Help: "Polls of meetings and reads of sessions lists, by watch and outcome: session, no_session, list (a list read whole), or the failure kind.",
		}, []string{"watch", "outcome"}),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rtkwatchd_poll_duration_seconds",
			Help:    "Time the API took to answer one poll, by watch.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"watch"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rtkwatchd_events_total",
			Help: "Events committed to the outbox, by watch and type.",
		}, []string{"watch", "type"}),
		lastGoodPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_last_good_poll_timestamp_seconds",
			Help: "Unix time of the last successful poll, by watch.",
		}, []string{"watch"}),
		unknown: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_unknown_meetings",
			Help: "Explicit meetings of a watch that the API says its app does not have, by watch, as of the last check (at start and on reload).",
		}, []string{"watch"}),
	}
	m.signalReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rtkwatchd_signal_reads_total",
		Help: "Reads of app-wide signals (recordings, livestreams, usage) by watch, signal and outcome: read, shared (another watch's read), or the failure kind.",
	}, []string{"watch", "signal", "outcome"})
	m.leftOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rtkwatchd_entries_left_out_total",
		Help: "Entries of the recordings, livestreams or analytics answers left out of judgement (never an event), by signal and reason; each counted once while it stays in the answers.",
	}, []string{"signal", "reason"})
	reg.MustRegister(m.polls, m.pollDuration, m.events, m.lastGoodPoll, m.unknown, m.signalReads, m.leftOut)
	if budget != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rtkwatchd_api_budget_available_requests",
			Help: "API requests the budget would allow at once right now.",
		}, budget.Available))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rtkwatchd_api_paused_until_timestamp_seconds",
			Help: "Unix time until which a 429 pauses every request; 0 when none ever did.",
		}, func() float64 {
			t := budget.PausedUntil()
			if t.IsZero() {
				return 0
			}
			return float64(t.UnixNano()) / 1e9
		}))
	}
	return m
}

// Polled implements Observer.
func (m *Metrics) Polled(watch string, obs diff.Observation, list bool, took time.Duration) {
	outcome := "session"
	switch {
	case obs.Kind == diff.ObservedFailure:
		outcome = "failure"
		if obs.Failure != nil {
			outcome = string(obs.Failure.Kind)
		}
	case list:
		outcome = "list"
	case obs.Kind == diff.ObservedNoSession:
		outcome = "no_session"
	}
	ws := m.watchSeries(watch)
	m.pollCounter(ws, watch, outcome).Inc()
	ws.duration.Observe(took.Seconds())
	if obs.Kind != diff.ObservedFailure {
		ws.lastGood.Set(float64(obs.At.UnixNano()) / 1e9)
	}
}

// Emitted implements Observer.
func (m *Metrics) Emitted(watch string, ev diff.Event) {
	m.events.WithLabelValues(watch, ev.Type).Inc()
}

// UnknownMeetings sets how many explicit meetings of watch the API says do
// not exist.
func (m *Metrics) UnknownMeetings(watch string, n int) {
	m.unknown.WithLabelValues(watch).Set(float64(n))
}

// SignalRead implements SignalObserver.
func (m *Metrics) SignalRead(watch, signal, outcome string) {
	m.signalReads.WithLabelValues(watch, signal, outcome).Inc()
}

// LeftOut implements SignalObserver.
func (m *Metrics) LeftOut(signal, reason string) {
	m.leftOut.WithLabelValues(signal, reason).Inc()
}

// Forget drops the series of a watch that a config reload removed, so that
// dashboards do not show it for ever.
func (m *Metrics) Forget(watch string) {
	m.series.Delete(watch)
	l := prometheus.Labels{"watch": watch}
	m.polls.DeletePartialMatch(l)
	m.pollDuration.DeletePartialMatch(l)
	m.events.DeletePartialMatch(l)
	m.lastGoodPoll.DeletePartialMatch(l)
	m.unknown.DeletePartialMatch(l)
	m.signalReads.DeletePartialMatch(l)
}
