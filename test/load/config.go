package load

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a run. Zero fields take the defaults of Defaults.
type Config struct {
	// Rate is the number of calls scheduled per second (open loop).
	Rate int
	// Duration is how long calls are scheduled for.
	Duration time.Duration
	// Concurrency bounds the calls in flight; calls due while all are
	// busy wait in a queue (and their latency counts the wait).
	Concurrency int
	// Sessions is the number of MCP sessions the calls are spread over.
	Sessions int
	// SampleEvery is the interval of the enforcer's memory samples.
	SampleEvery time.Duration
	// Warmup is the part of the run after which memory must stay flat:
	// growth is measured from the first sample at or after it.
	Warmup time.Duration
	// MaxGrowthBytes and MaxGrowthRatio bound the enforcer's RSS growth
	// after the warm-up: the run fails when the last sample exceeds the
	// first by more than the larger of the two.
	MaxGrowthBytes int64
	MaxGrowthRatio float64
	// Enforcer is the aip-enforcer binary.
	Enforcer string
	// RedisServer is the redis-server binary.
	RedisServer string
	// Dir holds the run's files (configs, audit log, logs); it is
	// removed at the end unless KeepDir.
	Dir     string
	KeepDir bool
}

// Defaults are the settings of `make soak`: 1,000 calls/s for 10 minutes,
// at most 256 calls in flight.
var Defaults = Config{
	Rate: 1000, Duration: 10 * time.Minute, Concurrency: 256, Sessions: 16,
	SampleEvery: 10 * time.Second, Warmup: time.Minute,
	MaxGrowthBytes: 32 << 20, MaxGrowthRatio: 0.25,
}

func (c Config) withDefaults() Config {
	d := Defaults
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.Rate, d.Rate)
	set(&c.Concurrency, d.Concurrency)
	set(&c.Sessions, d.Sessions)
	if c.Duration == 0 {
		c.Duration = d.Duration
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = d.SampleEvery
	}
	if c.Warmup == 0 {
		c.Warmup = min(d.Warmup, c.Duration/5)
	}
	if c.MaxGrowthBytes == 0 {
		c.MaxGrowthBytes = d.MaxGrowthBytes
	}
	if c.MaxGrowthRatio == 0 {
		c.MaxGrowthRatio = d.MaxGrowthRatio
	}
	return c
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	if c.Rate < 1 || c.Rate > 100_000 {
		errs = append(errs, fmt.Errorf("rate: %d outside [1, 100000] calls/s", c.Rate))
	}
	if c.Duration < time.Second {
		errs = append(errs, fmt.Errorf("duration: %s is under 1s", c.Duration))
	}
	if c.Concurrency < 1 || c.Concurrency > 10_000 {
		errs = append(errs, fmt.Errorf("concurrency: %d outside [1, 10000]", c.Concurrency))
	}
	if c.Sessions < 1 || c.Sessions > c.Concurrency {
		errs = append(errs, fmt.Errorf("sessions: %d outside [1, concurrency]", c.Sessions))
	}
	if c.SampleEvery < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("sample every: %s is under 100ms", c.SampleEvery))
	}
	if c.Warmup < 0 || c.Warmup >= c.Duration {
		errs = append(errs, fmt.Errorf("warmup: %s must be in [0, duration)", c.Warmup))
	}
	if c.MaxGrowthBytes < 0 || c.MaxGrowthRatio < 0 {
		errs = append(errs, errors.New("max growth: must not be negative"))
	}
	if c.Enforcer == "" {
		errs = append(errs, errors.New("enforcer: the aip-enforcer binary is required"))
	}
	if c.RedisServer == "" {
		errs = append(errs, errors.New("redis server: the redis-server binary is required"))
	}
	return errors.Join(errs...)
}
