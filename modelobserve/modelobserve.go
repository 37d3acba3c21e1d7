// Package modelobserve wraps an [oauth2server.Model] so that every call of
// every method, of the mandatory Model and of each optional capability, is
// reported to an [Observer]: for metrics (a latency histogram per method),
// tracing (a span per call, see the otelmodel package) or logs.
//
// The wrapper claims exactly the capabilities of the model it wraps.
// [oauth2server.New] decides which grants it enables and which defaults it
// falls back to by looking for capability interfaces, so a wrapper that
// implemented every interface would make the Server believe that any model
// can store device codes or generate tokens; one that implemented only
// Model and Unwrap would hide nothing, but its capability calls would go
// around it, unobserved.
//
// [Wrap] therefore builds a chain: one link per capability the wrapped model
// has, each implementing Model, that one capability and
// [oauth2server.Unwrapper], whose Unwrap leads to the next link and, after
// the last, to the wrapped model. [oauth2server.Capability], which New and
// modeltest use, walks that chain and stops at the link of the capability
// it looks for; a capability the model lacks is found nowhere. Go cannot
// make one type with a method set chosen at run time, and one type per
// combination would be 2^25 types for the twenty-five optional interfaces.
//
// Two consequences:
//
//   - Look capabilities up one interface at a time, with
//     oauth2server.Capability. A type assertion on the wrapper itself
//     (m.(oauth2server.RefreshTokenModel)) fails, and so does one to an
//     interface that combines two capabilities: no single link has both.
//   - A capability interface this package does not know (one of your own,
//     or one added to oauth2server after this package) stays visible at
//     the end of the chain, but its calls are not observed.
package modelobserve

import (
	"context"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// Observer is told of every call made through a wrapper of [Wrap]. Its
// methods are called from many goroutines at once.
type Observer interface {
	// Start is called before the model method runs. method is its Go name
	// ("GetClient", "SaveToken", ...; [Methods] lists them). The context
	// Start returns is the one the model method receives and the one End
	// receives: a tracer puts its span there. Return ctx to change
	// nothing.
	Start(ctx context.Context, method string) context.Context
	// End is called after the method returned, with the context Start
	// returned, the time the method was called (taken after Start
	// returned) and its error. "Not found" and a revocation that found
	// nothing to revoke are successes (a nil error), as for the Server.
	End(ctx context.Context, method string, start time.Time, err error)
}

// Func is an [Observer] that is only told of the end of each call, which is
// all a latency histogram or a log line needs.
type Func func(ctx context.Context, method string, start time.Time, err error)

// Start returns ctx.
func (f Func) Start(ctx context.Context, _ string) context.Context { return ctx }

// End calls f.
func (f Func) End(ctx context.Context, method string, start time.Time, err error) {
	f(ctx, method, start, err)
}

// Wrap returns a Model that calls m and reports every call to o. It has
// exactly the capabilities m has (as [oauth2server.Capability] finds them,
// through m's own Unwrap chain too), so [oauth2server.New] enables the same
// grants and falls back to the same defaults as with m. Wrap a wrapped
// model again to add a second observer; the outer one sees each call
// first.
//
// The chain is built once, here: a call through the wrapper costs an
// interface call and the observer, nothing per capability.
func Wrap(m oauth2server.Model, o Observer) oauth2server.Model {
	c := &core{model: m, obs: o}
	var next oauth2server.Model = m
	for i := len(capabilities) - 1; i >= 0; i-- {
		if l := capabilities[i].link(c, next); l != nil {
			next = l
		}
	}
	if next == m {
		// No capability: a link of its own for GetClient and SaveToken.
		return &link{core: c, next: m}
	}
	return next
}

// Methods returns the names of the methods a wrapper of m reports to its
// observer, the mandatory ones first, in a fixed order: the label values a
// metric of each method can have, to create its series up front.
func Methods(m oauth2server.Model) []string {
	names := []string{"GetClient", "SaveToken"}
	for _, c := range capabilities {
		if c.has(m) {
			names = append(names, c.methods...)
		}
	}
	return names
}

// core is what every link of one chain shares.
type core struct {
	model oauth2server.Model
	obs   Observer
}

// link implements the mandatory Model, observed, and Unwrap. Each
// capability's link embeds it.
type link struct {
	*core
	next oauth2server.Model
}

var _ interface {
	oauth2server.Model
	oauth2server.Unwrapper
} = (*link)(nil)

// Unwrap returns the next link of the chain, or the wrapped model after the
// last.
func (l *link) Unwrap() oauth2server.Model { return l.next }

func (c *core) start(ctx context.Context, method string) (context.Context, time.Time) {
	ctx = c.obs.Start(ctx, method)
	return ctx, time.Now()
}

// GetClient implements [oauth2server.Model].
func (l *link) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	ctx, t := l.start(ctx, "GetClient")
	v, err := l.model.GetClient(ctx, clientID)
	l.obs.End(ctx, "GetClient", t, err)
	return v, err
}

// SaveToken implements [oauth2server.Model].
func (l *link) SaveToken(ctx context.Context, token *oauth2server.Token, client *oauth2server.Client, user *oauth2server.User) error {
	ctx, t := l.start(ctx, "SaveToken")
	err := l.model.SaveToken(ctx, token, client, user)
	l.obs.End(ctx, "SaveToken", t, err)
	return err
}

// capability describes one optional interface: whether a model has it,
// its methods, and how to make its link.
type capability struct {
	name    string
	methods []string
	has     func(oauth2server.Model) bool
	// link returns the link of the capability in front of next, or nil
	// when the wrapped model lacks it.
	link func(c *core, next oauth2server.Model) oauth2server.Model
}

// capabilityOf describes the capability T, whose link newLink makes around
// the model's implementation of T.
func capabilityOf[T any](name string, methods []string, newLink func(link, T) oauth2server.Model) capability {
	return capability{
		name:    name,
		methods: methods,
		has: func(m oauth2server.Model) bool {
			_, ok := oauth2server.Capability[T](m)
			return ok
		},
		link: func(c *core, next oauth2server.Model) oauth2server.Model {
			impl, ok := oauth2server.Capability[T](c.model)
			if !ok {
				return nil
			}
			return newLink(link{core: c, next: next}, impl)
		},
	}
}
