package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// floodSpec is one flood: Count requests over Conc keep-alive connections,
// the i-th built by Request.
type floodSpec struct {
	Key, Title string
	About      string // one markdown paragraph: what is sent and what to expect
	Count      int
	Conc       int
	Request    func(ctx context.Context, i int) (label string, req *http.Request, err error)
}

// labelStats are the flood's results for one kind of request.
type labelStats struct {
	Status map[int]int
	Errors map[string]int
	Lat    []time.Duration
	// MaxResp is the largest response: header names and values plus body,
	// in bytes.
	MaxResp int64
}

func (s *labelStats) total() int {
	n := 0
	for _, c := range s.Status {
		n += c
	}
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// floodRun is what a flood did.
type floodRun struct {
	Elapsed time.Duration
	Sent    int
	ByLabel map[string]*labelStats
	Order   []string // labels in order of first appearance
}

// runFlood sends the flood's requests from Conc workers, each reading and
// discarding every response, and counts statuses and transport errors.
// progress, if set, is called with the number of requests sent so far.
func runFlood(ctx context.Context, spec *floodSpec, progress func(int)) *floodRun {
	tr := &http.Transport{
		MaxIdleConns:        spec.Conc,
		MaxIdleConnsPerHost: spec.Conc,
		MaxConnsPerHost:     spec.Conc,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, CheckRedirect: noRedirect, Timeout: time.Minute}

	var next atomic.Int64
	type part struct {
		by    map[string]*labelStats
		order []string
	}
	parts := make([]*part, spec.Conc)
	t0 := time.Now()
	done := make(chan struct{})
	if progress != nil {
		go func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					progress(int(min(next.Load(), int64(spec.Count))))
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := range spec.Conc {
		p := &part{by: map[string]*labelStats{}}
		parts[w] = p
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= spec.Count || ctx.Err() != nil {
					return
				}
				label, req, err := spec.Request(ctx, i)
				st := p.by[label]
				if st == nil {
					st = &labelStats{Status: map[int]int{}, Errors: map[string]int{}}
					p.by[label] = st
					p.order = append(p.order, label)
				}
				if err != nil {
					st.Errors["request: "+err.Error()]++
					continue
				}
				t := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						st.Errors[classify(err)]++
					}
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				st.Lat = append(st.Lat, time.Since(t))
				for k, vs := range resp.Header {
					for _, v := range vs {
						n += int64(len(k) + len(v))
					}
				}
				st.MaxResp = max(st.MaxResp, n)
				st.Status[resp.StatusCode]++
			}
		})
	}
	wg.Wait()
	close(done)
	run := &floodRun{Elapsed: time.Since(t0), ByLabel: map[string]*labelStats{}}
	for _, p := range parts {
		for _, label := range p.order {
			src := p.by[label]
			dst := run.ByLabel[label]
			if dst == nil {
				dst = &labelStats{Status: map[int]int{}, Errors: map[string]int{}}
				run.ByLabel[label] = dst
				run.Order = append(run.Order, label)
			}
			for k, v := range src.Status {
				dst.Status[k] += v
			}
			for k, v := range src.Errors {
				dst.Errors[k] += v
			}
			dst.Lat = append(dst.Lat, src.Lat...)
			dst.MaxResp = max(dst.MaxResp, src.MaxResp)
			run.Sent += src.total()
		}
	}
	return run
}

var addrRe = regexp.MustCompile(`\[?[0-9a-fA-F.:]+\]?:\d+`)

// classify names a transport error without its port numbers, so that equal
// errors are counted together.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return addrRe.ReplaceAllString(err.Error(), "ADDR")
}

// pageViews is flood 1: cookie-less GETs of the login page and the home
// page, alternately. Each one starts an anonymous session on the example
// (for the CSRF token of the login form) that nobody ever comes back to.
func pageViews(cfg *config, ep endpoints) *floodSpec {
	return &floodSpec{
		Key:   "pages",
		Title: "Cookie-less page views",
		About: fmt.Sprintf("`GET %s` and `GET %s` alternately, without cookies: every response sets a new "+
			"session cookie that is never sent back.", pathOf(ep.Login), pathOf(ep.Home)),
		Count: cfg.pages,
		Conc:  cfg.pagesConc,
		Request: func(ctx context.Context, i int) (string, *http.Request, error) {
			target, label := ep.Login, "GET "+pathOf(ep.Login)
			if i%2 == 1 {
				target, label = ep.Home, "GET "+pathOf(ep.Home)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			return label, req, err
		},
	}
}

// deviceAuthorizations is flood 2: device authorization requests of the
// public device client, from one address, or spread over cfg.deviceSpread
// addresses with X-Forwarded-For.
func deviceAuthorizations(cfg *config, ep endpoints) *floodSpec {
	body := url.Values{"client_id": {cfg.deviceClient}}
	if cfg.scope != "" {
		body.Set("scope", cfg.scope)
	}
	enc := body.Encode()
	from := "one source address (the tool's 127.0.0.1, no `X-Forwarded-For`)"
	label := "POST " + pathOf(ep.Device) + ", one address"
	if cfg.deviceSpread > 0 {
		from = fmt.Sprintf("%d source addresses in 198.18.0.0/16, round robin, sent as `X-Forwarded-For` "+
			"(the server must trust 127.0.0.1 as a proxy)", cfg.deviceSpread)
		label = fmt.Sprintf("POST %s, %d addresses", pathOf(ep.Device), cfg.deviceSpread)
	}
	return &floodSpec{
		Key:   "device",
		Title: "Device authorizations",
		About: fmt.Sprintf("`POST %s` with `%s`, from %s. Every 200 is a pending device code stored "+
			"until it expires; the server caps them per source address and per client and answers 429 beyond.",
			pathOf(ep.Device), enc, from),
		Count: cfg.device,
		Conc:  cfg.deviceConc,
		Request: func(ctx context.Context, i int) (string, *http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.Device, strings.NewReader(enc))
			if err != nil {
				return label, nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if cfg.deviceSpread > 0 {
				req.Header.Set("X-Forwarded-For", rangeAddr(198, 18, i%cfg.deviceSpread))
			}
			return label, req, nil
		},
	}
}

// scopeTokens returns n distinct scope tokens: 0..z, 10..zz, … in base 36,
// so that de-duplication cannot shrink them.
func scopeTokens(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.FormatInt(int64(i), 36)
	}
	return out
}

// hugeScopes is flood 3: requests whose scope has cfg.scopeTokens tokens,
// at the authorization endpoint (in the request line, without and with a
// logged-in session) and at the token endpoint (a body over the limit, and
// the most tokens that fit in cfg.bodyLimit).
func hugeScopes(ctx context.Context, cfg *config, ep endpoints, l *legit) (*floodSpec, error) {
	tokens := scopeTokens(cfg.scopeTokens)
	scope := strings.Join(tokens, " ")
	sum := sha256.Sum256([]byte("flood"))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {cfg.publicClient},
		"redirect_uri":          {ep.Redirect},
		"scope":                 {scope},
		"state":                 {"flood"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	authURL := ep.Authorize + "?" + q.Encode()
	bigBody := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()
	// The most tokens that fit in the body limit.
	prefix := "grant_type=client_credentials&scope="
	var b strings.Builder
	b.WriteString(prefix)
	fit := 0
	for _, t := range tokens {
		add := len(t)
		if fit > 0 {
			add++
		}
		if b.Len()+add > cfg.bodyLimit {
			break
		}
		if fit > 0 {
			b.WriteByte('+')
		}
		b.WriteString(t)
		fit++
	}
	fitBody := b.String()

	cookie, err := l.login(ctx)
	if err != nil {
		return nil, fmt.Errorf("huge scopes: log in for the session requests: %w", err)
	}

	type kind struct {
		label string
		build func(ctx context.Context) (*http.Request, error)
	}
	// Parsed once and cloned: parsing a request line this long costs the
	// tool as much as it costs the server.
	authReq, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	get := func(cookie string) func(ctx context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) {
			req := authReq.Clone(ctx)
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			return req, nil
		}
	}
	post := func(body string) func(ctx context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.Token, strings.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(cfg.confClient), url.QueryEscape(cfg.confSecret))
			return req, nil
		}
	}
	kinds := []kind{
		{fmt.Sprintf("GET %s, %d tokens (%s request line), no session", pathOf(ep.Authorize), len(tokens), kib(len(authURL))), get("")},
		{fmt.Sprintf("GET %s, %d tokens, logged-in session", pathOf(ep.Authorize), len(tokens)), get(cookie)},
		{fmt.Sprintf("POST %s, %d tokens (%s body)", pathOf(ep.Token), len(tokens), kib(len(bigBody))), post(bigBody)},
		{fmt.Sprintf("POST %s, %d tokens (%d B body, fits)", pathOf(ep.Token), fit, len(fitBody)), post(fitBody)},
	}
	return &floodSpec{
		Key:   "scope",
		Title: "Huge scopes",
		About: fmt.Sprintf("Scopes of %d distinct tokens (`0 1 … %s`), round robin over four requests: the "+
			"authorization request of `%s` with the scope in its request line, without cookies and with a "+
			"logged-in session; the client_credentials token request of `%s` with the whole scope (over the "+
			"body limit of %d bytes) and with the %d tokens that fit in it.",
			len(tokens), tokens[len(tokens)-1], cfg.publicClient, cfg.confClient, cfg.bodyLimit, fit),
		Count: cfg.scopeRequests,
		Conc:  cfg.scopeConc,
		Request: func(ctx context.Context, i int) (string, *http.Request, error) {
			k := kinds[i%len(kinds)]
			req, err := k.build(ctx)
			return k.label, req, err
		},
	}, nil
}

func pathOf(s string) string {
	if u, err := url.Parse(s); err == nil && u.Path != "" {
		return u.Path
	}
	return s
}

func kib(n int) string {
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}
