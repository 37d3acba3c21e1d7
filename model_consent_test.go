package oauth2server_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
)

func TestConsentCovers(t *testing.T) {
	var testCases = []struct {
		name        string
		givenScope  []string // nil: no consent at all
		whenScope   []string
		expectCover bool
	}{
		{name: "ok, same scope", givenScope: []string{"read", "write"}, whenScope: []string{"read", "write"}, expectCover: true},
		{name: "ok, narrower scope in another order", givenScope: []string{"read", "write"}, whenScope: []string{"write"}, expectCover: true},
		{name: "ok, empty request with a consent", givenScope: []string{"read"}, whenScope: nil, expectCover: true},
		{name: "nok, wider scope", givenScope: []string{"read"}, whenScope: []string{"read", "write"}},
		{name: "nok, no consent", givenScope: nil, whenScope: []string{"read"}},
		{name: "nok, no consent and empty request", givenScope: nil, whenScope: nil},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			var consent *oauth2server.Consent
			if tc.givenScope != nil {
				consent = &oauth2server.Consent{ClientID: "c", UserID: "u", Scope: tc.givenScope}
			}
			assert.Equal(t, tc.expectCover, oauth2server.ConsentCovers(consent, tc.whenScope))
		})
	}
}
