package otelmodel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/otelmodel"
)

func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, sr
}

// spanSeer is a model that remembers the span of the context it got.
type spanSeer struct {
	*memorymodel.Model
	seen trace.SpanContext
}

func (s *spanSeer) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	s.seen = trace.SpanContextFromContext(ctx)
	return s.Model.GetClient(ctx, id)
}

func TestWrap(t *testing.T) {
	t.Parallel()
	tp, sr := newProvider(t)
	inner := &spanSeer{Model: memorymodel.New()}
	m := otelmodel.Wrap(inner, otelmodel.Options{TracerProvider: tp})

	parentCtx, parent := tp.Tracer("test").Start(context.Background(), "request")
	c, err := m.GetClient(parentCtx, "nobody")
	require.NoError(t, err)
	assert.Nil(t, c)
	parent.End()

	spans := sr.Ended()
	require.Len(t, spans, 2)
	s := spans[0]
	assert.Equal(t, "oauth2server.Model/GetClient", s.Name())
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
	assert.Equal(t, otelmodel.ScopeName, s.InstrumentationScope().Name)
	assert.Equal(t, []attribute.KeyValue{otelmodel.MethodKey.String("GetClient")}, s.Attributes(), "the method, and nothing of the arguments")
	assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "a child of the request's span")
	assert.Equal(t, codes.Unset, s.Status().Code)
	assert.Empty(t, s.Events())
	assert.Equal(t, s.SpanContext(), inner.seen, "the model runs inside the span")
}

func TestWrapError(t *testing.T) {
	t.Parallel()
	tp, sr := newProvider(t)
	m := otelmodel.Wrap(memorymodel.New(), otelmodel.Options{TracerProvider: tp})
	rt, ok := oauth2server.Capability[oauth2server.RefreshTokenModel](m)
	require.True(t, ok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rt.RevokeToken(ctx, &oauth2server.Token{RefreshToken: "r"})
	require.ErrorIs(t, err, context.Canceled)

	spans := sr.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "oauth2server.Model/RevokeToken", s.Name())
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, context.Canceled.Error(), s.Status().Description)
	require.Len(t, s.Events(), 1)
	assert.Equal(t, "exception", s.Events()[0].Name)
}

// The tracing wrapper has the capabilities of the model, no more: a model
// without device codes gets no device grant.
func TestWrapCapabilities(t *testing.T) {
	t.Parallel()
	tp, _ := newProvider(t)
	mem := memorymodel.New()
	m := otelmodel.Wrap(struct {
		oauth2server.Model
		oauth2server.AccessTokenModel
	}{mem, mem}, otelmodel.Options{TracerProvider: tp})
	_, ok := oauth2server.Capability[oauth2server.AccessTokenModel](m)
	assert.True(t, ok)
	_, ok = oauth2server.Capability[oauth2server.DeviceCodeModel](m)
	assert.False(t, ok)

	_, ok = oauth2server.Capability[oauth2server.DeviceCodeModel](otelmodel.Wrap(mem, otelmodel.Options{TracerProvider: tp}))
	assert.True(t, ok)
}

// The cost of a span per call: go test -bench . ./otelmodel
func BenchmarkGetClient(b *testing.B) {
	mem := memorymodel.New()
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(discard{})))
	b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	for _, bc := range []struct {
		name  string
		model oauth2server.Model
	}{
		{"bare memorymodel", mem},
		{"global no-op provider", otelmodel.Wrap(mem, otelmodel.Options{})},
		{"SDK, every span sampled", otelmodel.Wrap(mem, otelmodel.Options{TracerProvider: sdk})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				_, _ = bc.model.GetClient(ctx, "nobody")
			}
		})
	}
}

// discard is a span exporter that drops everything.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }
