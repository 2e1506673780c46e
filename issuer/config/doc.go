// Package config reads the aip-issuer configuration: strict YAML (unknown
// keys are errors), defaults filled in one place (Defaults), and validation
// that reports every problem at once with its key path, converted once into
// the typed runtime Config.
//
// It never reads secrets into error messages: a Vault token or Redis
// password read from a file is kept in Config and never printed.
package config
