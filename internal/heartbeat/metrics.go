package heartbeat

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of an interval, the values of the outcome label.
const (
	OutcomeSent     = "sent"
	OutcomeFailed   = "failed"
	OutcomeWithheld = "withheld"
)

// Metrics are the Heartbeat's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	intervals *prometheus.CounterVec
}

// NewMetrics creates the heartbeat metrics and registers them with reg
// (when reg is not nil); it panics if they are already registered there:
//
//	rtkwatchd_heartbeats_total{outcome}  intervals by outcome: sent, failed, withheld
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{intervals: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rtkwatchd_heartbeats_total",
		Help: "Heartbeat intervals by outcome: sent, failed (the URL did not answer 2xx), withheld (a watch made no progress).",
	}, []string{"outcome"})}
	for _, o := range []string{OutcomeSent, OutcomeFailed, OutcomeWithheld} {
		m.intervals.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.intervals)
	}
	return m
}

// count records an interval's outcome.
func (m *Metrics) count(outcome string) {
	if m == nil {
		return
	}
	m.intervals.WithLabelValues(outcome).Inc()
}
