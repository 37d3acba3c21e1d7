package modeltest

import (
	"context"
	"os"
	"os/exec"
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
	r := &report{skipped: map[string][]string{}}
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
	assert.Positive(t, r.ran-len(r.skipped), "the mandatory cases ran")
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
