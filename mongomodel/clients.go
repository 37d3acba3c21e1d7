package mongomodel

import (
	"runtime"
	"sync"
	"time"
	"weak"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/echo-oauth2/oauth2server"
)

// clientUsers remembers, for each *oauth2server.Client that GetClient
// returned, the user its document named (or that it named none), so that
// GetUserFromClient with that same Client, which the Server calls in the
// same client_credentials request, needs no round trip. The answer is the
// one the document gave when GetClient read it, milliseconds earlier: the
// same as if SetClientUser had run after the request.
//
// The key is the Client's address, held weakly: an entry goes when
// GetUserFromClient takes it or when the Client is garbage collected, so a
// Client that never reaches the grant costs nothing lasting. Another Client
// value, even an equal one, is not found, and GetUserFromClient reads the
// document as before.
type clientUsers struct {
	mu sync.Mutex
	m  map[weak.Pointer[oauth2server.Client]]*oauth2server.User // nil: the client acts for no one
}

// remember records u as the user of c until take or c's collection.
func (cu *clientUsers) remember(c *oauth2server.Client, u *oauth2server.User) {
	wp := weak.Make(c)
	cu.mu.Lock()
	if cu.m == nil {
		cu.m = map[weak.Pointer[oauth2server.Client]]*oauth2server.User{}
	}
	cu.m[wp] = u
	cu.mu.Unlock()
	runtime.AddCleanup(c, cu.forget, wp)
}

// take returns and forgets the user recorded for c, and whether there was
// one.
func (cu *clientUsers) take(c *oauth2server.Client) (*oauth2server.User, bool) {
	wp := weak.Make(c)
	cu.mu.Lock()
	defer cu.mu.Unlock()
	u, ok := cu.m[wp]
	if ok {
		delete(cu.m, wp)
	}
	return u, ok
}

// forget drops the entry of a collected Client.
func (cu *clientUsers) forget(wp weak.Pointer[oauth2server.Client]) {
	cu.mu.Lock()
	delete(cu.m, wp)
	cu.mu.Unlock()
}

// clientCacheMax bounds the client documents a Model keeps
// ([Options.ClientCacheTTL]). Only clients that exist are kept, so only
// registering that many clients fills it; when full, an expired entry or
// else an arbitrary one makes room.
const clientCacheMax = 10000

// clientCache keeps client documents as read, raw, for ClientCacheTTL.
// Each hit decodes its own copy, so no caller shares slices or Extra with
// the cache or with another caller.
type clientCache struct {
	mu sync.Mutex
	m  map[string]cachedClient
}

type cachedClient struct {
	raw     bson.Raw
	expires time.Time
}

// get returns the document of the client, if kept and not expired at now.
func (cc *clientCache) get(id string, now time.Time) (bson.Raw, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[id]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.raw, true
}

// put keeps raw, which the caller no longer changes, until expires.
func (cc *clientCache) put(id string, raw bson.Raw, now, expires time.Time) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]cachedClient{}
	}
	if _, ok := cc.m[id]; !ok && len(cc.m) >= clientCacheMax {
		evicted := false
		for k, e := range cc.m {
			if !now.Before(e.expires) {
				delete(cc.m, k)
				evicted = true
			}
		}
		if !evicted {
			for k := range cc.m {
				delete(cc.m, k)
				break
			}
		}
	}
	cc.m[id] = cachedClient{raw: raw, expires: expires}
}

// drop forgets the client.
func (cc *clientCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}
