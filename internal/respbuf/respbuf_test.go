package respbuf

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGetIsEmpty(t *testing.T) {
	b := Get()
	*b = append(*b, "written"...)
	Put(b)
	for range 10 {
		b := Get()
		assert.Empty(t, *b, "a lent buffer starts empty, whatever the last borrower wrote")
		Put(b)
	}
}

func TestPutDropsLargeBuffers(t *testing.T) {
	large := make([]byte, 0, maxPooled+1)
	Put(&large) // must not panic, and is not kept
	for range 10 {
		b := Get()
		assert.LessOrEqual(t, cap(*b), maxPooled)
		Put(b)
	}
}
