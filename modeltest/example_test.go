package modeltest_test

import (
	"testing"

	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modeltest"
)

// Check your Model with the conformance suite from a test in your own
// package, the way testing/fstest.TestFS checks a file system. An Example
// cannot receive a *testing.T, so the test is written here as a function
// value; in your code it is
//
//	func TestConformance(t *testing.T) { ... }
//
// in a _test.go file next to your model, run by go test.
//
// Run calls the factory once per case, so that every case starts from an
// empty store; give each call a fresh database or schema and drop it with
// t.Cleanup. Capabilities the model does not implement are reported as
// skipped (go test -v lists them), never as failures.
func ExampleRun() {
	TestConformance := func(t *testing.T) {
		modeltest.Run(t, func(t *testing.T) modeltest.Setup {
			m := memorymodel.New() // your model, on a fresh, empty store
			// t.Cleanup(func() { drop the store })
			return modeltest.Setup{
				Model: m,
				// The Model interfaces cannot add clients or users, so
				// the suite seeds the store through these.
				AddClient: m.AddClient,
				AddUser:   m.AddUser,
			}
		})
	}
	_ = TestConformance
}
