package memorymodel

import (
	"context"
	"sync"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.PushedAuthorizationRequestModel = (*Model)(nil)

// pushedSweepEvery is how many saved pushed requests pass between two
// sweeps of expired ones.
const pushedSweepEvery = 256

// pushedStore holds pushed authorization requests under a lock of its own:
// they are independent of every other item. It keys them by the raw
// request_uri, as deviceStore keys device codes: a process-local store has
// no database to leak. A consumed request is deleted, which is what makes
// it single use. The zero value is ready to use.
type pushedStore struct {
	mu    sync.Mutex
	byURI map[string]oauth2server.PushedAuthorizationRequest
	saves int
}

// SavePushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel].
func (m *Model) SavePushedAuthorizationRequest(ctx context.Context, req *oauth2server.PushedAuthorizationRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ps := &m.pushed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.byURI == nil {
		ps.byURI = make(map[string]oauth2server.PushedAuthorizationRequest)
	}
	ps.byURI[req.RequestURI] = *req
	if ps.saves++; ps.saves%pushedSweepEvery == 0 {
		now := m.now()
		for k, v := range ps.byURI {
			if now.After(v.ExpiresAt) {
				delete(ps.byURI, k)
			}
		}
	}
	return nil
}

// GetPushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel]: nil once consumed.
func (m *Model) GetPushedAuthorizationRequest(ctx context.Context, requestURI string) (*oauth2server.PushedAuthorizationRequest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ps := &m.pushed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	req, ok := ps.byURI[requestURI]
	if !ok {
		return nil, nil
	}
	return &req, nil
}

// ConsumePushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel]: it deletes the request
// under the lock, so of concurrent calls exactly one reports true.
func (m *Model) ConsumePushedAuthorizationRequest(ctx context.Context, requestURI string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ps := &m.pushed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if _, ok := ps.byURI[requestURI]; !ok {
		return false, nil
	}
	delete(ps.byURI, requestURI)
	return true, nil
}

// pushedCount is the number of pushed requests held, for the sweep test.
func (m *Model) pushedCount(now time.Time) (live, all int) {
	ps := &m.pushed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, v := range ps.byURI {
		if now.Before(v.ExpiresAt) {
			live++
		}
	}
	return live, len(ps.byURI)
}
