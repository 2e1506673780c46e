package sidecar

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, all in one place.
const (
	metricRequests         = "aip_requests_total"
	metricDecisions        = "aip_decisions_total"
	metricRequestDuration  = "aip_request_duration_seconds"
	metricTokenValidations = "aip_token_validations_total"
	metricRevocations      = "aip_revocations_total"
)

// metrics are the sidecar's Prometheus series. Label values are bounded:
// HTTP methods, decisions, the reason constants and token_error values.
type metrics struct {
	requests    *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	validations *prometheus.CounterVec
	revocations prometheus.Counter
}

// newMetrics registers the series on reg (its own registry, never the
// global one).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests,
			Help: "HTTP requests received on the MCP endpoint, by method."}, []string{"method"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricDecisions,
			Help: "Decisions on MCP requests: allow or deny, with the reason of a denial."}, []string{"decision", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricRequestDuration,
			Help:    "Time to decide and proxy a request, until the response headers (streams excluded).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5}}, []string{"method"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricTokenValidations,
			Help: "AAT validations, by result (valid or the token_error)."}, []string{"result"}),
		revocations: prometheus.NewCounter(prometheus.CounterOpts{Name: metricRevocations,
			Help: "Requests refused because the agent, user, session or token is revoked."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.decisions, m.duration, m.validations, m.revocations} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) tokenResult(result string) { m.validations.WithLabelValues(result).Inc() }
func (m *metrics) revoked()                  { m.revocations.Inc() }
func (m *metrics) decision(decision, reason string) {
	m.decisions.WithLabelValues(decision, reason).Inc()
}

// method bounds an HTTP method label.
func method(m string) string {
	switch m {
	case "GET", "POST", "DELETE":
		return m
	}
	return "other"
}
