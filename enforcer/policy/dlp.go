package policy

import (
	"errors"

	"github.com/aip-project/aip/enforcer/dlp"
	"github.com/aip-project/aip/internal/keypath"
)

// ScannerConfig converts the dlp section into the enforcer/dlp Config
// that dlp.Compile takes. Validation compiles exactly this, so a policy
// that parses always yields a Config that compiles.
func (d DLP) ScannerConfig() dlp.Config {
	cfg := dlp.Config{
		Enabled:        d.Enabled,
		ScanRequests:   d.ScanRequests,
		OnRequestMatch: dlp.Action(d.OnRequestMatch),
		DetectEncoding: d.DetectEncoding,
		Patterns:       make([]dlp.Pattern, 0, len(d.Patterns)),
	}
	for _, p := range d.Patterns {
		cfg.Patterns = append(cfg.Patterns, dlp.Pattern{Name: p.Name, Regex: p.Regex, Scope: dlp.Scope(p.Scope)})
	}
	return cfg
}

// validateDLP checks the dlp section by compiling it with enforcer/dlp,
// so lint, load and reload agree with what the enforcer accepts. A pattern
// without regex names a built-in (dlp.Builtins).
func validateDLP(d *DLP) keypath.Problems {
	_, err := dlp.Compile(d.ScannerConfig())
	if err == nil {
		return nil
	}
	var ps keypath.Problems
	var cerr *dlp.ConfigError
	if !errors.As(err, &cerr) {
		ps.Add("spec.dlp", "%v", err)
		return ps
	}
	ps.AddUnder("spec.dlp", cerr.Problems)
	return ps
}
