package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aip-project/aip/issuer/signer"
)

// Metric names, all in one place.
const (
	metricIssued      = "aip_issuer_tokens_issued_total"
	metricRefused     = "aip_issuer_tokens_refused_total"
	metricSignLatency = "aip_issuer_sign_duration_seconds"
	metricRequests    = "aip_issuer_http_requests_total"
)

// Metrics are the issuer's Prometheus metrics on their own registry.
// Label values are bounded: methods, reasons and signer names come from
// fixed sets in this code, never from requests.
type Metrics struct {
	Registry    *prometheus.Registry
	issued      *prometheus.CounterVec // by agent auth method
	refused     *prometheus.CounterVec // by reason
	signLatency *prometheus.HistogramVec
	requests    *prometheus.CounterVec // by route and status code
}

// NewMetrics registers the metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricIssued, Help: "AATs issued, by how the agent authenticated.",
		}, []string{"method"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRefused, Help: "Token requests refused, by OAuth error and reason.",
		}, []string{"error", "reason"}),
		signLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: metricSignLatency, Help: "Latency of signing operations, by signer.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1, 2.5},
		}, []string{"signer", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRequests, Help: "HTTP requests, by route and status code.",
		}, []string{"route", "code"}),
	}
	m.Registry.MustRegister(m.issued, m.refused, m.signLatency, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// InstrumentSigner returns s with each Sign timed under the label name
// ("local" or "vault").
func (m *Metrics) InstrumentSigner(name string, s signer.Signer) signer.Signer {
	return timedSigner{Signer: s, name: name, m: m}
}

type timedSigner struct {
	signer.Signer
	name string
	m    *Metrics
}

func (t timedSigner) Sign(ctx context.Context, kid string, input []byte) ([]byte, error) {
	start := time.Now()
	sig, err := t.Signer.Sign(ctx, kid, input)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.m.signLatency.WithLabelValues(t.name, outcome).Observe(time.Since(start).Seconds())
	return sig, err
}

// Healthy passes readiness probes through to the wrapped signer.
func (t timedSigner) Healthy(ctx context.Context) error {
	if hc, ok := t.Signer.(signer.HealthChecker); ok {
		return hc.Healthy(ctx)
	}
	return nil
}
