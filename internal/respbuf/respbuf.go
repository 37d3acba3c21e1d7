// Package respbuf lends the buffers that the token endpoint handlers of
// handlers and nethttp write their responses from. A token response is
// written on every token request, and its bytes are dead once the
// ResponseWriter has them (io.Writer must not retain them), so a pooled
// buffer saves an allocation the size of the response per request.
package respbuf

import "sync"

// maxPooled is the largest buffer the pool keeps: one response with huge
// extended attributes must not pin its buffer for the life of the process.
const maxPooled = 16 << 10

var pool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// Get returns an empty buffer. Give it back with Put once written.
func Get() *[]byte {
	b := pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// Put gives b back, keeping what it grew to, unless it grew too large.
func Put(b *[]byte) {
	if cap(*b) <= maxPooled {
		pool.Put(b)
	}
}
