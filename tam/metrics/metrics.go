// Package metrics is the TAM's Prometheus metrics (GET /metrics, issue
// 15): TEEP sessions opened, appraisals by result, device answers to
// Updates by outcome, and each rollout's progress read from the store at
// scrape time, so that every replica reports the same counts.
//
// Trust: it reports what the TEEP endpoint and the store tell it; the
// route is behind the gate (viewer or operator).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/teeup/teeup/tam/store"
)

// ScrapeTimeout bounds the store reads of one scrape.
const ScrapeTimeout = 10 * time.Second

// Metrics is one TAM's registry. It is safe for concurrent use; it
// implements teepsrv.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	sessions   prometheus.Counter
	appraisals *prometheus.CounterVec
	installs   *prometheus.CounterVec
}

// New makes the registry of a TAM over st.
func New(st store.Store, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "teeup", Subsystem: "tam",
			Name: "teep_sessions_total", Help: "TEEP sessions opened (QueryRequests sent)."}),
		appraisals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "teeup", Subsystem: "tam",
			Name: "appraisals_total", Help: "Appraisals of device evidence, by AR4SI trust tier."}, []string{"result"}),
		installs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "teeup", Subsystem: "tam",
			Name: "installs_total", Help: "Device answers to TEEP Updates, by outcome (success, error)."}, []string{"outcome"}),
	}
	for _, tier := range []string{"affirming", "warning", "contraindicated", "none"} {
		m.appraisals.WithLabelValues(tier)
	}
	for _, o := range []string{"success", "error"} {
		m.installs.WithLabelValues(o)
	}
	m.reg.MustRegister(m.sessions, m.appraisals, m.installs, &rollouts{st: st, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: ScrapeTimeout})
}

// Registry is the registry, for tests and for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SessionOpened counts a QueryRequest sent.
func (m *Metrics) SessionOpened() { m.sessions.Inc() }

// Appraised counts an appraisal with its trust tier.
func (m *Metrics) Appraised(status string) { m.appraisals.WithLabelValues(status).Inc() }

// Answered counts a device's Success (true) or Error to an Update.
func (m *Metrics) Answered(success bool) {
	if success {
		m.installs.WithLabelValues("success").Inc()
	} else {
		m.installs.WithLabelValues("error").Inc()
	}
}

// rollouts reads every rollout's progress from the store at each scrape.
type rollouts struct {
	st  store.Store
	log *slog.Logger
}

var (
	deliveriesDesc = prometheus.NewDesc("teeup_tam_rollout_deliveries", "Devices of a rollout by delivery state.",
		[]string{"rollout", "release", "state"}, nil)
	waveDesc = prometheus.NewDesc("teeup_tam_rollout_wave", "The last started wave of a rollout (0-based).",
		[]string{"rollout", "release"}, nil)
	wavesDesc = prometheus.NewDesc("teeup_tam_rollout_waves", "The number of waves of a rollout.",
		[]string{"rollout", "release"}, nil)
	stateDesc = prometheus.NewDesc("teeup_tam_rollout_state", "1 for the state a rollout is in.",
		[]string{"rollout", "release", "state"}, nil)
)

func (c *rollouts) Describe(ch chan<- *prometheus.Desc) {
	ch <- deliveriesDesc
	ch <- waveDesc
	ch <- wavesDesc
	ch <- stateDesc
}

func (c *rollouts) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	rs, err := c.st.ListRollouts(ctx)
	if err != nil {
		c.log.Error("metrics: rollouts", "err", err)
		ch <- prometheus.NewInvalidMetric(stateDesc, err)
		return
	}
	for _, r := range rs {
		waves, err := c.st.Progress(ctx, r.ID)
		if err != nil {
			c.log.Error("metrics: rollout progress", "rollout", r.ID, "err", err)
			ch <- prometheus.NewInvalidMetric(deliveriesDesc, err)
			continue
		}
		var total store.WaveProgress
		for _, w := range waves {
			total.Pending += w.Pending
			total.Sent += w.Sent
			total.Installed += w.Installed
			total.Succeeded += w.Succeeded
			total.Failed += w.Failed
		}
		for _, s := range []struct {
			state string
			n     int
		}{{"pending", total.Pending}, {"sent", total.Sent}, {"installed", total.Installed}, {"succeeded", total.Succeeded}, {"failed", total.Failed}} {
			ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(s.n), r.ID, r.Release, s.state)
		}
		ch <- prometheus.MustNewConstMetric(waveDesc, prometheus.GaugeValue, float64(r.Wave), r.ID, r.Release)
		ch <- prometheus.MustNewConstMetric(wavesDesc, prometheus.GaugeValue, float64(len(r.Waves)), r.ID, r.Release)
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, 1, r.ID, r.Release, string(r.State))
	}
}
