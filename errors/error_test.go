package errors_test

import (
	stderrors "errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// every sentinel carries its RFC code and HTTP status, and an
// ASCII description without '"' or '\'.
func TestSentinels(t *testing.T) {
	var testCases = []struct {
		name         string
		givenErr     *oautherrors.Error
		expectCode   string
		expectStatus int
	}{
		{"invalid_request", oautherrors.ErrInvalidRequest, "invalid_request", http.StatusBadRequest},
		{"invalid_client", oautherrors.ErrInvalidClient, "invalid_client", http.StatusUnauthorized},
		{"invalid_grant", oautherrors.ErrInvalidGrant, "invalid_grant", http.StatusBadRequest},
		{"unauthorized_client", oautherrors.ErrUnauthorizedClient, "unauthorized_client", http.StatusBadRequest},
		{"unsupported_grant_type", oautherrors.ErrUnsupportedGrantType, "unsupported_grant_type", http.StatusBadRequest},
		{"invalid_scope", oautherrors.ErrInvalidScope, "invalid_scope", http.StatusBadRequest},
		{"access_denied", oautherrors.ErrAccessDenied, "access_denied", http.StatusBadRequest},
		{"unsupported_response_type", oautherrors.ErrUnsupportedResponseType, "unsupported_response_type", http.StatusBadRequest},
		{"server_error", oautherrors.ErrServerError, "server_error", http.StatusServiceUnavailable},
		{"temporarily_unavailable", oautherrors.ErrTemporarilyUnavailable, "temporarily_unavailable", http.StatusServiceUnavailable},
		{"invalid_token", oautherrors.ErrInvalidToken, "invalid_token", http.StatusUnauthorized},
		{"insufficient_scope", oautherrors.ErrInsufficientScope, "insufficient_scope", http.StatusForbidden},
		{"unsupported_token_type", oautherrors.ErrUnsupportedTokenType, "unsupported_token_type", http.StatusBadRequest},
		{"authorization_pending", oautherrors.ErrAuthorizationPending, "authorization_pending", http.StatusBadRequest},
		{"slow_down", oautherrors.ErrSlowDown, "slow_down", http.StatusBadRequest},
		{"expired_token", oautherrors.ErrExpiredToken, "expired_token", http.StatusBadRequest},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expectCode, tc.givenErr.Code)
			assert.Equal(t, tc.expectStatus, tc.givenErr.Status)
			assert.Empty(t, tc.givenErr.URI)
			assert.Nil(t, tc.givenErr.Unwrap())
			require.NotEmpty(t, tc.givenErr.Description)
			for _, c := range tc.givenErr.Description {
				assert.True(t, c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e),
					"description character %q outside RFC 6749 Appendix A.8", c)
			}
			assert.Equal(t, tc.expectCode+": "+tc.givenErr.Description, tc.givenErr.Error())
		})
	}
}

// The With... builders return copies: a sentinel is never changed.
func TestBuildersCopyOnWrite(t *testing.T) {
	before := *oautherrors.ErrInvalidGrant
	cause := stderrors.New("db down")

	d := oautherrors.ErrInvalidGrant.WithDescription("The code expired.")
	df := oautherrors.ErrInvalidGrant.WithDescriptionf("The code expired %d seconds ago.", 5)
	u := oautherrors.ErrInvalidGrant.WithURI("https://example.com/err")
	s := oautherrors.ErrInvalidGrant.WithStatus(http.StatusTeapot)
	c := oautherrors.ErrInvalidGrant.WithCause(cause)

	assert.Equal(t, before, *oautherrors.ErrInvalidGrant, "sentinel mutated")
	for _, e := range []*oautherrors.Error{d, df, u, s, c} {
		assert.NotSame(t, oautherrors.ErrInvalidGrant, e)
		assert.Equal(t, "invalid_grant", e.Code)
	}
	assert.Equal(t, "The code expired.", d.Description)
	assert.Equal(t, "The code expired 5 seconds ago.", df.Description)
	assert.Equal(t, "https://example.com/err", u.URI)
	assert.Equal(t, before.Description, u.Description)
	assert.Equal(t, http.StatusTeapot, s.Status)
	assert.Equal(t, http.StatusBadRequest, c.Status)
	assert.Same(t, cause, c.Unwrap())
	assert.Nil(t, d.Unwrap())

	// Chained builders keep earlier changes and still leave the first copy alone.
	dc := d.WithCause(cause)
	assert.Equal(t, "The code expired.", dc.Description)
	assert.Nil(t, d.Unwrap())
	assert.Equal(t, "invalid_grant: The code expired.: db down", dc.Error())
}

func TestErrorWithoutDescription(t *testing.T) {
	e := &oautherrors.Error{Code: "custom"}
	assert.Equal(t, "custom", e.Error())
}

func TestIsComparesCode(t *testing.T) {
	errCanceled := stderrors.New("context canceled")
	var testCases = []struct {
		name     string
		whenErr  error
		target   error
		expectIs bool
	}{
		{"ok, sentinel itself", oautherrors.ErrInvalidGrant, oautherrors.ErrInvalidGrant, true},
		{"ok, copy with description", oautherrors.ErrInvalidGrant.WithDescription("x"), oautherrors.ErrInvalidGrant, true},
		{"ok, copy with status", oautherrors.ErrInvalidRequest.WithStatus(413), oautherrors.ErrInvalidRequest, true},
		{"ok, wrapped by fmt", fmt.Errorf("ctx: %w", oautherrors.ErrInvalidScope), oautherrors.ErrInvalidScope, true},
		{"ok, cause is found through Unwrap", oautherrors.ServerError(errCanceled), errCanceled, true},
		{"nok, other code", oautherrors.ErrInvalidGrant, oautherrors.ErrInvalidRequest, false},
		{"nok, plain error target", oautherrors.ErrInvalidGrant, stderrors.New("invalid_grant"), false},
		{"nok, typed nil target", oautherrors.ErrInvalidGrant, (*oautherrors.Error)(nil), false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expectIs, stderrors.Is(tc.whenErr, tc.target))
		})
	}
}

func TestFrom(t *testing.T) {
	t.Run("ok, nil", func(t *testing.T) {
		assert.Nil(t, oautherrors.From(nil))
	})
	t.Run("ok, *Error returned as is", func(t *testing.T) {
		e := oautherrors.ErrInvalidScope.WithDescription("x")
		assert.Same(t, e, oautherrors.From(e))
	})
	t.Run("ok, *Error found in the chain", func(t *testing.T) {
		e := oautherrors.ErrInvalidGrant.WithDescription("y")
		got := oautherrors.From(fmt.Errorf("wrap: %w", e))
		assert.Same(t, e, got)
	})
	t.Run("ok, plain error becomes server_error and hides its text", func(t *testing.T) {
		cause := stderrors.New("pq: password authentication failed for user admin")
		got := oautherrors.From(cause)
		require.NotNil(t, got)
		assert.Equal(t, "server_error", got.Code)
		assert.Equal(t, http.StatusServiceUnavailable, got.Status)
		assert.Equal(t, oautherrors.ErrServerError.Description, got.Description)
		assert.NotContains(t, got.Description, "pq:")
		assert.Same(t, cause, got.Unwrap())
		assert.True(t, stderrors.Is(got, cause))
		assert.Nil(t, oautherrors.ErrServerError.Unwrap(), "sentinel mutated")
	})
}

func TestServerError(t *testing.T) {
	cause := stderrors.New("boom")
	e := oautherrors.ServerError(cause)
	assert.Equal(t, "server_error", e.Code)
	assert.Equal(t, http.StatusServiceUnavailable, e.Status)
	assert.Same(t, cause, stderrors.Unwrap(e))
}

func TestIsServerError(t *testing.T) {
	var testCases = []struct {
		name    string
		whenErr error
		expect  bool
	}{
		{"ok, server_error", oautherrors.ErrServerError, true},
		{"ok, temporarily_unavailable", oautherrors.ErrTemporarilyUnavailable, true},
		{"ok, plain error", stderrors.New("db"), true},
		{"ok, wrapped server error", fmt.Errorf("w: %w", oautherrors.ServerError(nil)), true},
		{"nok, nil", nil, false},
		{"nok, invalid_request", oautherrors.ErrInvalidRequest, false},
		{"nok, invalid_client", oautherrors.ErrInvalidClient, false},
		{"nok, 413 invalid_request", oautherrors.ErrInvalidRequest.WithStatus(http.StatusRequestEntityTooLarge), false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, oautherrors.IsServerError(tc.whenErr))
		})
	}
}

func TestWithRetryAfter(t *testing.T) {
	e := oautherrors.ErrSlowDown.WithRetryAfter(1500 * time.Millisecond)
	assert.Zero(t, oautherrors.ErrSlowDown.RetryAfter, "the sentinel is not changed")
	assert.Equal(t, 1500*time.Millisecond, e.RetryAfter)
	assert.EqualValues(t, 2, e.RetryAfterSeconds(), "rounded up")
	assert.EqualValues(t, 1, oautherrors.ErrSlowDown.WithRetryAfter(time.Nanosecond).RetryAfterSeconds())
	assert.Zero(t, oautherrors.ErrSlowDown.RetryAfterSeconds())
	assert.Zero(t, oautherrors.ErrSlowDown.WithRetryAfter(-time.Second).RetryAfterSeconds())
}
