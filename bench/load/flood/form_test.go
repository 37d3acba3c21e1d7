package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The forms the legitimate client must get through, as the example renders
// them today and as a reworked template might: the tool never needs a
// server for these.
func TestNextForm(t *testing.T) {
	page, _ := url.Parse("http://127.0.0.1:9096/login?return_to=%2Foauth%2Fauthorize%3Fa%3D1")
	tests := []struct {
		name         string
		givenPage    string
		expectMethod string
		expectAction string
		expectBody   url.Values
		expectErr    bool
	}{
		{
			name: "ok, the example's login page",
			givenPage: `<title>Sign in · oauth2server example</title>
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="abc-123">
<input type="hidden" name="return_to" value="/oauth/authorize?a=1&amp;b=2">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" value="" required autofocus>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>`,
			expectMethod: "POST",
			expectAction: "http://127.0.0.1:9096/login",
			expectBody: url.Values{"csrf_token": {"abc-123"}, "return_to": {"/oauth/authorize?a=1&b=2"},
				"username": {"demo"}, "password": {"pw"}},
		},
		{
			name: "ok, login without a CSRF field (token in a cookie), other attribute order and quotes",
			givenPage: `<FORM action='' METHOD=POST class=login><input name=email type=email>
<input type='password' name='pass'><input type="submit" value="Go"></FORM>`,
			expectMethod: "POST",
			expectAction: page.String(),
			expectBody:   url.Values{"email": {"demo"}, "pass": {"pw"}},
		},
		{
			name: "ok, the example's consent page beside a logout form",
			givenPage: `<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="x"><button type="submit">Sign out</button></form>
<form method="post" action="/oauth/authorize?client_id=demo-app&amp;scope=read+write">
<input type="hidden" name="csrf_token" value="1700000000.mac">
<div class="buttons">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
</div>
</form>`,
			expectMethod: "POST",
			expectAction: "http://127.0.0.1:9096/oauth/authorize?client_id=demo-app&scope=read+write",
			expectBody:   url.Values{"csrf_token": {"1700000000.mac"}, "decision": {"approve"}},
		},
		{
			name: "ok, consent with scope checkboxes: the checked ones are sent",
			givenPage: `<form method="post" action="/oauth/authorize?x=1">
<input type="checkbox" name="scope" value="read" checked><input type="checkbox" name="scope" value="write">
<input type="submit" name="allow" value="Allow"></form>`,
			expectMethod: "POST",
			expectAction: "http://127.0.0.1:9096/oauth/authorize?x=1",
			expectBody:   url.Values{"scope": {"read"}, "allow": {"Allow"}},
		},
		{
			name:      "nok, an error page",
			givenPage: `<title>Form expired</title><p class="error">The form was not sent from this site.</p><a href="/">Home</a>`,
			expectErr: true,
		},
		{
			name:      "nok, consent without an approving button",
			givenPage: `<form method="post"><button type="submit" name="decision" value="deny">Deny</button></form>`,
			expectErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, action, body, err := nextForm([]byte(tc.givenPage), page, "demo", "pw")
			if tc.expectErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expectMethod, method)
			assert.Equal(t, tc.expectAction, action)
			assert.Equal(t, tc.expectBody, body)
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, percentile(d, 0.5))
	assert.Equal(t, 99*time.Millisecond, percentile(d, 0.99))
	assert.Equal(t, 100*time.Millisecond, percentile(d, 1))
	assert.Equal(t, time.Duration(0), percentile(nil, 0.99))
	assert.Equal(t, 100*time.Millisecond, d[0], "the input is not reordered")
}

func TestRangeAddr(t *testing.T) {
	assert.Equal(t, "198.18.0.1", rangeAddr(198, 18, 0))
	assert.Equal(t, "198.18.0.254", rangeAddr(198, 18, 253))
	assert.Equal(t, "198.18.1.1", rangeAddr(198, 18, 254))
	assert.Equal(t, "198.19.0.1", rangeAddr(198, 19, 256*254))
}
