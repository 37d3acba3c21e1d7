package interop

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertRedirectError checks an error redirected to the relying party.
func assertRedirectError(t *testing.T, redirect *url.URL, r authRequest, code, issuer string) {
	t.Helper()
	q := redirect.Query()
	assert.Equal(t, code, q.Get("error"), "%s", redirect)
	assert.Equal(t, r.state, q.Get("state"))
	assert.Equal(t, issuer, q.Get("iss"))
	assert.Empty(t, q.Get("code"))
}

// prompt=none, prompt=login and max_age through the example's real pages,
// judged by what go-oidc verifies in the ID tokens: prompt=none never shows
// a page and redirects login_required or consent_required;
// prompt=login shows the login page although the session is live, and the
// new login moves auth_time; a login older than max_age is asked
// again, a younger one is not, and auth_time is the password login's, not
// the last request's.
func TestPromptAndMaxAge(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// The confidential client's consent is remembered; the public one's,
	// on a loopback redirect URI any local program could take, is asked
	// for every time.
	conf := rpClient("conf-rp", "conf-secret", "http://127.0.0.1:1/conf/callback")
	pub := rpClient("public-rp", "", "http://127.0.0.1:1/public/callback")
	o := startOP(t, conf, pub)
	confRP := newGoOIDC(t, ctx, o.issuer, conf)
	pubRP := newGoOIDC(t, ctx, o.issuer, pub)
	ua := newUserAgent(t)

	r := newAuthRequest()
	redirect := ua.visit(confRP.url(r, "prompt", "none"), conf.Redirect[0])
	assert.Empty(t, ua.pages, "prompt=none shows no page")
	assertRedirectError(t, redirect, r, "login_required", o.issuer)

	r = newAuthRequest()
	redirect = ua.visit(confRP.url(r), conf.Redirect[0])
	require.Equal(t, []string{"login", "consent"}, ua.pages)
	_, idt := confRP.redeem(t, ctx, r, redirect)
	first := claimsOf(t, idt).AuthTime

	// Signed in, consent remembered: prompt=none succeeds without a page,
	// and the ID token says when the user logged in.
	r = newAuthRequest()
	redirect = ua.visit(confRP.url(r, "prompt", "none"), conf.Redirect[0])
	assert.Empty(t, ua.pages)
	_, idt = confRP.redeem(t, ctx, r, redirect)
	assert.Equal(t, first, claimsOf(t, idt).AuthTime)

	// The public client needs the consent page, which prompt=none forbids.
	r = newAuthRequest()
	redirect = ua.visit(pubRP.url(r, "prompt", "none"), pub.Redirect[0])
	assert.Empty(t, ua.pages)
	assertRedirectError(t, redirect, r, "consent_required", o.issuer)

	// prompt=login: the login page again, prefilled with the session's
	// user; auth_time (whole seconds) moves.
	time.Sleep(1100 * time.Millisecond)
	r = newAuthRequest()
	redirect = ua.visit(confRP.url(r, "prompt", "login"), conf.Redirect[0])
	assert.Equal(t, []string{"login"}, ua.pages, "the login page although the session is live")
	assert.Equal(t, []string{username}, ua.prefills)
	_, idt = confRP.redeem(t, ctx, r, redirect)
	second := claimsOf(t, idt).AuthTime
	assert.Greater(t, second, first)

	// max_age: a login older than a second is asked for again; then one
	// of ten minutes is young enough, and auth_time stays.
	time.Sleep(1100 * time.Millisecond)
	r = newAuthRequest()
	redirect = ua.visit(confRP.url(r, "max_age", "1"), conf.Redirect[0])
	assert.Equal(t, []string{"login"}, ua.pages, "max_age=1")
	_, idt = confRP.redeem(t, ctx, r, redirect)
	third := claimsOf(t, idt).AuthTime
	assert.Greater(t, third, second)

	r = newAuthRequest()
	redirect = ua.visit(confRP.url(r, "max_age", "600"), conf.Redirect[0])
	assert.Empty(t, ua.pages, "max_age=600")
	_, idt = confRP.redeem(t, ctx, r, redirect)
	assert.Equal(t, third, claimsOf(t, idt).AuthTime, "R-122: auth_time with max_age")

	// login_hint prefills the login page; id_token_hint of the signed-in
	// user with prompt=none passes silently.
	r = newAuthRequest()
	fresh := newUserAgent(t)
	redirect = fresh.visit(confRP.url(r, "login_hint", username), conf.Redirect[0])
	assert.Equal(t, []string{"login"}, fresh.pages, "remembered consent")
	assert.Equal(t, []string{username}, fresh.prefills)
	tok, _ := confRP.redeem(t, ctx, r, redirect)
	hint, _ := tok.Extra("id_token").(string)
	r = newAuthRequest()
	redirect = fresh.visit(confRP.url(r, "prompt", "none", "id_token_hint", hint), conf.Redirect[0])
	assert.Empty(t, fresh.pages)
	confRP.redeem(t, ctx, r, redirect)
}
