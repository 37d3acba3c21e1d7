package nethttp

import (
	"encoding/json"
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// PushedAuthorization returns the handler of the pushed authorization
// request endpoint (RFC 9126 §2). Mount it for every method, as [Token],
// only when srv.PushedAuthorizationEnabled():
//
//	mux.Handle("/oauth/par", nethttp.PushedAuthorization(srv))
//
// Success is 201 Created with request_uri and expires_in; errors are the
// token endpoint's JSON (RFC 9126 §2.3). Both carry Cache-Control:
// no-store.
func PushedAuthorization(srv *oauth2server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := srv.PushAuthorizationRequest(r)
		if err != nil {
			writeError(w, r, srv, err)
			return
		}
		b, err := json.Marshal(resp)
		if err != nil {
			writeError(w, r, srv, oerrors.ServerError(err))
			return
		}
		write(w, http.StatusCreated, b)
	})
}
