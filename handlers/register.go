package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Router mounts GET and HEAD handlers: *echo.Echo and *echo.Group both
// are one.
type Router interface {
	GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// RegisterConfig configures [Register]. The zero value mounts every
// endpoint at its default path below a group served at the issuer's URL.
type RegisterConfig struct {
	// BaseURL is the absolute public URL at which the group is served,
	// e.g. "https://as.example.com/oauth"; endpoint URLs in the metadata
	// are BaseURL plus their path. Optional. Default Options.Issuer.
	BaseURL string
	// TokenPath is the token endpoint's path in the group. Optional.
	// Default "/token".
	TokenPath string
	// RevokePath is the revocation endpoint's path. Optional. Default
	// "/revoke".
	RevokePath string
	// IntrospectPath is the introspection endpoint's path. Optional.
	// Default "/introspect".
	IntrospectPath string
	// Authorize configures the authorization endpoint (GET shows the
	// request, POST carries the decision), mounted at AuthorizePath when
	// set and the server has a response type enabled. Its Server may be
	// left nil: Register sets it to the Server it mounts. Optional: leave
	// nil to mount your own [AuthorizeWithConfig] elsewhere (then it is not
	// listed in the metadata).
	Authorize *AuthorizeConfig
	// AuthorizePath is the authorization endpoint's path. Optional.
	// Default "/authorize".
	AuthorizePath string
	// DeviceAuthorizationPath is the device authorization endpoint's path,
	// mounted only when the device grant is enabled. Optional. Default
	// "/device_authorization".
	DeviceAuthorizationPath string
	// PushedAuthorizationPath is the PAR endpoint's path (RFC 9126),
	// mounted only when the Server serves pushed authorization requests.
	// Optional. Default "/par".
	PushedAuthorizationPath string
	// JWKSPath is the JWK Set's path, mounted only when the server issues
	// JWT access tokens. Optional. Default "/jwks.json".
	JWKSPath string
	// JWKSMaxAge is the JWK Set's cache lifetime ([JWKSConfig.MaxAge]).
	// Optional. Default [DefaultJWKSMaxAge]; negative is an error.
	JWKSMaxAge time.Duration
	// Root is where the metadata is mounted, at the absolute path of
	// [oauth2server.MetadataURL] (RFC 8414 §3.1: between host and issuer
	// path), normally the *echo.Echo. Optional. Default: the group itself,
	// which works when that path lies below BaseURL (an issuer without a
	// path and a group at the root); otherwise Register fails and asks for
	// Root.
	Root Router
}

// Register mounts every endpoint of srv on g in one call: authorization
// (GET, HEAD and POST, when cfg.Authorize is set), token (POST), revocation
// (POST), introspection (POST), device authorization (POST, when the device
// grant is enabled), pushed authorization requests (POST, when the Server
// serves them), the JWK Set (GET and HEAD, only with JWT access
// tokens) and the RFC 8414 metadata (GET and HEAD), which lists exactly the
// endpoints mounted here.
// The POST endpoints are mounted for every method, so that another method
// gets the Server's JSON 405 with Cache-Control: no-store.
// It fails when Options.Issuer is empty, BaseURL is not an absolute URL,
// the authorization endpoint's configuration or JWKSMaxAge is invalid, or
// the metadata path cannot be reached from g without Root; then nothing is
// mounted.
//
//	e := echo.New()
//	err := handlers.Register(e.Group(""), srv, handlers.RegisterConfig{})
func Register(g *echo.Group, srv *oauth2server.Server, cfg RegisterConfig) error {
	issuer := srv.Options().Issuer
	wellKnown, err := oauth2server.MetadataURL(issuer)
	if err != nil {
		return err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = issuer
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || !base.IsAbs() || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return errorf("BaseURL %q must be an absolute URL without query or fragment", cfg.BaseURL)
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cfg.TokenPath, "/token")
	def(&cfg.RevokePath, "/revoke")
	def(&cfg.IntrospectPath, "/introspect")
	def(&cfg.JWKSPath, "/jwks.json")
	def(&cfg.AuthorizePath, "/authorize")
	def(&cfg.DeviceAuthorizationPath, "/device_authorization")
	def(&cfg.PushedAuthorizationPath, "/par")
	abs := func(path string) string { return base.String() + path }

	// Where the metadata goes, checked before anything is mounted.
	wk, _ := url.Parse(wellKnown)
	metaRouter, metaPath := cfg.Root, wk.EscapedPath()
	if metaRouter == nil {
		basePath := base.EscapedPath()
		if base.Scheme != wk.Scheme || base.Host != wk.Host || !strings.HasPrefix(metaPath, basePath+"/") {
			return errorf("metadata must be served at %s, outside the group at %s; set RegisterConfig.Root (e.g. the *echo.Echo)",
				wellKnown, base.String())
		}
		metaRouter, metaPath = g, strings.TrimPrefix(metaPath, basePath)
	}

	ep := oauth2server.Endpoints{
		Token:         abs(cfg.TokenPath),
		Revocation:    abs(cfg.RevokePath),
		Introspection: abs(cfg.IntrospectPath),
	}
	if srv.IssuesJWT() {
		ep.JWKS = abs(cfg.JWKSPath)
	}
	var authorize echo.HandlerFunc
	if cfg.Authorize != nil && len(srv.ResponseTypes()) > 0 {
		ac := *cfg.Authorize
		if ac.Server == nil {
			ac.Server = srv
		} else if ac.Server != srv {
			return errorf("RegisterConfig.Authorize.Server is another Server than the one Register mounts; leave it nil")
		}
		if authorize, err = ac.ToHandler(); err != nil {
			return err
		}
		ep.Authorization = abs(cfg.AuthorizePath)
	}
	if srv.DeviceAuthorizationEnabled() {
		ep.DeviceAuthorization = abs(cfg.DeviceAuthorizationPath)
	}
	if srv.PushedAuthorizationEnabled() {
		ep.PushedAuthorization = abs(cfg.PushedAuthorizationPath)
	}
	meta, err := MetadataConfig{Server: srv, Endpoints: ep}.ToHandler()
	if err != nil {
		return err
	}
	jwks, err := JWKSConfig{Server: srv, MaxAge: cfg.JWKSMaxAge}.ToHandler()
	if err != nil {
		return err
	}

	if authorize != nil {
		g.GET(cfg.AuthorizePath, authorize)
		g.HEAD(cfg.AuthorizePath, authorize)
		g.POST(cfg.AuthorizePath, authorize)
	}
	// The POST endpoints are mounted for every method: the Server answers
	// any other method itself, 405 invalid_request with Allow: POST and
	// Cache-Control: no-store, where Echo's router would answer a bare 405
	//
	if srv.DeviceAuthorizationEnabled() {
		g.Any(cfg.DeviceAuthorizationPath, DeviceAuthorization(srv))
	}
	if srv.PushedAuthorizationEnabled() {
		g.Any(cfg.PushedAuthorizationPath, PushedAuthorization(srv))
	}

	g.Any(cfg.TokenPath, Token(srv))
	g.Any(cfg.RevokePath, Revoke(srv))
	g.Any(cfg.IntrospectPath, Introspect(srv))
	// HEAD is answered wherever GET is (RFC 9110 §9.3.2); net/http drops
	// the body.
	if srv.IssuesJWT() {
		g.GET(cfg.JWKSPath, jwks)
		g.HEAD(cfg.JWKSPath, jwks)
	}
	metaRouter.GET(metaPath, meta)
	metaRouter.HEAD(metaPath, meta)
	return nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("handlers: "+format, args...)
}
