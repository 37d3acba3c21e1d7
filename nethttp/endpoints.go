package nethttp

import (
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/respbuf"
)

// Token returns the handler of the token endpoint (RFC 6749 §3.2). Mount it
// for every method, mux.Handle("/oauth/token", nethttp.Token(srv)): the
// Server answers a method other than POST with a JSON 405 and no-store.
// Everything it does is configured on the Server ([oauth2server.Options]).
func Token(srv *oauth2server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := srv.Token(r)
		if err != nil {
			writeError(w, r, srv, err)
			return
		}
		buf := respbuf.Get()
		defer respbuf.Put(buf)
		b, err := resp.AppendJSON(*buf) // no reflection, a pooled buffer
		*buf = b[:0]
		if err != nil {
			writeError(w, r, srv, oerrors.ServerError(err))
			return
		}
		if resp.DPoPNonce != "" {
			w.Header().Set("DPoP-Nonce", resp.DPoPNonce) // RFC 9449 §8.2
		}
		write(w, http.StatusOK, b)
	})
}

// Revoke returns the handler of the revocation endpoint (RFC 7009). Mount
// it for every method, mux.Handle("/oauth/revoke", nethttp.Revoke(srv)), as
// [Token]. Success is 200 with an empty body (and so no Content-Type), also
// for an unknown token (RFC 7009 §2.2).
func Revoke(srv *oauth2server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := srv.Revoke(r); err != nil {
			writeError(w, r, srv, err)
			return
		}
		write(w, http.StatusOK, nil)
	})
}

// Introspect returns the handler of the introspection endpoint (RFC 7662).
// Mount it for every method, mux.Handle("/oauth/introspect",
// nethttp.Introspect(srv)), as [Token]. Only clients with
// [oauth2server.Client.Introspect] may call it.
func Introspect(srv *oauth2server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := srv.Introspect(r)
		if err != nil {
			writeError(w, r, srv, err)
			return
		}
		writeJSON(w, r, srv, resp)
	})
}

// DeviceAuthorization returns the handler of the device authorization
// endpoint (RFC 8628 §3.1). Mount it for every method, as [Token], only
// when srv.DeviceAuthorizationEnabled():
//
//	mux.Handle("/oauth/device_authorization", nethttp.DeviceAuthorization(srv))
//
// The response carries the device code, so it is sent with Cache-Control:
// no-store like a token response.
func DeviceAuthorization(srv *oauth2server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := srv.DeviceAuthorization(r)
		if err != nil {
			writeError(w, r, srv, err)
			return
		}
		writeJSON(w, r, srv, resp)
	})
}
