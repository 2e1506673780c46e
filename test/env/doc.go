// Package env starts the real components aip's integration tests run
// against — Redis, a SPIRE server and agent, a Vault dev server with transit,
// Dex, and the official MCP servers — on free loopback ports in temporary
// directories, exactly as a user runs them.
//
// StartCIIssuer is the exception: an in-process OIDC issuer standing in for
// GitHub Actions and GitLab CI, whose tokens Dex cannot mint (ciissuer.go).
//
// Each component starts at most once per test binary and is shared; call
// Main from TestMain so they are stopped when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(env.Main(m)) }
//
// A missing component is a test failure that says how to get it
// (`make tools`), never a silent skip. Under `go test -short` the
// constructors skip the calling test, for a quick local loop; CI never
// passes -short. When a test fails, the logs of the components it used are
// printed.
package env
