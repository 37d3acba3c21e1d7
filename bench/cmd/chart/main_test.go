package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The feature table subtracts the request without the feature from the
// request with it and divides by the raw row, in wall and CPU time, and
// marks the target by both.
func TestWriteFeatures(t *testing.T) {
	in := `
BenchmarkIDToken/alg=EdDSA/openid=no-2    20000  10000 ns/op  12000 cpu-ns/op  5000 B/op  35 allocs/op
BenchmarkIDToken/alg=EdDSA/openid=yes-2   20000  37000 ns/op  41000 cpu-ns/op  6000 B/op  38 allocs/op
BenchmarkIDToken/alg=EdDSA/raw=signature-2 20000 25000 ns/op  25000 cpu-ns/op   536 B/op   4 allocs/op
BenchmarkDPoPProof/where=token/alg=RS256/impl=oauth2server-2 4000 50000 ns/op 50000 cpu-ns/op 7289 B/op 72 allocs/op
BenchmarkDPoPProof/where=token/alg=RS256/impl=golang-jwt-2   4000 40000 ns/op 40000 cpu-ns/op 6144 B/op 66 allocs/op
BenchmarkPAR/impl=oauth2server-2 4000 12000 ns/op 13000 cpu-ns/op 3000 B/op 40 allocs/op
BenchmarkIDTokenInterleaved/alg=EdDSA-2 20000 73000 ns/op 1.04 idtoken/raw 37000 openid-ns/op 10500 plain-ns/op 25000 raw-ns/op 10708 B/op 72 allocs/op
BenchmarkIDTokenInterleaved/alg=EdDSA-2 20000 75000 ns/op 1.06 idtoken/raw 38000 openid-ns/op 11000 plain-ns/op 25000 raw-ns/op 10708 B/op 72 allocs/op
BenchmarkIDTokenInterleaved/alg=EdDSA-2 20000 99000 ns/op 1.20 idtoken/raw 50000 openid-ns/op 10000 plain-ns/op 99000 raw-ns/op 10708 B/op 72 allocs/op
`
	samples, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	var out bytes.Buffer
	writeFeatures(&out, summarize(samples))
	got := out.String()
	for _, want := range []string{
		// (37 − 10) / 25 = 1.08 met; CPU (41 − 12) / 25 = 1.16: one measure
		"| ID token EdDSA: code exchange with openid − without, beside a raw EdDSA signature | 27.00 µs | 25.00 µs | 1.08 | 29.00 µs | 25.00 µs | 1.16 | ≤ 1.10 | shown; the interleaved row judges |",
		// 50 / 40 = 1.25 in both: not met
		"| 1.25 | 50.00 µs | 40.00 µs | 1.25 | ≤ 1.15 | **not met** |",
		"| pushed authorization request (RFC 9126) | 12.00 µs | 13.00 µs | 40 | 3000 |",
		// medians of each metric: (38 − 10.5) / 25 = 1.10
		"| ID token EdDSA, the three requests interleaved in one loop | 27.50 µs | 25.00 µs | 1.10 | – | – | – | ≤ 1.10 | met |",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "RS256: code exchange", "a feature whose rows did not run is listed")
}
