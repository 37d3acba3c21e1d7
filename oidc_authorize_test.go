package oauth2server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

func TestCheckLogin(t *testing.T) {
	e := newOIDCEnv(t, nil)
	alice := &oauth2server.User{ID: aliceID}
	now := e.clock.Now()
	fresh := oauth2server.Authentication{Time: now.Add(-10 * time.Second)}
	old := oauth2server.Authentication{Time: now.Add(-2 * time.Hour)}
	for name, tc := range map[string]struct {
		q       url.Values
		user    *oauth2server.User
		auth    oauth2server.Authentication
		want    oauth2server.Interaction
		errCode string
	}{
		"ok, logged in":                 {url.Values{}, alice, fresh, oauth2server.InteractionNone, ""},
		"ok, plain OAuth needs a user":  {url.Values{"scope": {"read"}}, nil, fresh, oauth2server.InteractionLogin, ""},
		"ok, no user":                   {url.Values{}, nil, fresh, oauth2server.InteractionLogin, ""},
		"ok, prompt=login":              {url.Values{"prompt": {"login"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, prompt=select_account":     {url.Values{"prompt": {"select_account"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, max_age=0":                 {url.Values{"max_age": {"0"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, max_age satisfied":         {url.Values{"max_age": {"60"}}, alice, fresh, oauth2server.InteractionNone, ""},
		"ok, max_age exceeded":          {url.Values{"max_age": {"60"}}, alice, old, oauth2server.InteractionLogin, ""},
		"ok, max_age, no auth time":     {url.Values{"max_age": {"60"}}, alice, oauth2server.Authentication{}, oauth2server.InteractionLogin, ""},
		"nok, prompt=none, no user":     {url.Values{"prompt": {"none"}}, nil, fresh, 0, "login_required"},
		"nok, prompt=none, max_age old": {url.Values{"prompt": {"none"}, "max_age": {"60"}}, alice, old, 0, "login_required"},
		"ok, prompt=none, logged in":    {url.Values{"prompt": {"none"}}, alice, fresh, oauth2server.InteractionNone, ""},
	} {
		t.Run(name, func(t *testing.T) {
			q := tc.q
			if q.Get("scope") == "" {
				q.Set("scope", "openid")
			}
			ar, err := e.validate(q)
			require.NoError(t, err)
			got, err := e.srv.CheckLogin(ar, tc.user, tc.auth)
			if tc.errCode != "" {
				var ae *oauth2server.AuthorizeError
				require.ErrorAs(t, err, &ae)
				assert.False(t, ae.ShowToUser(), "redirected (R-127)")
				assert.Equal(t, tc.errCode, ae.Err.Code)
				u, _ := url.Parse(ae.RedirectURL())
				assert.Equal(t, "xyz", u.Query().Get("state"))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOpenIDRequestValidation(t *testing.T) {
	e := newOIDCEnv(t, nil)
	for name, tc := range map[string]struct {
		q     url.Values
		code  string
		shown bool
	}{
		"nok, prompt none with login": {url.Values{"prompt": {"none login"}}, "invalid_request", false},
		"nok, unknown prompt":         {url.Values{"prompt": {"maybe"}}, "invalid_request", false},
		"nok, max_age negative":       {url.Values{"max_age": {"-1"}}, "invalid_request", false},
		"nok, max_age text":           {url.Values{"max_age": {"soon"}}, "invalid_request", false},
		"nok, nonce too long":         {url.Values{"nonce": {strings.Repeat("n", 513)}}, "invalid_request", false},
		"nok, claims not JSON":        {url.Values{"claims": {"{"}}, "invalid_request", false},
		"nok, claims trailing data":   {url.Values{"claims": {"{} {}"}}, "invalid_request", false},
		"nok, request object":         {url.Values{"request": {"eyJ.x.y"}}, "request_not_supported", false},
		"nok, request_uri not pushed": {url.Values{"request_uri": {"urn:x"}}, "invalid_request_uri", true},
		"nok, id_token_hint forged":   {url.Values{"id_token_hint": {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}}, "invalid_request", false},
		"nok, response_mode unknown":  {url.Values{"response_mode": {"jwt"}}, "invalid_request", true},
	} {
		t.Run(name, func(t *testing.T) {
			q := tc.q
			q.Set("scope", "openid")
			_, err := e.validate(q)
			var ae *oauth2server.AuthorizeError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Err.Code)
			assert.Equal(t, tc.shown, ae.ShowToUser())
		})
	}
}

func TestIDTokenHint(t *testing.T) {
	e := newOIDCEnv(t, nil)
	_, target, err := e.authorize(url.Values{"scope": {"openid"}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	idt := e.exchange(target)["id_token"].(string)
	e.clock.Advance(24 * time.Hour) // expired hints are valid hints

	ar, err := e.validate(url.Values{"scope": {"openid"}, "id_token_hint": {idt}, "prompt": {"none"}})
	require.NoError(t, err)
	assert.Equal(t, aliceID, ar.OpenID.IDTokenHintSubject)
	_, err = e.srv.CheckLogin(ar, &oauth2server.User{ID: aliceID}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	_, err = e.srv.CheckLogin(ar, &oauth2server.User{ID: "u-bob"}, oauth2server.Authentication{Time: e.clock.Now()})
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "login_required", ae.Err.Code, "never a token for another user (R-129)")
}

func TestPromptNoneConsentAndLoginReturn(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ar, err := e.validate(url.Values{"scope": {"openid"}, "prompt": {"none"}})
	require.NoError(t, err)
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, ar.ConsentRequired(), &ae)
	assert.Equal(t, "consent_required", ae.Err.Code)

	ar, err = e.validate(url.Values{"scope": {"openid"}, "prompt": {"login consent"}, "max_age": {"0"}})
	require.NoError(t, err)
	assert.NoError(t, ar.ConsentRequired())
	assert.True(t, ar.MustAskConsent())
	back, err := url.ParseQuery(ar.LoginReturnQuery())
	require.NoError(t, err)
	assert.Equal(t, "consent", back.Get("prompt"), "login is satisfied by the login it asked for")
	assert.False(t, back.Has("max_age"))
	assert.Equal(t, rpID, back.Get("client_id"))
}

func TestFormPostResponseMode(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ar, target, err := e.authorize(url.Values{"scope": {"openid"}, "response_mode": {"form_post"},
		"state": {`"><script>x</script>`}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	assert.Equal(t, oauth2server.ResponseModeFormPost, oauth2server.ResponseModeOf(ar, nil))
	rec := httptest.NewRecorder()
	oauth2server.AuthorizeResponse(rec, http.StatusSeeOther, target, ar.ResponseMode)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "form-action https://app.example")
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
	body := rec.Body.String()
	assert.Contains(t, body, `action="`+testRedirect+`"`)
	assert.Contains(t, body, `name="code"`)
	assert.NotContains(t, body, "<script>x", "values are escaped (R-140)")
	assert.Empty(t, rec.Header().Get("Location"))

	// An error of a form_post request is posted too.
	_, err = e.validate(url.Values{"scope": {"openid"}, "response_mode": {"form_post"}, "prompt": {"bogus"}})
	assert.Equal(t, oauth2server.ResponseModeFormPost, oauth2server.ResponseModeOf(nil, err))
}

func TestAuthorizeRequestByPost(t *testing.T) {
	e := newOIDCEnv(t, nil)
	q := url.Values{"client_id": {rpID}, "response_type": {"code"}, "redirect_uri": {testRedirect}, "state": {"xyz"},
		"scope": {"openid"}, "nonce": {testNonce}, "code_challenge": {oauth2server.RFC7636Challenge}, "code_challenge_method": {"S256"}}
	r := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(q.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.True(t, oauth2server.IsAuthorizePost(r))
	ar, err := e.srv.ValidateAuthorizeRequest(r)
	require.NoError(t, err)
	assert.Equal(t, testNonce, ar.OpenID.Nonce)

	r = httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(q.Encode()+"&state=again"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err = e.srv.ValidateAuthorizeRequest(r)
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.ShowToUser(), "a bad body is shown, not redirected")

	r = httptest.NewRequest(http.MethodPost, "/authorize?"+q.Encode(), strings.NewReader("decision=approve"))
	assert.False(t, oauth2server.IsAuthorizePost(r), "a POST with a query is the consent form")
}
