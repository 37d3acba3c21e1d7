package errors_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// The codes of RFC 9126, RFC 9449 and RFC 8707 carry their code and
// status, and an ASCII description.
func TestSenderConstraintSentinels(t *testing.T) {
	var testCases = []struct {
		givenErr     *oautherrors.Error
		expectCode   string
		expectStatus int
	}{
		{oautherrors.ErrInvalidRequestURI, "invalid_request_uri", http.StatusBadRequest},
		{oautherrors.ErrInvalidDPoPProof, "invalid_dpop_proof", http.StatusBadRequest},
		{oautherrors.ErrUseDPoPNonce, "use_dpop_nonce", http.StatusBadRequest},
		{oautherrors.ErrInvalidTarget, "invalid_target", http.StatusBadRequest},
	}
	for _, tc := range testCases {
		t.Run(tc.expectCode, func(t *testing.T) {
			assert.Equal(t, tc.expectCode, tc.givenErr.Code)
			assert.Equal(t, tc.expectStatus, tc.givenErr.Status)
			for _, c := range tc.givenErr.Description {
				assert.True(t, c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e),
					"description character %q outside RFC 6749 Appendix A.8", c)
			}
		})
	}
}
