// Package registrytest is the conformance suite every registry.Store
// implementation must pass. Tests of an implementation call Run with a
// constructor for a fresh, empty store.
package registrytest
