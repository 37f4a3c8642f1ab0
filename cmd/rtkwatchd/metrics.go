package main

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// storeCollector exports the outbox depth per notifier and the number of
// dead letters, read from the store at scrape time.
type storeCollector struct {
	st interface {
		OutboxDepth() (map[string]int, error)
		DeadLetterCount() (int, error)
	}
	log zerolog.Logger
}

var (
	outboxDepthDesc = prometheus.NewDesc("rtkwatchd_outbox_deliveries",
		"Deliveries waiting in the outbox, by notifier.", []string{"notifier"}, nil)
	deadLettersDesc = prometheus.NewDesc("rtkwatchd_dead_letters",
		"Deliveries that gave up and wait for `rtkwatchd deliveries retry`.", nil, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- deadLettersDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	depth, err := c.st.OutboxDepth()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.log.Error().Err(err).Msg("metrics: read outbox depth")
	}
	for name, n := range depth {
		ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(n), name)
	}
	dead, err := c.st.DeadLetterCount()
	if err != nil {
		c.log.Error().Err(err).Msg("metrics: count dead letters")
		return
	}
	ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(dead))
}
