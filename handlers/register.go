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
	// JWKSPath is the JWK Set's path, mounted only when the server signs
	// JWTs: JWT access tokens or OpenID Connect ID tokens
	// ([oauth2server.Server.PublishesJWKS]). Optional. Default
	// "/jwks.json".
	JWKSPath string
	// JWKSMaxAge is the JWK Set's cache lifetime ([JWKSConfig.MaxAge]).
	// Optional. Default [DefaultJWKSMaxAge]; negative is an error.
	JWKSMaxAge time.Duration
	// Root is where the metadata is mounted, at the absolute path of
	// [oauth2server.MetadataURL] (RFC 8414 §3.1: between host and issuer
	// path), normally the *echo.Echo; the OpenID Provider configuration
	// too, at the absolute path of [oauth2server.OpenIDConfigurationURL].
	// Optional. Default: the group itself, which works when those paths lie
	// below BaseURL (an issuer without a path and a group at the root; for
	// OpenID Connect, whose document follows the issuer's path, also a
	// group at the issuer's path); otherwise Register fails and asks for
	// Root.
	Root Router

	// UserInfo configures the OpenID Connect UserInfo endpoint, mounted at
	// UserInfoPath whenever the Server is an OpenID Provider. Its Server
	// may be left nil: Register sets it to the Server it mounts. Optional.
	// Default: [UserInfo] without CORS.
	UserInfo *UserInfoConfig
	// UserInfoPath is the UserInfo endpoint's path. Optional. Default
	// "/userinfo".
	UserInfoPath string
	// EndSession configures the OpenID Connect end session endpoint
	// (RP-Initiated Logout), mounted at EndSessionPath when set: only the
	// application can end its login sessions ([EndSessionConfig.Logout]).
	// Its Server may be left nil. Optional: leave nil for no logout
	// endpoint (then it is not listed in the metadata).
	EndSession *EndSessionConfig
	// EndSessionPath is the end session endpoint's path. Optional. Default
	// "/end_session".
	EndSessionPath string
}

// Register mounts every endpoint of srv on g in one call: authorization
// (GET, HEAD and POST, when cfg.Authorize is set), token (POST), revocation
// (POST), introspection (POST), device authorization (POST, when the device
// grant is enabled), pushed authorization requests (POST, when the Server
// serves them), the JWK Set (GET and HEAD, when the Server signs JWT
// access tokens or ID tokens) and the RFC 8414 metadata (GET and HEAD),
// which lists exactly the endpoints mounted here.
//
// When the Server is an OpenID Provider ([oauth2server.Options.OpenID]),
// Register also mounts the UserInfo endpoint, the end session endpoint
// (when cfg.EndSession is set) and, when it mounts the authorization
// endpoint too (cfg.Authorize), the OpenID Provider configuration at the
// issuer's URL followed by /.well-known/openid-configuration (OIDC
// Discovery §4), which lists the same endpoints as the RFC 8414 metadata.
// Discovery requires the authorization endpoint: with an authorization
// endpoint of your own, mount [OpenIDConfigurationWithConfig] yourself
// with every endpoint's URL.
//
// The POST endpoints are mounted for every method, so that another method
// gets the Server's JSON 405 with Cache-Control: no-store; so are UserInfo
// (GET and POST, and OPTIONS for CORS) and end session, which answer
// another method themselves.
// It fails when Options.Issuer is empty, BaseURL is not an absolute URL,
// an endpoint's configuration or JWKSMaxAge is invalid, or a metadata path
// cannot be reached from g without Root; then nothing is mounted.
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
	def(&cfg.UserInfoPath, "/userinfo")
	def(&cfg.EndSessionPath, "/end_session")
	def(&cfg.PushedAuthorizationPath, "/par")
	abs := func(path string) string { return base.String() + path }

	// Where the metadata goes, checked before anything is mounted.
	metaRouter, metaPath, err := place(g, cfg.Root, base, wellKnown)
	if err != nil {
		return err
	}

	ep := oauth2server.Endpoints{
		Token:         abs(cfg.TokenPath),
		Revocation:    abs(cfg.RevokePath),
		Introspection: abs(cfg.IntrospectPath),
	}
	if srv.PublishesJWKS() {
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
	oidc, err := openIDHandlers(g, srv, &cfg, base, &ep, authorize != nil)
	if err != nil {
		return err
	}
	meta, err := MetadataConfig{Server: srv, Endpoints: ep}.ToHandler()
	if err != nil {
		return err
	}
	if oidc.router != nil {
		// The Endpoints are complete: Discovery lists what the RFC 8414
		// metadata lists.
		if oidc.discovery, err = (OpenIDConfigurationConfig{Server: srv, Endpoints: ep}).ToHandler(); err != nil {
			return err
		}
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
	if srv.PublishesJWKS() {
		g.GET(cfg.JWKSPath, jwks)
		g.HEAD(cfg.JWKSPath, jwks)
	}
	metaRouter.GET(metaPath, meta)
	metaRouter.HEAD(metaPath, meta)
	if oidc.userInfo != nil {
		g.Any(cfg.UserInfoPath, oidc.userInfo)
	}
	if oidc.router != nil {
		oidc.router.GET(oidc.path, oidc.discovery)
		oidc.router.HEAD(oidc.path, oidc.discovery)
	}
	if oidc.endSession != nil {
		g.Any(cfg.EndSessionPath, oidc.endSession)
	}
	return nil
}

// openID is what Register mounts for OpenID Connect.
type openID struct {
	userInfo, endSession, discovery echo.HandlerFunc
	// router and path are where the discovery document goes; router is
	// nil when there is none.
	router Router
	path   string
}

// openIDHandlers makes the OpenID Connect handlers and adds their
// endpoints to ep, and says where Discovery goes when Register mounts the
// authorization endpoint; it makes none when the Server is no OpenID
// Provider and no OpenID Connect endpoint is configured.
func openIDHandlers(g *echo.Group, srv *oauth2server.Server, cfg *RegisterConfig, base *url.URL,
	ep *oauth2server.Endpoints, hasAuthorize bool) (*openID, error) {
	o := &openID{}
	var err error
	if srv.OpenIDEnabled() || cfg.UserInfo != nil {
		var uc UserInfoConfig
		if cfg.UserInfo != nil {
			uc = *cfg.UserInfo
		}
		switch {
		case uc.Server == nil:
			uc.Server = srv
		case uc.Server != srv:
			return nil, errorf("RegisterConfig.UserInfo.Server is another Server than the one Register mounts; leave it nil")
		}
		if o.userInfo, err = uc.ToHandler(); err != nil {
			return nil, err
		}
		ep.UserInfo = base.String() + cfg.UserInfoPath
	}
	if cfg.EndSession != nil {
		ec := *cfg.EndSession
		switch {
		case ec.Server == nil:
			ec.Server = srv
		case ec.Server != srv:
			return nil, errorf("RegisterConfig.EndSession.Server is another Server than the one Register mounts; leave it nil")
		}
		if o.endSession, err = ec.ToHandler(); err != nil {
			return nil, err
		}
		ep.EndSession = base.String() + cfg.EndSessionPath
	}
	if o.userInfo == nil || !hasAuthorize {
		// Discovery lists the authorization endpoint (OIDC Discovery §3):
		// one mounted elsewhere is for the application to list.
		return o, nil
	}
	doc, err := oauth2server.OpenIDConfigurationURL(srv.Options().Issuer)
	if err != nil {
		return nil, err
	}
	if o.router, o.path, err = place(g, cfg.Root, base, doc); err != nil {
		return nil, err
	}
	return o, nil
}

// place returns where to mount the document served at the absolute URL
// doc: at its path on root when set, else at its path below base in g.
func place(g *echo.Group, root Router, base *url.URL, doc string) (Router, string, error) {
	u, err := url.Parse(doc)
	if err != nil {
		return nil, "", err
	}
	path := u.EscapedPath()
	if root != nil {
		return root, path, nil
	}
	basePath := base.EscapedPath()
	if base.Scheme != u.Scheme || base.Host != u.Host || !strings.HasPrefix(path, basePath+"/") {
		return nil, "", errorf("metadata must be served at %s, outside the group at %s; set RegisterConfig.Root (e.g. the *echo.Echo)",
			doc, base.String())
	}
	return g, strings.TrimPrefix(path, basePath), nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("handlers: "+format, args...)
}
