package oauth2server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// faultyDevices is the memory model with failures injected into its
// device methods.
type faultyDevices struct {
	*memorymodel.Model
	takenSaves int   // SaveDeviceCode answers ErrUserCodeTaken this many times
	fail       error // returned by the method named in failing
	failing    string
}

func (f *faultyDevices) SaveDeviceCode(ctx context.Context, d *oauth2server.DeviceCode) error {
	if f.takenSaves > 0 {
		f.takenSaves--
		return oauth2server.ErrUserCodeTaken
	}
	if f.failing == "SaveDeviceCode" {
		return f.fail
	}
	return f.Model.SaveDeviceCode(ctx, d)
}

func (f *faultyDevices) GetDeviceCodeByUserCode(ctx context.Context, uc string) (*oauth2server.DeviceCode, error) {
	if f.failing == "GetDeviceCodeByUserCode" {
		return nil, f.fail
	}
	return f.Model.GetDeviceCodeByUserCode(ctx, uc)
}

func (f *faultyDevices) SetDeviceDecision(ctx context.Context, uc string, d *oauth2server.DeviceDecision) (bool, error) {
	if f.failing == "SetDeviceDecision" {
		return false, f.fail
	}
	return f.Model.SetDeviceDecision(ctx, uc, d)
}

func (f *faultyDevices) PollDeviceCode(ctx context.Context, dc, clientID string, now time.Time) (*oauth2server.DeviceCode, error) {
	if f.failing == "PollDeviceCode" {
		return nil, f.fail
	}
	return f.Model.PollDeviceCode(ctx, dc, clientID, now)
}

func (f *faultyDevices) RaiseDeviceInterval(ctx context.Context, dc string, d time.Duration) error {
	if f.failing == "RaiseDeviceInterval" {
		return f.fail
	}
	return f.Model.RaiseDeviceInterval(ctx, dc, d)
}

func (f *faultyDevices) ConsumeDeviceCode(ctx context.Context, dc string) (bool, error) {
	if f.failing == "ConsumeDeviceCode" {
		return false, f.fail
	}
	return f.Model.ConsumeDeviceCode(ctx, dc)
}

// newFaultyEnv is a testEnv whose model is the memorymodel inside f.
func newFaultyEnv(t *testing.T, options ...envOption) (*faultyDevices, *testEnv) {
	t.Helper()
	var f *faultyDevices
	e := newTestEnv(t, append(options, withModel(func(m *memorymodel.Model) oauth2server.Model {
		f = &faultyDevices{Model: m, fail: errStore}
		return f
	}))...)
	return f, e
}

func TestDeviceUserCodeCollisionRetry(t *testing.T) {
	f, e := newFaultyEnv(t)
	f.takenSaves = 2
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, http.StatusOK, r.status, "third try succeeds")

	f.takenSaves = 3
	r = e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "server_error", r.errorCode())
}

// A storage fault is server_error (503) with the cause only in logs.
func TestDeviceStorageFaults(t *testing.T) {
	ctx := context.Background()
	alice := &oauth2server.User{ID: "alice"}
	tests := []struct {
		name   string
		method string
		when   func(t *testing.T, e *testEnv, dc, uc string) error
	}{
		{"nok, save", "SaveDeviceCode", func(t *testing.T, e *testEnv, _, _ string) error {
			r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
			assert.Equal(t, http.StatusServiceUnavailable, r.status)
			assert.NotContains(t, r.body["error_description"], "store is down")
			return oautherrors.ErrServerError
		}},
		{"nok, lookup", "GetDeviceCodeByUserCode", func(t *testing.T, e *testEnv, _, uc string) error {
			_, err := e.srv.LookupUserCode(ctx, uc)
			return err
		}},
		{"nok, decision", "SetDeviceDecision", func(t *testing.T, e *testEnv, _, uc string) error {
			return e.srv.ApproveDevice(ctx, uc, alice, nil)
		}},
		{"nok, poll", "PollDeviceCode", func(t *testing.T, e *testEnv, dc, _ string) error {
			return tokenErr(e, dc)
		}},
		{"nok, raise interval", "RaiseDeviceInterval", func(t *testing.T, e *testEnv, dc, _ string) error {
			require.ErrorIs(t, tokenErr(e, dc), oautherrors.ErrAuthorizationPending)
			return tokenErr(e, dc)
		}},
		{"nok, consume", "ConsumeDeviceCode", func(t *testing.T, e *testEnv, dc, uc string) error {
			require.NoError(t, e.srv.ApproveDevice(ctx, uc, alice, nil))
			return tokenErr(e, dc)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, e := newFaultyEnv(t)
			r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
			require.Equal(t, http.StatusOK, r.status)
			f.failing = tc.method
			err := tc.when(t, e, r.body["device_code"].(string), r.body["user_code"].(string))
			assert.ErrorIs(t, err, oautherrors.ErrServerError)
			assert.True(t, oautherrors.IsServerError(err))
		})
	}
}

// tokenErr polls for the device code as tvID and returns the Server's error.
func tokenErr(e *testEnv, dc string) error {
	_, err := e.srv.Token(tokenReq{body: url.Values{"grant_type": {oauth2server.GrantDeviceCode},
		"client_id": {tvID}, "device_code": {dc}}.Encode()}.build())
	return err
}

// a device authorization that stored nothing gives its charges
// back: a store outage does not use up an address's budget.
func TestDeviceFailedSaveIsRefunded(t *testing.T) {
	f, e := newFaultyEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.MaxPendingPerAddress = 2 }))
	f.failing = "SaveDeviceCode"
	for range 5 {
		r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
		require.Equal(t, http.StatusServiceUnavailable, r.status)
	}
	f.failing = ""
	for range 2 {
		r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
		assert.Equal(t, http.StatusOK, r.status, "the outage charged nothing")
	}
}
