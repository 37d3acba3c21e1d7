package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// sessionsCollection is the example's own collection, beside the model's
// in the same database.
const sessionsCollection = "example_sessions"

// mongoSessions keeps sessions in MongoDB, so that a login on one instance
// is seen by all. Documents are keyed by the session key (the SHA-256 of
// the cookie value), never the id itself. Expiry is checked on every read:
// FerretDB has no TTL indexes, which only free the space where they exist.
type mongoSessions struct {
	sessions *mongo.Collection
	max      int
}

type sessionDoc struct {
	Key       string    `bson:"_id"`
	UserID    string    `bson:"user"`
	Username  string    `bson:"username"`
	Created   time.Time `bson:"created"`
	Seen      time.Time `bson:"seen"`
	ExpiresAt time.Time `bson:"expiresAt"`
	AuthTime  time.Time `bson:"authTime"`
	AMR       []string  `bson:"amr,omitempty"`
}

var _ sessionStore = (*mongoSessions)(nil)

func newMongoSessions(db *mongo.Database, max int) *mongoSessions {
	return &mongoSessions{
		sessions: db.Collection(sessionsCollection),
		max:      max,
	}
}

// ensureIndexes indexes expiresAt, as a TTL index when ttl (the server
// supports them), and the sessions' last use, which eviction sorts by.
func (m *mongoSessions) ensureIndexes(ctx context.Context, ttl bool) error {
	expires := mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}}
	if ttl {
		expires.Options = options.Index().SetExpireAfterSeconds(0)
	}
	for _, ix := range []mongo.IndexModel{expires, {Keys: bson.D{{Key: "seen", Value: 1}}}} {
		if _, err := m.sessions.Indexes().CreateOne(ctx, ix); err != nil {
			return fmt.Errorf("sessions: indexes of %s: %w", m.sessions.Name(), err)
		}
	}
	return nil
}

func docOf(s *session) sessionDoc {
	return sessionDoc{Key: s.key, UserID: s.userID, Username: s.username,
		Created: s.created, Seen: s.seen, ExpiresAt: s.expiresAt(), AuthTime: s.authTime, AMR: s.amr}
}

func (m *mongoSessions) create(ctx context.Context, s *session) error {
	if _, err := m.sessions.InsertOne(ctx, docOf(s)); err != nil {
		return fmt.Errorf("sessions: create: %w", err)
	}
	return m.evict(ctx)
}

// evict deletes the least recently used sessions beyond max. Concurrent
// logins on several instances may overshoot the cap briefly; the next
// login trims it again.
func (m *mongoSessions) evict(ctx context.Context) error {
	n, err := m.sessions.EstimatedDocumentCount(ctx)
	if err != nil {
		return fmt.Errorf("sessions: count: %w", err)
	}
	over := n - int64(m.max)
	if over <= 0 {
		return nil
	}
	cur, err := m.sessions.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "seen", Value: 1}}).SetLimit(over).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("sessions: evict: %w", err)
	}
	var oldest []struct {
		Key string `bson:"_id"`
	}
	if err := cur.All(ctx, &oldest); err != nil {
		return fmt.Errorf("sessions: evict: %w", err)
	}
	keys := make([]string, len(oldest))
	for i, o := range oldest {
		keys[i] = o.Key
	}
	if _, err := m.sessions.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}}); err != nil {
		return fmt.Errorf("sessions: evict: %w", err)
	}
	return nil
}

func (m *mongoSessions) get(ctx context.Context, key string, now time.Time) (*session, error) {
	var d sessionDoc
	err := m.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: get: %w", err)
	}
	s := &session{key: d.Key, userID: d.UserID, username: d.Username, created: d.Created, seen: d.Seen,
		authTime: d.AuthTime, amr: d.AMR}
	if s.expired(now) {
		if _, err := m.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
			return nil, fmt.Errorf("sessions: delete expired: %w", err)
		}
		return nil, nil
	}
	if now.Sub(s.seen) >= sessionTouchEvery {
		s.seen = now
		_, err := m.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "seen", Value: s.seen}, {Key: "expiresAt", Value: s.expiresAt()},
		}}})
		if err != nil {
			return nil, fmt.Errorf("sessions: touch: %w", err)
		}
	}
	return s, nil
}

func (m *mongoSessions) delete(ctx context.Context, key string) error {
	if _, err := m.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return fmt.Errorf("sessions: delete: %w", err)
	}
	return nil
}

// deleteExpired deletes expired sessions, what a TTL index does where the
// server has them. The expiresAt index makes it cost what expired.
func (m *mongoSessions) deleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := m.sessions.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return 0, fmt.Errorf("sessions: delete expired: %w", err)
	}
	return res.DeletedCount, nil
}
