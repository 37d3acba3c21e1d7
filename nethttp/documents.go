package nethttp

import (
	stderrors "errors"
	"net/http"
	"strconv"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// DefaultJWKSMaxAge is how long resource servers and proxies may cache the
// JWK Set. A new key must be published at least this long before it signs
// (docs/jwt.md, "Rotation"). It equals handlers.DefaultJWKSMaxAge.
const DefaultJWKSMaxAge = 15 * time.Minute

// MetadataCacheControl lets clients cache the metadata document briefly: it
// changes only with a redeploy. It equals handlers.MetadataCacheControl.
const MetadataCacheControl = "public, max-age=3600"

// JWKSConfig configures the JWK Set handler (see [JWKSWithConfig]).
type JWKSConfig struct {
	// Server publishes its public signing keys. Required.
	Server *oauth2server.Server

	// MaxAge is how long clients and proxies may cache the set
	// (Cache-Control: public, max-age), in whole seconds. Optional.
	// Default [DefaultJWKSMaxAge]; negative is an error.
	MaxAge time.Duration
}

// JWKS returns the handler of the JWK Set (RFC 7517) with the public keys
// that verify the server's JWTs, access tokens (RFC 9068) and ID tokens
// alike, cacheable for [DefaultJWKSMaxAge]. It answers 404 when the Server
// signs nothing (opaque access tokens without OpenID Connect): mount it
// when [oauth2server.Server.PublishesJWKS] reports true, for GET and HEAD:
//
//	mux.Handle("GET /oauth/jwks.json", nethttp.JWKS(srv))
//
// (a ServeMux pattern for GET matches HEAD too). It panics when srv is nil.
func JWKS(srv *oauth2server.Server) http.Handler {
	return JWKSWithConfig(JWKSConfig{Server: srv})
}

// JWKSWithConfig returns the [JWKS] handler with cfg. It panics when cfg
// is invalid; [JWKSConfig.ToHandler] returns the error instead.
func JWKSWithConfig(cfg JWKSConfig) http.Handler {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the JWK Set handler (see [JWKS]), or an error when
// the configuration is invalid.
func (cfg JWKSConfig) ToHandler() (http.Handler, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("nethttp: JWKSConfig.Server is required")
	}
	if cfg.MaxAge < 0 {
		return nil, stderrors.New("nethttp: JWKSConfig.MaxAge must not be negative")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultJWKSMaxAge
	}
	srv := cfg.Server
	cache := "public, max-age=" + strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := srv.JWKS()
		if set == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", cache)
		// A public document without credentials: any origin may read it,
		// as a browser-based relying party must (no cookies are involved).
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/jwk-set+json")
		writeDocument(w, set)
	}), nil
}

// MetadataConfig configures the metadata handler (see
// [MetadataWithConfig]).
type MetadataConfig struct {
	// Server is described by the document. Required.
	Server *oauth2server.Server

	// Endpoints are the absolute URLs at which the Server's endpoints are
	// mounted; the document lists exactly these. Required: there is no
	// default, since only the application knows where it mounted them.
	Endpoints oauth2server.Endpoints
}

// MetadataWithConfig returns the handler of the authorization server
// metadata (RFC 8414) for cfg.Endpoints. Mount it for GET and HEAD at
// [oauth2server.MetadataURL] of the issuer: for an issuer without a path,
// mux.Handle("GET /.well-known/oauth-authorization-server", h).
//
// There is no Metadata(srv) with defaults: the document must list the
// endpoints where the application mounted them.
//
// MetadataWithConfig panics when cfg is invalid;
// [MetadataConfig.ToHandler] returns the error instead.
func MetadataWithConfig(cfg MetadataConfig) http.Handler {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the metadata handler (see [MetadataWithConfig]), or an
// error when the configuration is invalid: no Server, or as
// [oauth2server.Server.Metadata] fails, when Options.Issuer is empty, an
// endpoint URL is not an absolute https URL (http only on loopback), or a
// JWKS URL is given while the Server signs no JWT. The document is built
// once, here.
func (cfg MetadataConfig) ToHandler() (http.Handler, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("nethttp: MetadataConfig.Server is required")
	}
	m, err := cfg.Server.Metadata(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	return publicDocument(m), nil
}

// OpenIDConfigurationConfig configures the OpenID Provider configuration
// handler (see [OpenIDConfigurationWithConfig]).
type OpenIDConfigurationConfig struct {
	// Server is described by the document. It must be an OpenID Provider
	// ([oauth2server.Options.OpenID]). Required.
	Server *oauth2server.Server

	// Endpoints are the absolute URLs at which the Server's endpoints are
	// mounted; the document lists exactly these. Required: the
	// authorization, token and JWKS endpoints at least (OIDC Discovery §3),
	// and the UserInfo and end session endpoints where mounted.
	Endpoints oauth2server.Endpoints
}

// OpenIDConfigurationWithConfig returns the handler of the OpenID Provider
// configuration document (OIDC Discovery §4) for cfg.Endpoints, the
// net/http twin of handlers.OpenIDConfigurationWithConfig: the RFC 8414
// metadata of the same endpoints with the OpenID Connect members
// ([oauth2server.Server.OpenIDConfiguration]), so that the two documents
// and every ID token name the same issuer. Mount it for GET and
// HEAD at [oauth2server.OpenIDConfigurationURL] of the issuer: unlike RFC
// 8414 metadata, after the issuer's path, for an issuer without a path
// mux.Handle("GET /.well-known/openid-configuration", h). It is cacheable
// for an hour ([MetadataCacheControl]).
//
// OpenIDConfigurationWithConfig panics when cfg is invalid;
// [OpenIDConfigurationConfig.ToHandler] returns the error instead.
func OpenIDConfigurationWithConfig(cfg OpenIDConfigurationConfig) http.Handler {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the OpenID Provider configuration handler (see
// [OpenIDConfigurationWithConfig]), or an error when the configuration is
// invalid: no Server, or as [oauth2server.Server.OpenIDConfiguration]
// fails, when the Server is not an OpenID Provider, the authorization,
// token or JWKS endpoint is missing, or an endpoint URL is not an
// absolute https URL. The document is built once, here.
func (cfg OpenIDConfigurationConfig) ToHandler() (http.Handler, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("nethttp: OpenIDConfigurationConfig.Server is required")
	}
	m, err := cfg.Server.OpenIDConfiguration(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	return publicDocument(m), nil
}

// publicDocument serves m, built once, as the metadata documents are
// served: cacheable for an hour ([MetadataCacheControl]) and readable from
// any origin, since they are public and no credential guards them (a
// browser-based relying party fetches them).
func publicDocument(m *oauth2server.Metadata) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", MetadataCacheControl)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeDocument(w, m)
	})
}
