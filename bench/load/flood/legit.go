package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Flow kinds of the legitimate client.
const (
	flowClientCredentials = "client_credentials + GET /api/me"
	flowBrowser           = "browser: authorize → login → consent → code → token → refresh → revoke"
)

var flowKinds = []string{flowClientCredentials, flowBrowser}

// maxPageBytes caps what the client reads of a response.
const maxPageBytes = 4 << 20

// endpoints are the server's URLs, from its metadata where it has them.
type endpoints struct {
	Issuer, Authorize, Token, Revoke, Device, Me, Login, Home, Redirect string
}

// discover reads the authorization server metadata (RFC 8414) of base and
// falls back to the example's paths. Only the paths of the metadata are
// used, joined to base, so that an issuer that differs from the address
// the tool talks to (a proxy's https URL) does not send it elsewhere.
func discover(ctx context.Context, base *url.URL, c *config) (endpoints, error) {
	ep := endpoints{
		Issuer:    strings.TrimSuffix(base.String(), "/"),
		Authorize: "/oauth/authorize",
		Token:     "/oauth/token",
		Revoke:    "/oauth/revoke",
		Device:    "/oauth/device_authorization",
		Me:        c.mePath,
		Login:     c.loginPath,
		Home:      "/",
		Redirect:  c.redirectURI,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath("/.well-known/oauth-authorization-server").String(), nil)
	if err != nil {
		return ep, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ep, err
	}
	defer resp.Body.Close()
	var md struct {
		Issuer                      string `json:"issuer"`
		AuthorizationEndpoint       string `json:"authorization_endpoint"`
		TokenEndpoint               string `json:"token_endpoint"`
		RevocationEndpoint          string `json:"revocation_endpoint"`
		DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxPageBytes)).Decode(&md); err != nil {
			return ep, fmt.Errorf("metadata: %w", err)
		}
	}
	if md.Issuer != "" {
		ep.Issuer = md.Issuer
	}
	for _, p := range []struct {
		dst *string
		src string
	}{{&ep.Authorize, md.AuthorizationEndpoint}, {&ep.Token, md.TokenEndpoint},
		{&ep.Revoke, md.RevocationEndpoint}, {&ep.Device, md.DeviceAuthorizationEndpoint}} {
		if u, err := url.Parse(p.src); err == nil && u.Path != "" {
			*p.dst = u.Path
		}
	}
	for _, p := range []*string{&ep.Authorize, &ep.Token, &ep.Revoke, &ep.Device, &ep.Me, &ep.Login, &ep.Home} {
		*p = base.JoinPath(*p).String()
	}
	if ep.Redirect == "" {
		// The example registers its demo clients with the issuer's
		// /callback, which is where it must be when the tool started it.
		ep.Redirect = ep.Issuer + "/callback"
	}
	return ep, nil
}

// recorder collects the legitimate client's latencies of one phase.
type recorder struct {
	mu    sync.Mutex
	flows map[string][]time.Duration
	reqs  map[string][]time.Duration
	fails map[string]int
	first map[string]string // first failure of each flow kind
}

func newRecorder() *recorder {
	return &recorder{flows: map[string][]time.Duration{}, reqs: map[string][]time.Duration{},
		fails: map[string]int{}, first: map[string]string{}}
}

// merge adds what o recorded.
func (r *recorder) merge(o *recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range o.flows {
		r.flows[k] = append(r.flows[k], v...)
	}
	for k, v := range o.reqs {
		r.reqs[k] = append(r.reqs[k], v...)
	}
	for k, v := range o.fails {
		r.fails[k] += v
		if _, ok := r.first[k]; !ok {
			r.first[k] = o.first[k]
		}
	}
}

func (r *recorder) req(label string, d time.Duration) {
	r.mu.Lock()
	r.reqs[label] = append(r.reqs[label], d)
	r.mu.Unlock()
}

func (r *recorder) flow(kind string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.fails[kind]++
		if _, ok := r.first[kind]; !ok {
			r.first[kind] = err.Error()
		}
		return
	}
	r.flows[kind] = append(r.flows[kind], d)
}

// legit is the legitimate client: it runs complete flows one after another
// on its own connections, the way a real user and a real service would,
// while a flood runs.
type legit struct {
	cfg  *config
	ep   endpoints
	tr   *http.Transport
	addr atomic.Uint32
}

func newLegit(cfg *config, ep endpoints) *legit {
	return &legit{cfg: cfg, ep: ep, tr: &http.Transport{
		MaxIdleConns:        8,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// nextAddr returns the X-Forwarded-For address of the next flow, or "".
// Every flow comes from its own address in 198.19.0.0/16 (RFC 2544's
// benchmarking range), the way different users would: otherwise the
// example's per-address login limit (10, then one every 6 s) would refuse
// the client's own logins, which is no flood effect. The floods spread over
// 198.18.0.0/16, so they never share an address with it.
func (l *legit) nextAddr() string {
	if !l.cfg.xff {
		return ""
	}
	return rangeAddr(198, 19, int(l.addr.Add(1)))
}

// rangeAddr returns host number i (0-based) of a.b.0.0/16, skipping the .0
// and .255 of each /24.
func rangeAddr(a, b, i int) string {
	i %= 256 * 254
	return fmt.Sprintf("%d.%d.%d.%d", a, b, i/254, 1+i%254)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (l *legit) client(jar http.CookieJar) *http.Client {
	return &http.Client{Transport: l.tr, Jar: jar, CheckRedirect: noRedirect, Timeout: l.cfg.legitTimeout}
}

// do sends req and reads its body; label names the request in the
// per-request table ("" = method and path, then the status).
func (l *legit) do(c *http.Client, rec *recorder, req *http.Request, label, addr string) (*http.Response, []byte, error) {
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	resp.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if label == "" {
		label = fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	rec.req(label, time.Since(t0))
	return resp, body, nil
}

func postForm(ctx context.Context, target string, v url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// tokenResponse is what the flows read of a token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// token posts v to the token endpoint and wants a 200 with an access token.
func (l *legit) token(ctx context.Context, c *http.Client, rec *recorder, v url.Values, basic bool, addr string) (*tokenResponse, error) {
	req, err := postForm(ctx, l.ep.Token, v)
	if err != nil {
		return nil, err
	}
	if basic {
		req.SetBasicAuth(url.QueryEscape(l.cfg.confClient), url.QueryEscape(l.cfg.confSecret))
	}
	label := "POST token (" + v.Get("grant_type") + ")"
	resp, body, err := l.do(c, rec, req, label, addr)
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return nil, fmt.Errorf("%s: status %d %s", label, resp.StatusCode, errorText(tr.Error, body))
	}
	return &tr, nil
}

func errorText(code string, body []byte) string {
	if code != "" {
		return code
	}
	if len(body) > 120 {
		body = body[:120]
	}
	return strings.Join(strings.Fields(string(body)), " ")
}

// clientCredentials gets a token for the confidential client and calls the
// API with it.
func (l *legit) clientCredentials(ctx context.Context, rec *recorder) error {
	c := l.client(nil)
	addr := l.nextAddr()
	v := url.Values{"grant_type": {"client_credentials"}}
	if l.cfg.scope != "" {
		v.Set("scope", l.cfg.scope)
	}
	tr, err := l.token(ctx, c, rec, v, true, addr)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.ep.Me, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, body, err := l.do(c, rec, req, "GET /api/me (bearer)", addr)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d %s", l.ep.Me, resp.StatusCode, errorText("", body))
	}
	return nil
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// browser runs the authorization code flow as a browser with a fresh
// cookie jar would, with PKCE (S256): the authorization request, the login
// page and its form, the consent page and its approval, the code at the
// redirect URI; then the client redeems the code, refreshes and revokes.
func (l *legit) browser(ctx context.Context, rec *recorder) error {
	jar, _ := cookiejar.New(nil)
	c := l.client(jar)
	addr := l.nextAddr()
	verifier, state := randomString(), randomString()[:22]
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {l.cfg.publicClient},
		"redirect_uri":          {l.ep.Redirect},
		"scope":                 {l.cfg.scope},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	code, err := l.authorize(ctx, c, rec, l.ep.Authorize+"?"+q.Encode(), addr, state)
	if err != nil {
		return err
	}
	tr, err := l.token(ctx, c, rec, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {l.ep.Redirect},
		"client_id":     {l.cfg.publicClient},
		"code_verifier": {verifier},
	}, false, addr)
	if err != nil {
		return err
	}
	if tr.RefreshToken == "" {
		return errors.New("token response without refresh_token")
	}
	tr, err = l.token(ctx, c, rec, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {tr.RefreshToken},
		"client_id":     {l.cfg.publicClient},
	}, false, addr)
	if err != nil {
		return err
	}
	revoke := tr.RefreshToken
	hint := "refresh_token"
	if revoke == "" {
		revoke, hint = tr.AccessToken, "access_token"
	}
	req, err := postForm(ctx, l.ep.Revoke, url.Values{
		"token": {revoke}, "token_type_hint": {hint}, "client_id": {l.cfg.publicClient},
	})
	if err != nil {
		return err
	}
	resp, body, err := l.do(c, rec, req, "POST revoke", addr)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST revoke: status %d %s", resp.StatusCode, errorText("", body))
	}
	return nil
}

// maxBrowserSteps bounds the redirects and forms of one authorization.
const maxBrowserSteps = 10

// authorize follows redirects and submits the login and consent forms
// until the server redirects to the redirect URI, and returns the code.
func (l *legit) authorize(ctx context.Context, c *http.Client, rec *recorder, start, addr, state string) (string, error) {
	method, target, form := http.MethodGet, start, url.Values(nil)
	for range maxBrowserSteps {
		var req *http.Request
		var err error
		if method == http.MethodPost {
			req, err = postForm(ctx, target, form)
		} else {
			if form != nil {
				u, perr := url.Parse(target)
				if perr != nil {
					return "", perr
				}
				u.RawQuery = form.Encode()
				target = u.String()
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		}
		if err != nil {
			return "", err
		}
		resp, body, err := l.do(c, rec, req, "", addr)
		if err != nil {
			return "", err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return "", fmt.Errorf("%s %s: %d without Location", method, req.URL.Path, resp.StatusCode)
			}
			if strings.HasPrefix(loc.String(), l.ep.Redirect+"?") {
				return l.codeFrom(loc, state)
			}
			method, target, form = http.MethodGet, loc.String(), nil
		case resp.StatusCode == http.StatusOK:
			method, target, form, err = nextForm(body, req.URL, l.cfg.username, l.cfg.password)
			if err != nil {
				return "", fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
			}
		default:
			return "", fmt.Errorf("%s %s: status %d %q", req.Method, req.URL.Path, resp.StatusCode, pageTitle(body))
		}
	}
	return "", fmt.Errorf("no redirect to the client after %d steps", maxBrowserSteps)
}

// codeFrom checks the authorization response at the redirect URI (RFC 6749
// §4.1.2, RFC 9207) and returns its code.
func (l *legit) codeFrom(loc *url.URL, state string) (string, error) {
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", errors.New("authorization response with a wrong state")
	}
	if iss := q.Get("iss"); iss != "" && iss != l.ep.Issuer {
		return "", fmt.Errorf("authorization response from issuer %q, want %q", iss, l.ep.Issuer)
	}
	if q.Get("code") == "" {
		return "", errors.New("authorization response without code")
	}
	return q.Get("code"), nil
}

// login logs in once through the login page and returns the cookies of the
// session, as a Cookie header value.
func (l *legit) login(ctx context.Context) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := l.client(jar)
	rec := newRecorder()
	addr := l.nextAddr()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.ep.Login, nil)
	if err != nil {
		return "", err
	}
	resp, body, err := l.do(c, rec, req, "", addr)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", l.ep.Login, resp.StatusCode)
	}
	method, action, form, err := nextForm(body, req.URL, l.cfg.username, l.cfg.password)
	if err != nil {
		return "", err
	}
	if method != http.MethodPost {
		return "", errors.New("the login form is not a POST")
	}
	if req, err = postForm(ctx, action, form); err != nil {
		return "", err
	}
	if resp, _, err = l.do(c, rec, req, "", addr); err != nil {
		return "", err
	}
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("POST %s: status %d", action, resp.StatusCode)
	}
	u, _ := url.Parse(l.ep.Authorize)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; "), nil
}

// run runs every flow kind in its own loop until stop is closed (nil:
// never) or, with limit > 0, until every kind has run limit times: the
// faster loop goes on until the slower one is done, so that the flows
// always run side by side, as they do during a flood. A flow in progress
// when stop closes is finished, so that the server never sees a request
// cut off, but not counted.
func (l *legit) run(ctx context.Context, limit int, stop <-chan struct{}) *recorder {
	rec := newRecorder()
	flows := map[string]func(context.Context, *recorder) error{
		flowClientCredentials: l.clientCredentials,
		flowBrowser:           l.browser,
	}
	counts := make([]atomic.Int64, len(flowKinds))
	enough := func() bool {
		for i := range counts {
			if counts[i].Load() < int64(limit) {
				return false
			}
		}
		return true
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return ctx.Err() != nil
		}
	}
	var wg sync.WaitGroup
	for i, kind := range flowKinds {
		fn := flows[kind]
		wg.Go(func() {
			for {
				if stopped() || (limit > 0 && enough()) {
					return
				}
				own := newRecorder()
				t0 := time.Now()
				err := fn(ctx, own)
				d := time.Since(t0)
				if stopped() {
					return // ended after the phase: not a result of it
				}
				own.flow(kind, d, err)
				rec.merge(own)
				counts[i].Add(1)
				pause := l.cfg.ccPause
				if kind == flowBrowser {
					pause = l.cfg.browserPause
				}
				if err != nil {
					pause = max(pause, 100*time.Millisecond) // no busy loop on a refusing server
				}
				if pause > 0 {
					select {
					case <-stop:
						return
					case <-ctx.Done():
						return
					case <-time.After(pause):
					}
				}
			}
		})
	}
	wg.Wait()
	return rec
}
