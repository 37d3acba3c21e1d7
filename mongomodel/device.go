package mongomodel

import (
	"context"
	stderrors "errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

// Device authorization requests (RFC 8628) live in the devices collection,
// keyed by the digest of the device code, with the digest of the user code
// under a unique index. Neither code is stored in plain text.
//
// The decision and the redemption are not fields of that document but
// documents of their own in the claims collection, inserted under a unique
// _id: "d:" + the request's _id holds the decision, "r:" + the request's
// _id marks it redeemed. The reasons:
//
//   - A unique-key insert is the one write that is atomic on MongoDB and on
//     FerretDB alike; a conditional update on {status: "pending"} is not
//     atomic on FerretDB, where several of 20 racing decisions won.
//   - FerretDB applies an update by reading the whole document and writing
//     it back, so a poll's $set of lastPolledAt racing a decision's $set of
//     status could write the old status back and undo the decision. Claims
//     are only ever inserted and deleted, and the request document only
//     takes the client's polling state (lastPolledAt, interval).
//
// The price is one more round trip on reads (the claims of one request are
// fetched in one query) and none on writes. Claims are kept until an hour
// after the request expires, so they outlive it.

// deviceDecisionPrefix and deviceRedeemedPrefix prefix the claims of a
// device request.
const (
	deviceDecisionPrefix = "d:"
	deviceRedeemedPrefix = "r:"
)

// SaveDeviceCode implements [oauth2server.DeviceCodeModel]. A device code
// or user code of a request that has not expired is an error wrapping
// [oauth2server.ErrUserCodeTaken].
//
// The unique indexes (_id and user) do not know about expiry, and a
// partial index ({expiresAt: {$gt: now}} could not be one anyway) is
// refused by FerretDB. So a clash is resolved here: if every request that
// holds the codes has expired, it is deleted, with its claims, and the
// insert is tried once more.
func (m *Model) SaveDeviceCode(ctx context.Context, dc *oauth2server.DeviceCode) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := deviceToDoc(dc)
	for try := 0; ; try++ {
		_, err := m.devices.InsertOne(ctx, d)
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return wrap("save device code", err)
		}
		if try == 1 {
			return fmt.Errorf("mongomodel: save device code: %w", oauth2server.ErrUserCodeTaken)
		}
		freed, err := m.freeExpiredDevices(ctx, d.ID, d.User)
		if err != nil {
			return wrap("save device code", err)
		}
		if !freed {
			return fmt.Errorf("mongomodel: save device code: %w", oauth2server.ErrUserCodeTaken)
		}
	}
}

// freeExpiredDevices deletes the requests holding the device code digest
// id or the user code digest user, and reports true, if all of them have
// expired; if one is live it deletes nothing and reports false. The
// delete is conditional on expiry, and expiresAt never changes, so it
// cannot remove a live request.
func (m *Model) freeExpiredDevices(ctx context.Context, id, user string) (bool, error) {
	cur, err := m.devices.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "user", Value: user}},
	}}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "expiresAt", Value: 1}}))
	if err != nil {
		return false, err
	}
	var held []deviceDoc
	if err := cur.All(ctx, &held); err != nil {
		return false, err
	}
	now := m.opts.Now()
	for _, h := range held {
		if now.Before(h.ExpiresAt) {
			return false, nil
		}
	}
	for _, h := range held {
		// Claims first: a request must never be seen without them.
		if _, err := m.claims.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{
			deviceDecisionPrefix + h.ID, deviceRedeemedPrefix + h.ID,
		}}}}}); err != nil {
			return false, err
		}
		if _, err := m.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: h.ID},
			{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// deviceState reads the decision and the redemption of the request id.
func (m *Model) deviceState(ctx context.Context, id string) (*decisionDoc, bool, error) {
	cur, err := m.claims.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{
		deviceDecisionPrefix + id, deviceRedeemedPrefix + id,
	}}}}})
	if err != nil {
		return nil, false, err
	}
	var docs []decisionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, err
	}
	var (
		dec      *decisionDoc
		redeemed bool
	)
	for i := range docs {
		switch docs[i].ID {
		case deviceDecisionPrefix + id:
			dec = &docs[i]
		case deviceRedeemedPrefix + id:
			redeemed = true
		}
	}
	return dec, redeemed, nil
}

// GetDeviceCodeByUserCode implements [oauth2server.DeviceCodeModel]. The
// returned request has the UserCode that was looked up and an empty
// DeviceCode. Two round trips: the request and its claims.
func (m *Model) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*oauth2server.DeviceCode, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d deviceDoc
	found, err := findOne(ctx, m.devices, bson.D{{Key: "user", Value: oauth2server.TokenDigest(userCode)}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get device code by user code", err)
	}
	dec, redeemed, err := m.deviceState(ctx, d.ID)
	if err != nil {
		return nil, wrap("get device code by user code", err)
	}
	out := d.device(dec, redeemed)
	out.UserCode = userCode
	return out, nil
}

// SetDeviceDecision implements [oauth2server.DeviceCodeModel]: of
// concurrent decisions on one pending, unexpired request exactly one
// reports true, the one whose insert of the decision claim succeeds. Two
// round trips: the request, then the claim.
func (m *Model) SetDeviceDecision(ctx context.Context, userCode string, dd *oauth2server.DeviceDecision) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d deviceDoc
	found, err := findOne(ctx, m.devices, bson.D{{Key: "user", Value: oauth2server.TokenDigest(userCode)}}, &d,
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "expiresAt", Value: 1}, {Key: "status", Value: 1}}))
	if err != nil || !found {
		return false, wrapIf("set device decision", err)
	}
	if !dd.Now.Before(d.ExpiresAt) || d.Status != string(oauth2server.DeviceCodePending) {
		return false, nil
	}
	dec := decisionDoc{
		ID:        deviceDecisionPrefix + d.ID,
		ExpiresAt: d.ExpiresAt.Add(claimLifetime),
		Approved:  dd.Approved,
		UserID:    dd.UserID,
	}
	if dd.Approved {
		dec.Scope = dd.Scope
	}
	if _, err := m.claims.InsertOne(ctx, dec); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil // decided already
		}
		return false, wrap("set device decision", err)
	}
	return true, nil
}

// PollDeviceCode implements [oauth2server.DeviceCodeModel]: it sets
// lastPolledAt and returns the request as it was before, with the
// DeviceCode that was looked up. Two round trips (one for an unknown
// code): the update returning the old document, then the claims.
//
// On FerretDB two concurrent polls of one request may both see the same
// previous poll; each is then judged against it, which is what a
// sequential pair would see of the earlier poll at worst.
func (m *Model) PollDeviceCode(ctx context.Context, deviceCode, clientID string, now time.Time) (*oauth2server.DeviceCode, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	raw, err := m.devices.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: oauth2server.TokenDigest(deviceCode)}, {Key: "clientId", Value: clientID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastPolledAt", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Raw()
	if stderrors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("poll device code", err)
	}
	var d deviceDoc
	if err := decode(raw, &d); err != nil {
		return nil, wrap("poll device code", err)
	}
	dec, redeemed, err := m.deviceState(ctx, d.ID)
	if err != nil {
		return nil, wrap("poll device code", err)
	}
	out := d.device(dec, redeemed)
	out.DeviceCode = deviceCode
	return out, nil
}

// RaiseDeviceInterval implements [oauth2server.DeviceCodeModel] with $max,
// which never lowers the interval. On FerretDB, whose updates are not
// atomic, a poll racing this update can write the previous interval back;
// only a client that polls concurrently with itself gets that, and its
// next poll that comes too fast raises the interval again.
func (m *Model) RaiseDeviceInterval(ctx context.Context, deviceCode string, interval time.Duration) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	_, err := m.devices.UpdateOne(ctx, bson.D{{Key: "_id", Value: oauth2server.TokenDigest(deviceCode)}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "interval", Value: interval}}}})
	return wrapIf("raise device interval", err)
}

// ConsumeDeviceCode implements [oauth2server.DeviceCodeModel]: of
// concurrent calls for one approved request exactly one reports true, the
// one whose insert of the redemption claim succeeds. The decision is read
// first; it never changes once written, so reading it and then inserting
// the claim is safe. Two round trips. The request is kept, redeemed, until
// it expires.
func (m *Model) ConsumeDeviceCode(ctx context.Context, deviceCode string) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	id := oauth2server.TokenDigest(deviceCode)
	var dec decisionDoc
	found, err := findOne(ctx, m.claims, bson.D{{Key: "_id", Value: deviceDecisionPrefix + id}}, &dec)
	if err != nil || !found || !dec.Approved {
		return false, wrapIf("consume device code", err)
	}
	if _, err := m.claims.InsertOne(ctx, claimDoc{ID: deviceRedeemedPrefix + id, ExpiresAt: dec.ExpiresAt}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil // redeemed already
		}
		return false, wrap("consume device code", err)
	}
	return true, nil
}
