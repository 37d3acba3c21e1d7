package modeltest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// coreModel has the mandatory interface only.
type coreModel struct{ m *memorymodel.Model }

func (c coreModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	return c.m.GetClient(ctx, id)
}

func (c coreModel) SaveToken(ctx context.Context, t *oauth2server.Token, cl *oauth2server.Client, u *oauth2server.User) error {
	return c.m.SaveToken(ctx, t, cl, u)
}

func newCoreSetup(t *testing.T) Setup {
	m := memorymodel.New()
	return Setup{Model: coreModel{m}, AddClient: m.AddClient}
}

// Skipped cases are recorded with their reason for the summary.
func TestReportCountsSkips(t *testing.T) {
	r := &report{cases: map[string]bool{}, skipped: map[string][]string{}}
	newSetup := checked(newCoreSetup, r)
	for _, c := range capabilities() {
		t.Run(c.name, func(t *testing.T) { c.run(t, newSetup) })
	}
	require.Contains(t, r.skipped, "model does not implement AuthorizationCodeModel")
	require.Contains(t, r.skipped, "model does not implement AccessTokenModel")
	assert.NotContains(t, r.skipped, "model does not implement Clients")
	sum := r.summary()
	assert.Contains(t, sum, "skipped: model does not implement RefreshTokenModel")
	assert.Regexp(t, `modeltest: \d+ cases ran, \d+ skipped`, sum)

	// What ran is exactly the leaf cases of the two mandatory groups; what
	// was skipped is every other recorded case, each counted once.
	skipped := map[string]bool{}
	for _, names := range r.skipped {
		for _, n := range names {
			skipped[n] = true
		}
	}
	ran := 0
	for name := range r.cases {
		isLeaf := true
		for other := range r.cases {
			isLeaf = isLeaf && !strings.HasPrefix(other, name+"/")
		}
		if !isLeaf || skipped[name] {
			continue
		}
		ran++
		assert.Regexp(t, `/(Clients|Tokens)/`, name, "only the mandatory groups run")
	}
	assert.Positive(t, ran)
	assert.Contains(t, sum, fmt.Sprintf("modeltest: %d cases ran, %d skipped", ran, len(skipped)))
}

// With FailOnSkip, a model missing a capability fails the suite. The
// failing run happens in a child process, so that it does not fail this
// test.
func TestFailOnSkip(t *testing.T) {
	if os.Getenv("MODELTEST_FAIL_ON_SKIP_CHILD") == "1" {
		Run(t, newCoreSetup, FailOnSkip())
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailOnSkip$", "-test.v")
	cmd.Env = append(os.Environ(), "MODELTEST_FAIL_ON_SKIP_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child run must fail")
	assert.Contains(t, string(out), "model does not implement AuthorizationCodeModel (FailOnSkip)")
}
