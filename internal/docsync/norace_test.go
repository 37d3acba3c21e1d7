//go:build !race

package docsync

// raceEnabled makes go list compile the packages it type-checks against
// as the test binary's were, so that it finds them in the build cache.
const raceEnabled = false
