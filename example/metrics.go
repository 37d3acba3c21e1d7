package main

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/modelobserve"
)

// Paths of the operational endpoints (docs/operations.md).
const (
	metricsPath = "/metrics"
	healthPath  = "/healthz"
	readyPath   = "/readyz"
)

// Label values that stand for everything outside a bounded set: a stranger
// chooses paths, methods and grant types, and must not create a series per
// choice.
const (
	labelOther     = "other"
	labelUnmatched = "unmatched" // a request no route matched
)

// metrics are the example's Prometheus metrics, in a registry of their own
// (no global state: tests run several servers in one process).
type metrics struct {
	registry *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	tokens      *prometheus.CounterVec
	oauthErrors *prometheus.CounterVec
	modelCalls  *prometheus.HistogramVec

	// grants are the grant types the server enables, the label values of
	// tokens besides labelOther. Set once by setGrants, before serving.
	grants map[string]bool
	// maxBody is how much of a token request's body is kept to read its
	// grant_type: the server's own cap, beyond which it refuses the body.
	maxBody int64
}

// errorCodes are the label values of oauthErrors besides labelOther: the
// codes oauth2server answers with.
var errorCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range []*oautherrors.Error{
		oautherrors.ErrInvalidRequest, oautherrors.ErrInvalidClient, oautherrors.ErrInvalidGrant,
		oautherrors.ErrUnauthorizedClient, oautherrors.ErrUnsupportedGrantType, oautherrors.ErrInvalidScope,
		oautherrors.ErrAccessDenied, oautherrors.ErrUnsupportedResponseType, oautherrors.ErrServerError,
		oautherrors.ErrTemporarilyUnavailable, oautherrors.ErrInvalidToken, oautherrors.ErrInsufficientScope,
		oautherrors.ErrUnsupportedTokenType, oautherrors.ErrAuthorizationPending, oautherrors.ErrSlowDown,
		oautherrors.ErrExpiredToken,
	} {
		m[e.Code] = true
	}
	return m
}()

// httpMethods are the label values of method besides labelOther.
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2server_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "oauth2server_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "oauth2server_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2server_tokens_issued_total",
			Help: "Tokens issued by the token endpoint, by grant type.",
		}, []string{"grant_type"}),
		oauthErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth2server_oauth_errors_total",
			Help: "OAuth error answers (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3.1), by route pattern and error code.",
		}, []string{"route", "error"}),
		modelCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "oauth2server_model_call_duration_seconds",
			Help:    "Time of Model method calls, by method and result (ok or error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "result"}),
		grants: map[string]bool{},
	}
	m.registry.MustRegister(m.requests, m.duration, m.inFlight, m.tokens, m.oauthErrors, m.modelCalls,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// setGrants names the grant types the server enables and creates their
// token series at zero, so that rates start from the first token. maxBody
// is the server's cap on request bodies.
func (m *metrics) setGrants(grantTypes []string, maxBody int64) {
	for _, g := range grantTypes {
		m.grants[g] = true
		m.tokens.WithLabelValues(g)
	}
	m.maxBody = maxBody
}

// handler serves the registry in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:          m.registry, // counts its own errors
		EnableOpenMetrics: true,
	}))
}

// modelObserver feeds the model call histogram; the model is wrapped with
// it by modelobserve.Wrap.
func (m *metrics) modelObserver() modelobserve.Observer {
	return modelobserve.Func(func(_ context.Context, method string, start time.Time, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.modelCalls.WithLabelValues(method, result).Observe(time.Since(start).Seconds())
	})
}

// middleware counts every request once it is answered. It is the first
// middleware, so it sees the route Echo matched (c.Path(), a pattern such
// as "/oauth/token", never the raw path) and the final status: an error
// from the handler or a later middleware is written here, with
// Echo's error handler, instead of after it.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()

		route := c.Path()
		if route == "" {
			route = labelUnmatched
		}
		var body *teeBody
		if route == tokenPath {
			// The grant type of an issued token is in the request body,
			// which the Server reads itself: keep a copy as it does.
			body = &teeBody{ReadCloser: c.Request().Body, limit: m.maxBody}
			c.Request().Body = body
		}
		var capture *errorCapture
		if strings.HasPrefix(route, oauthPrefix+"/") {
			capture = &errorCapture{ResponseWriter: c.Response().Writer}
			c.Response().Writer = capture
		}

		if err := next(c); err != nil {
			c.Error(err)
		}

		res := c.Response()
		code := strconv.Itoa(res.Status)
		method := c.Request().Method
		if !httpMethods[method] {
			method = labelOther
		}
		m.requests.WithLabelValues(route, method, code).Inc()
		m.duration.WithLabelValues(route, method, code).Observe(time.Since(start).Seconds())
		if body != nil && res.Status == http.StatusOK {
			m.tokens.WithLabelValues(m.grantLabel(body.buf)).Inc()
		}
		if e := errorCode(route, res, capture); e != "" {
			m.oauthErrors.WithLabelValues(route, e).Inc()
		}
		return nil
	}
}

// grantLabel returns the grant_type of a token request body that the
// server accepted, or labelOther.
func (m *metrics) grantLabel(body []byte) string {
	v, err := url.ParseQuery(string(body))
	if g := v.Get("grant_type"); err == nil && m.grants[g] {
		return g
	}
	return labelOther
}

// errorCode returns the OAuth error code of an answer, "" when it is none:
// the "error" member of a JSON error body (token, revocation,
// introspection, device authorization), the error attribute of a bearer
// challenge (the protected API), or the error parameter of a redirect
// back to a client (the authorization endpoint). Codes oauth2server does
// not define are labelOther.
func errorCode(route string, res *echo.Response, capture *errorCapture) string {
	var code string
	switch {
	case capture != nil && len(capture.body) > 0:
		var b struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(capture.body, &b) != nil || b.Error == "" {
			return ""
		}
		code = b.Error
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		code = challengeError(res.Header().Get(echo.HeaderWWWAuthenticate))
	case route == authorizePath && res.Status >= 300 && res.Status < 400:
		u, err := url.Parse(res.Header().Get(echo.HeaderLocation))
		if err != nil {
			return ""
		}
		code = u.Query().Get("error")
		if f, err := url.ParseQuery(u.Fragment); code == "" && err == nil {
			code = f.Get("error") // the implicit grant answers in the fragment
		}
	}
	switch {
	case code == "":
		return ""
	case errorCodes[code]:
		return code
	}
	return labelOther
}

// challengeError returns the error attribute of a WWW-Authenticate
// challenge (RFC 6750 §3), or "".
func challengeError(h string) string {
	_, params, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	for p := range strings.SplitSeq(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "error") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// teeBody keeps the first limit bytes read from a request body.
type teeBody struct {
	io.ReadCloser
	limit int64
	buf   []byte
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := t.limit - int64(len(t.buf)); room > 0 {
		t.buf = append(t.buf, p[:min(int64(n), room)]...)
	}
	return n, err
}

// maxErrorBody caps the copy of an error answer: OAuth error bodies are
// short, fixed strings.
const maxErrorBody = 4 << 10

// errorCapture keeps the start of a JSON error answer.
type errorCapture struct {
	http.ResponseWriter
	keep bool
	body []byte
}

func (w *errorCapture) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		mt, _, err := mime.ParseMediaType(w.Header().Get(echo.HeaderContentType))
		w.keep = err == nil && mt == echo.MIMEApplicationJSON
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorCapture) Write(b []byte) (int, error) {
	if w.keep && len(w.body) < maxErrorBody {
		w.body = append(w.body, b[:min(len(b), maxErrorBody-len(w.body))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *errorCapture) Unwrap() http.ResponseWriter { return w.ResponseWriter }
