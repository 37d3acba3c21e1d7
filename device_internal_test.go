package oauth2server

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bytes 240..255 would make the first 16 letters likelier than the last
// four if reduced modulo 20; they are skipped instead.
func TestGenerateUserCodeRejectsBiasedBytes(t *testing.T) {
	src := []byte{255, 240, 0, 19, 20, 239, 241, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	code, err := generateUserCode(bytes.NewReader(src))
	require.NoError(t, err)
	// 0->B 19->Z 20->B 239->Z(239%20=19) then 1..4 -> C D F G
	assert.Equal(t, "BZBZ-CDFG", code)
}

func TestGenerateUserCodeShortRead(t *testing.T) {
	_, err := generateUserCode(bytes.NewReader([]byte{1, 2, 3}))
	assert.Error(t, err)
}

// The distribution of letters is uniform within sampling noise.
func TestGenerateUserCodeUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 5000
	for range n {
		c, err := generateUserCode(nil)
		require.NoError(t, err)
		for i := 0; i < len(c); i++ {
			if c[i] != '-' {
				counts[c[i]]++
			}
		}
	}
	require.Len(t, counts, len(UserCodeAlphabet))
	want := float64(n*userCodeLen) / float64(len(UserCodeAlphabet)) // 2000
	for l, got := range counts {
		// 2000 ± 6 sigma (sigma ≈ 43.6).
		assert.InDelta(t, want, float64(got), 262, "letter %c", l)
	}
}
