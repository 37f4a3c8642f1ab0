package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery outcomes, the values of the outcome label.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeDead      = "dead"
)

// Metrics are the Worker's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	broken     *prometheus.GaugeVec
	quarantine *prometheus.CounterVec
	circuit    *prometheus.GaugeVec
}

// NewMetrics creates the delivery metrics and registers them with reg
// (when reg is not nil). It panics if they are already registered there,
// so call it once per registry:
//
//	rtkwatchd_deliveries_total{notifier,outcome}   attempts by outcome: delivered, retry, dead
//	rtkwatchd_delivery_duration_seconds{notifier}  time of each attempt
//	rtkwatchd_notifier_broken{notifier}            1 while a notifier is misconfigured
//	rtkwatchd_deliveries_quarantined_total{notifier}  outbox records that did not decode
//	rtkwatchd_notifier_circuit_open{notifier}      1 while a failing notifier is paused and probed
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rtkwatchd_deliveries_total",
			Help: "Delivery attempts by notifier and outcome (delivered, retry, dead).",
		}, []string{"notifier", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rtkwatchd_delivery_duration_seconds",
			Help:    "Duration of delivery attempts by notifier.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"notifier"}),
		broken: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_notifier_broken",
			Help: "1 while a notifier is misconfigured and dead-letters every event until the configuration is fixed.",
		}, []string{"notifier"}),
		quarantine: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rtkwatchd_deliveries_quarantined_total",
			Help: "Outbox records that did not decode and were moved to the dead letters, by notifier.",
		}, []string{"notifier"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rtkwatchd_notifier_circuit_open",
			Help: "1 while every delivery to a notifier has failed for delivery.circuit_after and it is paused and probed once a minute.",
		}, []string{"notifier"}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.duration, m.broken, m.quarantine, m.circuit)
	}
	return m
}

// observe records one attempt of notifier.
func (m *Metrics) observe(notifier, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(notifier, outcome).Inc()
	m.duration.WithLabelValues(notifier).Observe(d.Seconds())
}

// count records an outcome reached without an attempt.
func (m *Metrics) count(notifier, outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(notifier, outcome).Inc()
}

// quarantined counts a record of notifier's outbox that did not decode.
func (m *Metrics) quarantined(notifier string) {
	if m == nil {
		return
	}
	m.quarantine.WithLabelValues(notifier).Inc()
}

// setBroken records whether notifier is broken.
func (m *Metrics) setBroken(notifier string, broken bool) {
	if m == nil {
		return
	}
	setFlag(m.broken, notifier, broken)
}

// Forget drops the series of a notifier that a config reload removed, so
// that dashboards do not show it for ever.
func (m *Metrics) Forget(notifier string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"notifier": notifier}
	m.deliveries.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.broken.DeletePartialMatch(l)
	m.quarantine.DeletePartialMatch(l)
	m.circuit.DeletePartialMatch(l)
}

// setCircuit records whether notifier's circuit is open.
func (m *Metrics) setCircuit(notifier string, open bool) {
	if m == nil {
		return
	}
	setFlag(m.circuit, notifier, open)
}

// setFlag sets notifier's series of a 0-or-1 gauge.
func setFlag(g *prometheus.GaugeVec, notifier string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	g.WithLabelValues(notifier).Set(v)
}
