package notify

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prometheus/client_golang/prometheus"
)

// gather returns every metric in reg as name{labels} → value: a counter's
// or gauge's value, a histogram's number of observations.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestWorkerMetrics(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1", "evt_2")
		reg := prometheus.NewRegistry()
		startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())},
			WorkerOptions{Metrics: NewMetrics(reg)}))
		time.Sleep(time.Hour)

		want := map[string]float64{
			`rtkwatchd_deliveries_total{notifier="ops",outcome="delivered"}`: 2,
			`rtkwatchd_deliveries_total{notifier="ops",outcome="retry"}`:     1,
			`rtkwatchd_delivery_duration_seconds{notifier="ops"}`:            3, // observations
			`rtkwatchd_notifier_broken{notifier="ops"}`:                      0,
			`rtkwatchd_notifier_circuit_open{notifier="ops"}`:                0,
		}
		if diff := cmp.Diff(want, gather(t, reg)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})
}

func TestMetricsForget(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, n := range []string{"kept", "removed"} {
		m.observe(n, OutcomeDelivered, time.Millisecond)
		m.setBroken(n, true)
		m.quarantined(n)
		m.setCircuit(n, true)
	}
	m.Forget("removed")
	got := gather(t, reg)
	for name := range got {
		if strings.Contains(name, `notifier="removed"`) {
			t.Errorf("series %s survived Forget", name)
		}
	}
	if v := got[`rtkwatchd_notifier_broken{notifier="kept"}`]; v != 1 {
		t.Errorf("kept notifier broken = %v, want 1", v)
	}
	var none *Metrics
	none.Forget("x") // a nil Metrics does nothing
}
