// Package revocationtest is the conformance suite every revocation.Store
// must pass. Tests of an implementation call Run with a constructor for a
// fresh, empty store.
package revocationtest
