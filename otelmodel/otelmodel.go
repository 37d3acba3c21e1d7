// Package otelmodel puts an OpenTelemetry span around every call of an
// [oauth2server.Model], through [modelobserve.Wrap]: one span per method of
// the Model and of every capability it has, and none it lacks.
//
// Spans are named "oauth2server.Model/" and the method ("oauth2server.Model/GetClient"),
// of kind internal, with the attribute oauth2server.model.method. A call
// that returns an error records it and sets the span's status to Error.
// Nothing else about the call is recorded: no client id, token, code or
// user name.
//
// This package is the only one of the module that imports OpenTelemetry;
// the root package and modelobserve do not.
package otelmodel

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/modelobserve"
)

// ScopeName is the instrumentation scope (the tracer's name) of the spans.
const ScopeName = "github.com/echo-oauth2/oauth2server/otelmodel"

// SpanNamePrefix starts the name of every span; the method name follows.
const SpanNamePrefix = "oauth2server.Model/"

// MethodKey is the attribute that holds the method name.
const MethodKey = attribute.Key("oauth2server.model.method")

// Options configures the spans.
type Options struct {
	// TracerProvider makes the tracer. Optional. Default
	// otel.GetTracerProvider(), the global provider at the time of the
	// call to [Wrap] or [NewObserver].
	TracerProvider trace.TracerProvider
}

// Wrap returns a Model that calls m inside a span per call. It has exactly
// the capabilities of m (see [modelobserve.Wrap]): look them up with
// [oauth2server.Capability].
func Wrap(m oauth2server.Model, opts Options) oauth2server.Model {
	return modelobserve.Wrap(m, NewObserver(opts))
}

// NewObserver returns the [modelobserve.Observer] that Wrap uses, to
// combine with another observer: wrap the model with one, and the result
// with the other.
func NewObserver(opts Options) modelobserve.Observer {
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return &observer{tracer: tp.Tracer(ScopeName)}
}

type observer struct {
	tracer trace.Tracer
	// specs caches the name and start options of each method's spans
	// (method -> *spanSpec): there are at most thirty.
	specs sync.Map
}

type spanSpec struct {
	name string
	opts []trace.SpanStartOption
}

// Start starts the span; the model gets it in its context, so the spans of
// a database driver's instrumentation become its children.
func (o *observer) Start(ctx context.Context, method string) context.Context {
	v, ok := o.specs.Load(method)
	if !ok {
		v, _ = o.specs.LoadOrStore(method, &spanSpec{
			name: SpanNamePrefix + method,
			opts: []trace.SpanStartOption{
				trace.WithSpanKind(trace.SpanKindInternal),
				trace.WithAttributes(MethodKey.String(method)),
			},
		})
	}
	spec := v.(*spanSpec)
	ctx, _ = o.tracer.Start(ctx, spec.name, spec.opts...)
	return ctx
}

// End ends the span Start put into ctx.
func (o *observer) End(ctx context.Context, _ string, _ time.Time, err error) {
	span := trace.SpanFromContext(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
