// Package bench holds benchmarks that run the same OAuth 2.0 work through
// oauth2server, github.com/go-oauth2/oauth2/v4 and github.com/ory/fosite,
// in process, through an Echo router and an httptest.ResponseRecorder.
//
// It is its own module so that the peers never enter the library's go.mod.
// Run it with `make bench` from the repository root, which also writes
// docs/performance.md. The benchmark names use key=value parts
// (BenchmarkToken/grant=client_credentials/impl=fosite) so that benchstat
// can put the implementations side by side.
package bench
