// Command flood floods the example server (go run ./example) on 127.0.0.1
// while a legitimate client runs complete flows, and reports the server's
// RSS and the legitimate client's latency against the thresholds:
// RSS at most 100 MB above idle, the legitimate p99 under 10× its idle
// value. Not part of make test.
//
//	bash bench/load/flood.sh                        # all floods, full size
//	bash bench/load/flood.sh -pages 100000 -device 20000 -scope-requests 400
//	bash bench/load/flood.sh -mongo-uri "$(scripts/mongotest.sh start)"
//	cd bench && go run ./load/flood -h
//
// It builds ./example, starts it on a free port for each flood (-restart),
// measures an idle baseline (RSS and the legitimate flows' latencies), then
// runs the flood with the legitimate client looping beside it and the RSS
// sampled every 500 ms, and writes a markdown report (-out). The floods:
//
//  1. pages: cookie-less GETs of /login and /, alternately;
//  2. device: device authorization requests of the public device client,
//     from one address or spread with X-Forwarded-For (-device-spread);
//  3. scope: authorization and token requests with a 100k-token scope.
//
// See bench/README.md for the flags that matter.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	root, target, out string
	pid               int
	exampleFlags      string
	mongoURI          string
	floods            string
	restart, xff      bool

	pages, pagesConc                          int
	device, deviceConc, deviceSpread          int
	deviceClient                              string
	scopeRequests, scopeConc, scopeTokens     int
	bodyLimit                                 int
	warmup, idleFlows                         int
	ccPause, browserPause, legitTimeout       time.Duration
	rssLimitMB, p99Factor                     float64
	publicClient, confClient, confSecret      string
	username, password, scope                 string
	mePath, loginPath, redirectURI            string
	flagLine                                  string
	startedAt                                 time.Time
	exampleDesc, exampleArgsShown, targetDesc string
}

func parseFlags(args []string) (*config, error) {
	c := &config{startedAt: time.Now().UTC()}
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	fs.StringVar(&c.root, "root", "", "repository root with ./example (default: found upwards from the working directory)")
	fs.StringVar(&c.out, "out", "", `markdown report file (default ROOT/bench/results/flood.md, flood-mongo.md with -mongo-uri; "-": stdout only)`)
	fs.StringVar(&c.target, "target", "", "flood a running server at this http://127.0.0.1:PORT instead of starting one")
	fs.IntVar(&c.pid, "pid", 0, "with -target: the server's process id, for its RSS")
	fs.StringVar(&c.exampleFlags, "example-flags", "", "more flags for the example, space separated (e.g. \"-jwt -dev\")")
	fs.StringVar(&c.mongoURI, "mongo-uri", "", "run the example on MongoDB at this URI, with a fresh database for every start")
	fs.StringVar(&c.floods, "floods", "pages,device,scope", "floods to run, in order")
	fs.BoolVar(&c.restart, "restart", true, "start a fresh example for every flood (so that each has its own idle baseline)")
	fs.BoolVar(&c.xff, "xff", true, "legitimate flows come from their own addresses via X-Forwarded-For; the example is started with -trusted-proxy 127.0.0.1")

	fs.IntVar(&c.pages, "pages", 1_000_000, "flood 1: cookie-less page views")
	fs.IntVar(&c.pagesConc, "pages-conc", 64, "flood 1: connections")
	fs.IntVar(&c.device, "device", 200_000, "flood 2: device authorization requests")
	fs.IntVar(&c.deviceConc, "device-conc", 32, "flood 2: connections")
	fs.IntVar(&c.deviceSpread, "device-spread", 0, "flood 2: spread over this many source addresses with X-Forwarded-For (0: one address); needs -trusted-proxy 127.0.0.1 on the server")
	fs.StringVar(&c.deviceClient, "device-client", "demo-app", "flood 2: client_id of a public client with the device grant")
	fs.IntVar(&c.scopeRequests, "scope-requests", 2000, "flood 3: requests")
	fs.IntVar(&c.scopeConc, "scope-conc", 16, "flood 3: connections")
	fs.IntVar(&c.scopeTokens, "scope-tokens", 100_000, "flood 3: scope tokens per request")
	// The example's middleware.BodyLimit("64K") is 64 000 bytes: Echo's
	// size parser reads K as 1000 and only Ki as 1024.
	fs.IntVar(&c.bodyLimit, "body-limit", 64_000, "flood 3: the server's body limit in bytes; one request fills it with scope tokens")

	fs.IntVar(&c.warmup, "warmup", 10, "legitimate flows of each kind before the idle baseline")
	fs.IntVar(&c.idleFlows, "idle-flows", 100, "legitimate flows of each kind for the idle baseline")
	fs.DurationVar(&c.ccPause, "cc-pause", 20*time.Millisecond, "pause of the legitimate client between two client_credentials flows")
	// A login costs a bcrypt hash (tens of ms of CPU): back to back, the
	// browser loop alone would keep a third of two cores busy.
	fs.DurationVar(&c.browserPause, "browser-pause", 200*time.Millisecond, "pause of the legitimate client between two browser flows")
	fs.DurationVar(&c.legitTimeout, "legit-timeout", 30*time.Second, "timeout of one legitimate request")
	fs.Float64Var(&c.rssLimitMB, "rss-limit-mb", 100, "threshold: peak RSS above idle, MB")
	fs.Float64Var(&c.p99Factor, "p99-factor", 10, "threshold: legitimate p99 during a flood below this many times idle")

	fs.StringVar(&c.publicClient, "public-client", "demo-app", "public client of the browser flow (PKCE)")
	fs.StringVar(&c.confClient, "client", "demo-service", "confidential client with client_credentials")
	fs.StringVar(&c.confSecret, "secret", "demo-service-secret", "its secret")
	fs.StringVar(&c.username, "username", "demo", "user of the browser flow")
	fs.StringVar(&c.password, "password", "demo-password", "its password")
	fs.StringVar(&c.scope, "scope", "read write", "scope of the legitimate flows and the device requests")
	fs.StringVar(&c.mePath, "me-path", "/api/me", "protected API path")
	fs.StringVar(&c.loginPath, "login-path", "/login", "login page path")
	fs.StringVar(&c.redirectURI, "redirect-uri", "", "redirect URI of the public client (default ISSUER/callback)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// The command line for the report, without this machine's paths and
	// the database address.
	var shown []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "root", "out":
			return
		case "mongo-uri", "target":
			shown = append(shown, "-"+f.Name+" …")
			return
		}
		v := f.Value.String()
		if strings.ContainsAny(v, " \"'") || v == "" {
			v = fmt.Sprintf("%q", v)
		}
		shown = append(shown, "-"+f.Name+"="+v)
	})
	c.flagLine = strings.Join(shown, " ")

	for _, n := range []struct {
		name string
		v    int
	}{{"pages-conc", c.pagesConc}, {"device-conc", c.deviceConc}, {"scope-conc", c.scopeConc}, {"scope-tokens", c.scopeTokens}} {
		if n.v < 1 {
			return nil, fmt.Errorf("-%s must be at least 1", n.name)
		}
	}
	if c.target != "" {
		u, err := url.Parse(c.target)
		if err != nil || u.Scheme != "http" {
			return nil, fmt.Errorf("-target %q: want http://127.0.0.1:PORT", c.target)
		}
		if err := checkLoopback(u); err != nil {
			return nil, err
		}
	}
	if c.root == "" {
		root, err := findRoot()
		if err != nil && (c.target == "" || c.out == "") {
			return nil, err
		}
		c.root = root
	}
	if c.out == "" {
		name := "flood.md"
		if c.mongoURI != "" {
			name = "flood-mongo.md"
		}
		c.out = filepath.Join(c.root, "bench", "results", name)
	}
	return c, nil
}

// findRoot walks up from the working directory to the library's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/echo-oauth2/oauth2server\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found: run inside the checkout or pass -root")
		}
		dir = parent
	}
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "flood: "+format+"\n", args...)
}

// exampleArgs returns the flags of the n-th start of the example.
func (c *config) exampleArgs(n int) []string {
	args := strings.Fields(c.exampleFlags)
	if c.xff || c.deviceSpread > 0 {
		args = append(args, "-trusted-proxy", "127.0.0.1")
	}
	if c.mongoURI != "" {
		u, err := url.Parse(c.mongoURI)
		if err == nil {
			u.Path = fmt.Sprintf("/flood_%s_%d", c.startedAt.Format("20060102T150405"), n)
			args = append(args, "-mongo-uri", u.String())
		} else {
			args = append(args, "-mongo-uri", c.mongoURI)
		}
	}
	return args
}

// describe fills the report's description of the server under test.
func (c *config) describe() {
	flags := strings.Fields(c.exampleFlags)
	mongo := c.mongoURI != "" || slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(strings.TrimLeft(f, "-"), "mongo-uri") })
	model := "memory model"
	if mongo {
		model = "MongoDB model (a fresh database for every start)"
	}
	if c.target != "" {
		c.targetDesc = "a server already running on 127.0.0.1"
		c.exampleDesc = "the server at -target"
		return
	}
	shown := slices.Clone(flags)
	if c.xff || c.deviceSpread > 0 {
		shown = append(shown, "-trusted-proxy 127.0.0.1")
	}
	if c.mongoURI != "" {
		shown = append(shown, "-mongo-uri …")
	}
	c.exampleArgsShown = strings.Join(shown, " ")
	c.exampleDesc = "`./example` built from this checkout, " + model
	c.targetDesc = "127.0.0.1, a free port"
}

// result is one flood's measurements.
type result struct {
	spec                          *floodSpec
	run                           *floodRun
	idle, during                  *recorder
	rssIdle, rssPeak, rssEnd, hwm int64 // bytes; 0: not measured
	rssSamples                    int
	rssNote                       string
	serverNote                    string
	logChecked                    bool
	cpuIdle, cpuFlood             cpuUse // CPU during the idle baseline and the flood
	logProblems                   int    // server log lines other than level=INFO
	logFirst                      string // the first of them
}

func run(ctx context.Context, cfg *config) error {
	cfg.describe()
	floods := strings.Split(cfg.floods, ",")
	for _, f := range floods {
		if !slices.Contains([]string{"pages", "device", "scope"}, f) {
			return fmt.Errorf("-floods: unknown flood %q (pages, device, scope)", f)
		}
	}
	var bin, tmp string
	if cfg.target == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "flood-"); err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		logf("building ./example")
		if bin, err = buildExample(ctx, cfg.root, tmp); err != nil {
			return err
		}
	}

	var srv *exampleServer
	defer func() {
		if srv != nil {
			srv.stop()
		}
	}()
	starts := 0
	var results []*result
	for i, key := range floods {
		fresh := false
		var base *url.URL
		pid := cfg.pid
		if cfg.target == "" {
			if srv == nil || cfg.restart {
				if srv != nil {
					srv.stop()
					srv = nil
				}
				starts++
				var err error
				logPath := filepath.Join(tmp, fmt.Sprintf("example-%d.log", starts))
				if srv, err = startExample(ctx, bin, cfg.exampleArgs(starts), logPath); err != nil {
					return err
				}
				fresh = true
				logf("example started at %s (pid %d)", srv.base, srv.pid())
			}
			base, pid = srv.base, srv.pid()
		} else {
			base, _ = url.Parse(strings.TrimSuffix(cfg.target, "/"))
			fresh = i == 0
		}
		var logFrom int64
		if srv != nil {
			logFrom = srv.logSize()
		}
		r, err := runOne(ctx, cfg, key, base, pid, fresh)
		if srv != nil && r != nil {
			r.logProblems, r.logFirst = srv.logProblems(logFrom)
			r.logChecked = true
		}
		if srv != nil {
			if gone, werr := srv.exited(); gone {
				note := fmt.Sprintf("the example exited during the flood (%v)", werr)
				if r != nil {
					r.serverNote = note
				}
				logf("%s; log:\n%s", note, tail(srv.log, 30))
				srv = nil
				if err == nil && !cfg.restart {
					err = errors.New(note)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("flood %s: %w", key, err)
		}
		results = append(results, r)
		fmt.Fprintln(os.Stderr, renderSection(cfg, i+1, r))
	}

	report := renderReport(cfg, results)
	if cfg.out != "-" {
		if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
		logf("report written to %s", cfg.out)
	}
	fmt.Print(report)
	return nil
}

// runOne measures the idle baseline and runs one flood.
func runOne(ctx context.Context, cfg *config, key string, base *url.URL, pid int, fresh bool) (*result, error) {
	ep, err := discover(ctx, base, cfg)
	if err != nil {
		return nil, err
	}
	l := newLegit(cfg, ep)
	if fresh && cfg.warmup > 0 {
		logf("warm-up: %d flows of each kind", cfg.warmup)
		w := l.run(ctx, cfg.warmup, nil)
		for _, k := range flowKinds {
			if len(w.flows[k]) == 0 && w.fails[k] > 0 {
				return nil, fmt.Errorf("legitimate flow %q fails before any flood: %s", k, w.first[k])
			}
		}
	}
	logf("idle baseline: %d flows of each kind", cfg.idleFlows)
	r := &result{}
	c0 := takeCPU(pid)
	r.idle = l.run(ctx, cfg.idleFlows, nil)
	r.cpuIdle = cpuBetween(c0, takeCPU(pid))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var spec *floodSpec
	switch key {
	case "pages":
		spec = pageViews(cfg, ep)
	case "device":
		spec = deviceAuthorizations(cfg, ep)
	case "scope":
		if spec, err = hugeScopes(ctx, cfg, ep, l); err != nil {
			return nil, err
		}
	}
	r.spec = spec

	var sampler *rssSampler
	if pid > 0 {
		if r.rssIdle, _, err = memStatus(pid); err != nil {
			r.rssNote = err.Error()
			pid = 0
		} else {
			sampler = sampleRSS(pid, 500*time.Millisecond)
		}
	} else {
		r.rssNote = "RSS not measured (no process id; pass -pid with -target)"
	}
	logf("flood %s: %d requests over %d connections (idle RSS %s)", key, spec.Count, spec.Conc, mb(r.rssIdle))
	c0 = takeCPU(pid)
	stop := make(chan struct{})
	during := make(chan *recorder, 1)
	go func() { during <- l.run(ctx, 0, stop) }()
	r.run = runFlood(ctx, spec, func(n int) {
		rss := ""
		if sampler != nil {
			rss = ", RSS " + mb(sampler.current())
		}
		logf("  %s: %d/%d requests%s", key, n, spec.Count, rss)
	})
	r.cpuFlood = cpuBetween(c0, takeCPU(pid))
	close(stop)
	r.during = <-during
	if sampler != nil {
		var serr error
		r.rssPeak, r.rssEnd, r.rssSamples, serr = sampler.stop()
		if _, hwm, err := memStatus(pid); err == nil {
			r.hwm = hwm
		}
		if serr != nil {
			r.rssNote = serr.Error()
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return r, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
