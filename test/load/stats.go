package load

import (
	"math"
	"slices"
	"time"
)

// percentiles the report shows.
var quantiles = []float64{0.5, 0.9, 0.99, 0.999}

// latencies summarizes durations: the quantiles and the max.
type latencies struct {
	N      int
	Values []time.Duration // at quantiles
	Max    time.Duration
}

func summarize(d []time.Duration) latencies {
	s := latencies{N: len(d), Values: make([]time.Duration, len(quantiles))}
	if len(d) == 0 {
		return s
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	for i, q := range quantiles {
		s.Values[i] = sorted[max(0, int(math.Ceil(q*float64(len(sorted))))-1)]
	}
	s.Max = sorted[len(sorted)-1]
	return s
}
