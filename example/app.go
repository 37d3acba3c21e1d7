package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
	"github.com/echo-oauth2/oauth2server/modelobserve"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// Paths of the example's own pages and of the endpoints it mounts.
const (
	oauthPrefix   = "/oauth"
	authorizePath = oauthPrefix + "/authorize"
	tokenPath     = oauthPrefix + "/token"
	// With OpenID Connect (handlers.Register's default paths).
	userInfoPath   = oauthPrefix + "/userinfo"
	endSessionPath = oauthPrefix + "/end_session"
	loginPath      = "/login"
	logoutPath     = "/logout"
	callbackPath   = "/callback"
	mePath         = "/api/me"
	writePath      = "/api/write"
)

// store is what the example needs of a model: the core Model, users for the
// login page, remembered consent and the users' OpenID Connect claims.
type store interface {
	oauth2server.Model
	oauth2server.PasswordModel
	oauth2server.ConsentModel
	oauth2server.UserClaimsModel
}

// app is the example authorization server: the library's Server plus the
// pages a user sees.
type app struct {
	cfg    appConfig
	issuer string
	srv    *oauth2server.Server
	// model is the store itself; the Server and the pages call it through
	// modelobserve's wrapper, which times every call (users, consents).
	model    store
	users    oauth2server.PasswordModel
	consents oauth2server.ConsentModel
	sessions *sessionManager
	pages    *pages
	demo     *demoRequest
	// demoClient and idTokens are the demo client's: its HTTP client,
	// which reaches the example in process, and its ID token checks.
	demoClient *http.Client
	idTokens   *idTokenVerifier
	closers    []func(context.Context) error
	// metrics are served at /metrics; readiness answers /readyz.
	metrics   *metrics
	readiness *readiness
	// throttleLog keeps throttled logins at info level once per address
	// and window.
	throttleLog *onceLog
}

// newApp builds the example server. It does not listen: main starts it, and
// the tests serve it on a loopback listener of their own.
func newApp(cfg appConfig) (*echo.Echo, *app, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.hashPassword == nil {
		cfg.hashPassword = oauth2server.HashPassword
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = defaultMaxSessions
	}
	if cfg.SessionKey == nil && cfg.Data != nil {
		cfg.SessionKey = cfg.Data.sessionKey
	}
	switch {
	case cfg.SessionKey == nil && cfg.MongoURI != "":
		// Instances sharing the database share sessions, so they must
		// sign cookies and forms alike; a per-process key would make a
		// form from one instance fail on the next.
		return nil, nil, errors.New("-mongo-uri needs -session-key (or session_key in the -config file): " +
			"every instance must sign sessions and forms with the same secret key, base64, at least 32 bytes " +
			"(make one with: openssl rand -base64 32)")
	case cfg.SessionKey == nil:
		// One process in memory: sessions end with it anyway.
		cfg.SessionKey = make([]byte, minSessionKeyBytes)
		_, _ = rand.Read(cfg.SessionKey) // crypto/rand.Read never fails
	case len(cfg.SessionKey) < minSessionKeyBytes:
		return nil, nil, fmt.Errorf("session key: %w", errSessionKeyShort)
	}
	a := &app{cfg: cfg, throttleLog: newOnceLog(throttleLogWindow, 10000),
		metrics: newMetrics(), readiness: &readiness{logger: cfg.Logger}}
	issuer := cfg.Issuer
	if issuer == "" && cfg.Data != nil {
		issuer = cfg.Data.Issuer
	}
	if issuer == "" {
		var err error
		if issuer, err = defaultIssuer(cfg.Addr); err != nil {
			return nil, nil, err
		}
	}
	a.issuer = strings.TrimSuffix(issuer, "/")
	a.sessions = &sessionManager{ // its store comes with the model
		keys:   deriveFormKeys(cfg.SessionKey),
		secure: strings.HasPrefix(a.issuer, "https://"),
		now:    cfg.now,
	}
	data := cfg.Data
	if data == nil {
		data = demoConfig(a.issuer, !cfg.NoOpenID)
	}

	// oauth2server.New refuses a missing key too; saying it before the
	// model is opened is faster and names the flags.
	switch {
	case cfg.SigningKeyFile != "" && !cfg.JWT && cfg.NoOpenID:
		return nil, nil, errors.New("-signing-key needs -jwt or OpenID Connect (not -openid=false)")
	case cfg.SigningKeyFile != "" || cfg.Dev:
	case cfg.JWT:
		return nil, nil, errors.New("-jwt needs -signing-key FILE (a PEM private key), or -dev for a generated key")
	case !cfg.NoOpenID && cfg.MongoURI != "":
		// Instances sharing the database must verify each other's ID
		// tokens (an id_token_hint comes back to any of them).
		return nil, nil, errors.New("-mongo-uri needs -signing-key FILE (an RSA private key, PEM) for OpenID Connect: " +
			"every instance must sign ID tokens with the same key (make one with: " +
			"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072), or -dev for a generated key, or -openid=false")
	}

	model, err := a.openModel(context.Background(), data)
	if err != nil {
		_ = a.Close(context.Background())
		return nil, nil, err
	}
	a.model = model
	e, err := a.setup(model)
	if err != nil {
		_ = a.Close(context.Background())
		return nil, nil, err
	}
	return e, a, nil
}

// setup builds the Server, the pages and the routes on an open model.
func (a *app) setup(model store) (*echo.Echo, error) {
	cfg := a.cfg
	opts := oauth2server.Options{
		Issuer:  a.issuer,
		Logger:  cfg.Logger,
		OnEvent: auditLogger(cfg.AuditLog),
		Device: oauth2server.DeviceOptions{
			VerificationURI: a.issuer + devicePath,
			Interval:        cfg.deviceInterval,
		},
		// The example's API is the one resource server; JWT access tokens
		// name it in "aud" (RFC 9068 §3).
		Audience: a.issuer + "/api",
		// An https issuer is served behind a TLS-terminating proxy (the
		// example itself speaks plain HTTP): refuse anything that did not
		// reach that proxy over TLS (RFC 6749 §3.1, §3.2).
		RequireTLS: strings.HasPrefix(a.issuer, "https://"),
		// The same proxies as Echo's IPExtractor below: ClientAddress,
		// which the login and device page throttles count, and RequireTLS
		// believe forwarded headers from them alone.
		TrustedProxies: cfg.TrustedProxies,
		Now:            cfg.now,
		// Client assertions and JWT bearer assertions may name the token
		// endpoint as their audience, besides the issuer (RFC 7523 §3).
		Assertions: oauth2server.AssertionOptions{Audiences: []string{a.issuer + tokenPath}},
	}
	if cfg.FAPI {
		opts.Profile = oauth2server.ProfileFAPI2
	}
	if cfg.DPoPNonce {
		// The profile keeps RequireNonce and adds its own DPoP rules. The
		// key comes from the session key, which every instance shares.
		opts.DPoP = &oauth2server.DPoPOptions{RequireNonce: true, NonceKey: a.sessions.keys.nonce,
			NonceLifetime: cfg.dpopNonceLifetime}
	}
	if cfg.JWT {
		opts.JWT = &oauth2server.JWTOptions{}
	}
	if !cfg.NoOpenID {
		// ID tokens for requests with the openid scope; the rest is plain
		// OAuth. The model keeps the users' claims (openModel).
		opts.OpenID = &oauth2server.OpenIDOptions{}
	}
	if cfg.SigningKeyFile != "" {
		opts.SigningKeys = []oauth2server.SigningKey{{File: cfg.SigningKeyFile}}
	} else {
		// -dev, or OpenID Connect in memory (newApp checked): ID tokens
		// live ten minutes, and everything they refer to ends with the
		// process anyway.
		opts.AllowGeneratedKeys = cfg.Dev || (opts.OpenID != nil && !cfg.JWT)
	}
	// Every call of the Server and of the pages to the model is timed
	// (oauth2server_model_call_duration_seconds). The wrapper has exactly
	// the model's capabilities, found one at a time as New finds them.
	observed := modelobserve.Wrap(model, a.metrics.modelObserver())
	a.users, _ = oauth2server.Capability[oauth2server.PasswordModel](observed)
	a.consents, _ = oauth2server.Capability[oauth2server.ConsentModel](observed)
	srv, err := oauth2server.New(observed, opts)
	if err != nil {
		return nil, err
	}
	a.srv = srv
	a.metrics.setGrants(srv.GrantTypes(), srv.Options().MaxBodyBytes)
	if a.pages, err = loadPages(); err != nil {
		return nil, err
	}
	if cfg.Data == nil {
		a.demo = newDemoRequest(a.issuer, srv.OpenIDEnabled())
		a.idTokens = &idTokenVerifier{issuer: a.issuer, clientID: a.demo.ClientID, jwks: srv.JWKS, now: cfg.now}
	}
	return a.routes()
}

// openModel opens the model (in memory, or MongoDB with -mongo-uri) and
// seeds it with data.
func (a *app) openModel(ctx context.Context, data *fileConfig) (store, error) {
	var (
		model     store
		addClient func(context.Context, *oauth2server.Client) error
		addUser   func(context.Context, *oauth2server.User, string) error
		setClaims func(context.Context, string, map[string]any) error
	)
	if a.cfg.MongoURI != "" {
		m, err := a.openMongo(ctx)
		if err != nil {
			return nil, err
		}
		model, addClient, addUser, setClaims = m, m.AddClient, m.AddUser, m.SetUserClaims
	} else {
		m := memorymodel.New()
		model = m
		a.sessions.store = newMemorySessions(a.cfg.MaxSessions)
		addClient, addUser, setClaims = m.AddClient, m.AddUser, m.SetUserClaims
	}
	for _, c := range data.clients() {
		if err := addClient(ctx, c); err != nil {
			if isDuplicate(err) {
				// A restart with the same database: keep what is stored.
				a.cfg.Logger.Info("example: client exists, kept as stored", "client_id", c.ID)
				continue
			}
			return nil, fmt.Errorf("client %q: %w", c.ID, err)
		}
	}
	for _, u := range data.Users {
		hash, err := a.cfg.hashPassword(u.Password)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", u.Username, err)
		}
		id := u.ID
		if id == "" {
			id = u.Username
		}
		if err := addUser(ctx, &oauth2server.User{ID: id, Username: u.Username}, hash); err != nil {
			if isDuplicate(err) {
				a.cfg.Logger.Info("example: user exists, kept as stored", "username", u.Username)
				continue
			}
			return nil, fmt.Errorf("user %q: %w", u.Username, err)
		}
		if len(u.Claims) > 0 {
			if err := setClaims(ctx, id, u.Claims); err != nil {
				return nil, fmt.Errorf("user %q: claims: %w", u.Username, err)
			}
		}
	}
	if err := seedIssuers(ctx, model, data); err != nil {
		return nil, err
	}
	return model, nil
}

func isDuplicate(err error) bool {
	return errors.Is(err, memorymodel.ErrDuplicate) || errors.Is(err, mongomodel.ErrDuplicate)
}

// openMongo connects to -mongo-uri and ensures the model's indexes. The
// database is the URI's path, or "oauth2server".
func (a *app) openMongo(ctx context.Context) (*mongomodel.Model, error) {
	u, err := url.Parse(a.cfg.MongoURI)
	if err != nil {
		return nil, errors.New("-mongo-uri: not a URI")
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" {
		dbName = "oauth2server"
	}
	client, err := mongo.Connect(options.Client().SetServerSelectionTimeout(10 * time.Second).ApplyURI(a.cfg.MongoURI))
	if err != nil {
		return nil, fmt.Errorf("-mongo-uri: %w", err)
	}
	a.closers = append(a.closers, client.Disconnect)
	a.readiness.check = func(ctx context.Context) error { return client.Ping(ctx, nil) }
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		return nil, fmt.Errorf("-mongo-uri: no answer from MongoDB: %w", err)
	}
	db := client.Database(dbName)
	m := mongomodel.New(db, mongomodel.Options{})
	if err := m.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	sessions := newMongoSessions(db, a.cfg.MaxSessions)
	if err := sessions.ensureIndexes(ctx, m.TTLIndexes()); err != nil {
		return nil, err
	}
	a.sessions.store = sessions
	if !m.TTLIndexes() {
		// The server has no TTL indexes (FerretDB): delete expired items
		// and sessions ourselves. Correctness never depends on it, only
		// disk space.
		stop := make(chan struct{})
		a.closers = append(a.closers, func(context.Context) error { close(stop); return nil })
		go func() {
			t := time.NewTicker(10 * time.Minute)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if _, err := m.DeleteExpired(context.Background()); err != nil {
						a.cfg.Logger.Error("example: deleting expired items failed", "error", err)
					}
					if _, err := sessions.deleteExpired(context.Background(), time.Now()); err != nil {
						a.cfg.Logger.Error("example: deleting expired sessions failed", "error", err)
					}
				}
			}
		}()
	}
	return m, nil
}

// Close releases what newApp opened (the MongoDB connection).
func (a *app) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

func (a *app) routes() (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Use the TCP peer address, never X-Forwarded-For: a client could
	// otherwise pick a new "IP" per request (RFC 9700 §4.13: trust
	// forwarded headers only from known proxies). The throttles count
	// a.srv.ClientAddress, which follows the same rule with the same
	// proxies; c.RealIP agrees with it for anything else.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(a.cfg.TrustedProxies) > 0 {
		// Behind known proxies, take the client address from
		// X-Forwarded-For, trusting only those proxies (Echo would
		// otherwise trust every private and loopback address).
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, p := range a.cfg.TrustedProxies {
			if !strings.Contains(p, "/") {
				if strings.Contains(p, ":") {
					p += "/128"
				} else {
					p += "/32"
				}
			}
			_, ipnet, err := net.ParseCIDR(p)
			if err != nil {
				return nil, fmt.Errorf("example: trusted proxy %q: %w", p, err)
			}
			trust = append(trust, echo.TrustIPRange(ipnet))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if err == nil {
			// c.Error(nil): the answer was written, nothing failed.
			return
		}
		// Log what Echo would otherwise swallow (a template error, a
		// panic); the client sees only the status text.
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code >= http.StatusInternalServerError {
			a.cfg.Logger.ErrorContext(c.Request().Context(), "example: request failed", "path", c.Path(), "error", err)
		}
		e.DefaultHTTPErrorHandler(err, c)
	}
	// First, so that it sees every answer as the client gets it.
	e.Use(a.metrics.middleware)
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: "64K",
		// The OAuth endpoints cap their bodies themselves
		// (Options.MaxBodyBytes) and answer 413 as an OAuth error with
		// Cache-Control: no-store, which Echo's 413 would not be.
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, oauthPrefix+"/") },
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		// Pages must not be framed (clickjacking, RFC 9700 §4.16) and
		// load nothing from other origins (RFC 9700 §4.2.4).
		XFrameOptions:         "DENY",
		ContentSecurityPolicy: pageCSP,
		ReferrerPolicy:        "no-referrer",
		HSTSMaxAge:            31536000,
	}))
	e.Use(a.pagesRequireTLS)

	// Operations (docs/operations.md): Prometheus metrics, liveness and
	// readiness.
	e.GET(metricsPath, a.metrics.handler(), noStore)
	e.GET(healthPath, a.healthz, noStore)
	e.GET(readyPath, a.readyz, noStore)

	static, _ := fs.Sub(assets, "static")
	e.StaticFS("/static", static)

	e.GET("/", a.index, noStore)
	e.GET(loginPath, a.loginPage, noStore)
	e.POST(loginPath, a.login, noStore)
	e.POST(logoutPath, a.logout, noStore)
	e.GET(appsPath, a.appsPage, noStore)
	e.POST(appsPath, a.appsRevoke, noStore)
	e.GET(callbackPath, a.callback, noStore)
	if a.demo != nil {
		e.GET(demoPath, a.demoStart, noStore)
		a.demoClient = &http.Client{Transport: inProcessTransport{h: e}, Timeout: 10 * time.Second}
	}
	// Authorization (with the pages above), token, revocation,
	// introspection, device authorization, the JWK Set (with -jwt or
	// OpenID Connect) and the metadata at
	// /.well-known/oauth-authorization-server; with OpenID Connect also
	// UserInfo, end session (logout.go) and Discovery at
	// /.well-known/openid-configuration.
	rc := handlers.RegisterConfig{
		BaseURL:   a.issuer + oauthPrefix,
		Root:      e,
		Authorize: a.authorizeConfig(),
	}
	if a.srv.OpenIDEnabled() {
		rc.EndSession = a.endSessionConfig()
	}
	if err := handlers.Register(e.Group(oauthPrefix), a.srv, rc); err != nil {
		return nil, err
	}
	if a.srv.DeviceAuthorizationEnabled() {
		e.GET(devicePath, a.devicePage, noStore)
		e.POST(devicePath, a.deviceSubmit, noStore)
	}
	api := e.Group("/api", oauthmw.Authenticate(a.srv))
	api.GET(strings.TrimPrefix(mePath, "/api"), a.me)
	api.GET(strings.TrimPrefix(writePath, "/api"), a.write, oauthmw.RequireScope("write"))
	return e, nil
}

// noStore keeps pages out of caches: they carry CSRF tokens, codes and
// user data.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
