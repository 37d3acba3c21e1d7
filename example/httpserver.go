package main

import (
	"net/http"
	"time"
)

// maxHeaderBytes caps the request line and headers: ample for cookies and
// an Authorization header, far below net/http's default of 1 MiB. Larger
// requests get 431 before any handler runs.
const maxHeaderBytes = 32 << 10

// newHTTPServer returns the http.Server that serves h (the example's Echo):
// every phase of a request has a deadline, so slow clients cannot hold
// connections open, headers are capped, and HEAD is
// answered wherever GET is. main and the tests serve through it.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           headAsGet(h),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// headAsGet hands a HEAD request to h as the GET of the same URL, so that
// HEAD is answered wherever GET is (RFC 9110 §9.3.2), which Echo's router
// does not do by itself. h sees a copy of the request with method GET;
// net/http, which holds the original HEAD request, sends the status and
// the headers (Content-Length included) and drops the body. A path without
// GET stays 405.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(r.Context()) // a shallow copy: the original stays HEAD
			r.Method = http.MethodGet
		}
		h.ServeHTTP(w, r)
	})
}
