package oauth2server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
)

func TestS256ChallengeRFC7636AppendixB(t *testing.T) {
	//
	assert.Equal(t, oauth2server.RFC7636Challenge, oauth2server.S256Challenge(oauth2server.RFC7636Verifier))
	assert.True(t, oauth2server.ValidPKCEString(oauth2server.RFC7636Verifier))
	assert.True(t, oauth2server.ValidPKCEString(oauth2server.RFC7636Challenge))
}

func TestValidPKCEString(t *testing.T) {
	var testCases = []struct {
		name   string
		given  string
		expect bool
	}{
		{"ok, 43 characters", strings.Repeat("a", 43), true},
		{"ok, 128 characters", strings.Repeat("Z", 128), true},
		{"ok, every unreserved character", "AZaz09-._~" + strings.Repeat("x", 33), true},
		{"nok, 42 characters", strings.Repeat("a", 42), false},
		{"nok, 129 characters", strings.Repeat("a", 129), false},
		{"nok, plus sign", "+" + strings.Repeat("a", 42), false},
		{"nok, slash", "/" + strings.Repeat("a", 42), false},
		{"nok, space", " " + strings.Repeat("a", 42), false},
		{"nok, non-ASCII", "é" + strings.Repeat("a", 42), false},
		{"nok, empty", "", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, oauth2server.ValidPKCEString(tc.given))
		})
	}
}
