package docsync

// The pages show these packages. go list compiles them for the type check,
// out of go test's sight: importing them here makes the test binary, and
// so go test's cached result, change whenever they change.
import (
	_ "github.com/echo-oauth2/oauth2server"
	_ "github.com/echo-oauth2/oauth2server/errors"
	_ "github.com/echo-oauth2/oauth2server/handlers"
	_ "github.com/echo-oauth2/oauth2server/internal/mapmodel"
	_ "github.com/echo-oauth2/oauth2server/memorymodel"
	_ "github.com/echo-oauth2/oauth2server/middleware"
	_ "github.com/echo-oauth2/oauth2server/modeltest"
	_ "github.com/echo-oauth2/oauth2server/mongomodel"
	_ "github.com/echo-oauth2/oauth2server/nethttp"
)
