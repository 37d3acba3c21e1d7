package memorymodel

import (
	"context"
	"fmt"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.DeviceCodeModel = (*Model)(nil)

// deviceSweepEvery is how many saved device requests pass between two
// sweeps of expired ones.
const deviceSweepEvery = 256

// deviceStore holds device authorization requests under the Model's mutex.
// It keys them by the raw codes: a process-local store has no database to
// leak, and a durable model must key them by digest instead.
type deviceStore struct {
	byDevice map[string]*oauth2server.DeviceCode
	byUser   map[string]*oauth2server.DeviceCode
	saves    int
}

func newDeviceStore() deviceStore {
	return deviceStore{
		byDevice: make(map[string]*oauth2server.DeviceCode),
		byUser:   make(map[string]*oauth2server.DeviceCode),
	}
}

// SaveDeviceCode implements [oauth2server.DeviceCodeModel]. A user code or
// device code of a live request is [oauth2server.ErrUserCodeTaken].
func (m *Model) SaveDeviceCode(ctx context.Context, d *oauth2server.DeviceCode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cp := d.Clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	ds := &m.devices
	for _, old := range []*oauth2server.DeviceCode{ds.byUser[cp.UserCode], ds.byDevice[cp.DeviceCode]} {
		if old == nil {
			continue
		}
		if now.Before(old.ExpiresAt) {
			return fmt.Errorf("memorymodel: save device code: %w", oauth2server.ErrUserCodeTaken)
		}
		delete(ds.byUser, old.UserCode)
		delete(ds.byDevice, old.DeviceCode)
	}
	ds.byUser[cp.UserCode] = cp
	ds.byDevice[cp.DeviceCode] = cp
	ds.saves++
	if ds.saves%deviceSweepEvery == 0 {
		for k, v := range ds.byDevice {
			if now.After(v.ExpiresAt) {
				delete(ds.byDevice, k)
				delete(ds.byUser, v.UserCode)
			}
		}
	}
	return nil
}

// GetDeviceCodeByUserCode implements [oauth2server.DeviceCodeModel].
func (m *Model) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*oauth2server.DeviceCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.devices.byUser[userCode].Clone(), nil
}

// SetDeviceDecision implements [oauth2server.DeviceCodeModel]: only a
// pending, unexpired request changes.
func (m *Model) SetDeviceDecision(ctx context.Context, userCode string, d *oauth2server.DeviceDecision) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.devices.byUser[userCode]
	if stored == nil || stored.Status != oauth2server.DeviceCodePending || !d.Now.Before(stored.ExpiresAt) {
		return false, nil
	}
	stored.Status = oauth2server.DeviceCodeDenied
	if d.Approved {
		stored.Status = oauth2server.DeviceCodeApproved
		stored.Scope = append([]string(nil), d.Scope...)
	}
	stored.UserID = d.UserID
	return true, nil
}

// PollDeviceCode implements [oauth2server.DeviceCodeModel]: it returns the
// request as it was before recording the poll.
func (m *Model) PollDeviceCode(ctx context.Context, deviceCode, clientID string, now time.Time) (*oauth2server.DeviceCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.devices.byDevice[deviceCode]
	if stored == nil || stored.ClientID != clientID {
		return nil, nil
	}
	prev := stored.Clone()
	stored.LastPolledAt = now
	return prev, nil
}

// RaiseDeviceInterval implements [oauth2server.DeviceCodeModel]; it never
// lowers the interval.
func (m *Model) RaiseDeviceInterval(ctx context.Context, deviceCode string, interval time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored := m.devices.byDevice[deviceCode]; stored != nil && interval > stored.Interval {
		stored.Interval = interval
	}
	return nil
}

// ConsumeDeviceCode implements [oauth2server.DeviceCodeModel]: of
// concurrent calls for one approved request exactly one reports true. The
// request is kept, redeemed, until it expires.
func (m *Model) ConsumeDeviceCode(ctx context.Context, deviceCode string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.devices.byDevice[deviceCode]
	if stored == nil || stored.Status != oauth2server.DeviceCodeApproved {
		return false, nil
	}
	stored.Status = oauth2server.DeviceCodeRedeemed
	return true, nil
}
