package main

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// percentile returns the p-quantile (0 < p ≤ 1, nearest rank) of d, or 0.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mb formats bytes in MB (10^6 bytes, as the thresholds are stated).
func mb(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

// size formats a response size.
func size(n int64) string {
	switch {
	case n == 0:
		return "–"
	case n < 10<<10:
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}

func signedMB(b int64) string {
	return fmt.Sprintf("%+.1f MB", float64(b)/1e6)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**FAIL**"
}

// checks are a flood's verdicts against the thresholds.
type checks struct {
	rssMeasured, rssOK bool
	p99OK              map[string]bool
	ratio              map[string]float64
	failed             int
}

func (r *result) check(cfg *config) checks {
	c := checks{p99OK: map[string]bool{}, ratio: map[string]float64{}}
	if r.rssPeak > 0 && r.rssIdle > 0 {
		c.rssMeasured = true
		c.rssOK = float64(r.rssPeak-r.rssIdle) <= cfg.rssLimitMB*1e6
	}
	for _, k := range flowKinds {
		idle, during := percentile(r.idle.flows[k], 0.99), percentile(r.during.flows[k], 0.99)
		if idle > 0 && during > 0 {
			c.ratio[k] = float64(during) / float64(idle)
			c.p99OK[k] = c.ratio[k] < cfg.p99Factor
		}
		c.failed += r.during.fails[k]
	}
	return c
}

func (c checks) pass() bool {
	if c.rssMeasured && !c.rssOK {
		return false
	}
	for _, k := range flowKinds {
		if !c.p99OK[k] {
			return false
		}
	}
	return c.failed == 0
}

func (r *result) throughput() float64 {
	if r.run.Elapsed <= 0 {
		return 0
	}
	return float64(r.run.Sent) / r.run.Elapsed.Seconds()
}

func renderReport(cfg *config, results []*result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Flood load test\n\n")
	fmt.Fprintf(&b, "`%s` in `bench/`, %s UTC, %s, %d CPUs.\n", strings.TrimSpace("go run ./load/flood "+cfg.flagLine),
		cfg.startedAt.Format("2006-01-02 15:04"), runtime.Version(), runtime.NumCPU())
	fmt.Fprintf(&b, "Server: %s", cfg.exampleDesc)
	if cfg.exampleArgsShown != "" {
		fmt.Fprintf(&b, ", flags `%s`", cfg.exampleArgsShown)
	}
	fmt.Fprintf(&b, ", on %s", cfg.targetDesc)
	if cfg.target == "" && cfg.restart {
		b.WriteString("; started afresh for every flood")
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "Thresholds: peak RSS (VmRSS every 500 ms) at most %g MB above idle; the legitimate client's "+
		"p99 per flow under %g× its idle p99; no failed legitimate flow. The legitimate client runs its two "+
		"flows side by side in two loops (pauses %s and %s) on its own connections", cfg.rssLimitMB, cfg.p99Factor,
		cfg.ccPause, cfg.browserPause)
	if cfg.xff {
		b.WriteString(", each flow from its own address in 198.19.0.0/16 via `X-Forwarded-For`")
	}
	fmt.Fprintf(&b, "; the idle baseline runs them until each has done %d flows, after a warm-up of %d. "+
		"CPU is in %% of one core during the flood; \"other\" is everything on the machine but the server and "+
		"this tool (a database server, other work): where it is high, the latency ratios are not the server's alone.\n\n",
		cfg.idleFlows, cfg.warmup)

	b.WriteString("| flood | requests | connections | req/s | idle RSS | peak RSS − idle | ")
	b.WriteString("p99 client_credentials idle → flood | p99 browser idle → flood | failed legit flows | ")
	b.WriteString("CPU % server / tool / other | result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i, r := range results {
		c := r.check(cfg)
		peak := "–"
		if c.rssMeasured {
			peak = signedMB(r.rssPeak - r.rssIdle)
		}
		cpu := "–"
		if r.cpuFlood.OK {
			cpu = fmt.Sprintf("%.0f / %.0f / %.0f", r.cpuFlood.Server, r.cpuFlood.Tool, r.cpuFlood.Other())
		}
		fmt.Fprintf(&b, "| %d. %s | %d | %d | %.0f | %s | %s | %s | %s | %d | %s | %s |\n",
			i+1, r.spec.Title, r.run.Sent, r.spec.Conc, r.throughput(), mb(r.rssIdle), peak,
			p99Change(r, flowClientCredentials, c), p99Change(r, flowBrowser, c), c.failed, cpu, verdict(c.pass()))
	}
	for i, r := range results {
		b.WriteString("\n")
		b.WriteString(renderSection(cfg, i+1, r))
	}
	return b.String()
}

func p99Change(r *result, kind string, c checks) string {
	idle, during := percentile(r.idle.flows[kind], 0.99), percentile(r.during.flows[kind], 0.99)
	if idle == 0 || during == 0 {
		return "–"
	}
	return fmt.Sprintf("%s → %s (×%.1f)", ms(idle), ms(during), c.ratio[kind])
}

func renderSection(cfg *config, n int, r *result) string {
	var b strings.Builder
	c := r.check(cfg)
	fmt.Fprintf(&b, "## %d. %s\n\n%s\n\n", n, r.spec.Title, r.spec.About)
	fmt.Fprintf(&b, "%d requests in %.1f s (%.0f req/s) over %d connections.\n\n",
		r.run.Sent, r.run.Elapsed.Seconds(), r.throughput(), r.spec.Conc)
	b.WriteString("| flood request | sent | statuses | transport errors | p50 | p99 | largest response |\n")
	b.WriteString("|---|---:|---|---|---:|---:|---:|\n")
	for _, label := range r.run.Order {
		st := r.run.ByLabel[label]
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", label, st.total(), statusList(st.Status),
			errorList(st.Errors), ms(percentile(st.Lat, 0.5)), ms(percentile(st.Lat, 0.99)), size(st.MaxResp))
	}

	b.WriteString("\n| legitimate flow / request | idle n | idle p50 | idle p99 | flood n | flood p50 | flood p99 | p99 × idle |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(name string, idle, during []time.Duration) {
		pi, pd := percentile(idle, 0.99), percentile(during, 0.99)
		ratio := "–"
		if pi > 0 && pd > 0 {
			ratio = fmt.Sprintf("%.1f", float64(pd)/float64(pi))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d | %s | %s | %s |\n", name, len(idle), ms(percentile(idle, 0.5)),
			ms(pi), len(during), ms(percentile(during, 0.5)), ms(pd), ratio)
	}
	for _, k := range flowKinds {
		row("**"+k+"**", r.idle.flows[k], r.during.flows[k])
	}
	labels := slices.Sorted(maps.Keys(r.idle.reqs))
	for _, l := range slices.Sorted(maps.Keys(r.during.reqs)) {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	for _, l := range labels {
		row(l, r.idle.reqs[l], r.during.reqs[l])
	}

	b.WriteString("\n")
	if c.rssMeasured {
		fmt.Fprintf(&b, "- RSS: idle %s, peak %s (%s, limit +%g MB), at the end %s, VmHWM %s, %d samples: %s\n",
			mb(r.rssIdle), mb(r.rssPeak), signedMB(r.rssPeak-r.rssIdle), cfg.rssLimitMB, mb(r.rssEnd),
			mb(r.hwm), r.rssSamples, verdict(c.rssOK))
	} else {
		fmt.Fprintf(&b, "- RSS: not measured (%s)\n", r.rssNote)
	}
	for _, k := range flowKinds {
		if _, ok := c.ratio[k]; !ok {
			fmt.Fprintf(&b, "- p99 %s: no successful flow to compare: **FAIL**\n", k)
			continue
		}
		fmt.Fprintf(&b, "- p99 %s: ×%.1f (limit ×%g): %s\n", k, c.ratio[k], cfg.p99Factor, verdict(c.p99OK[k]))
	}
	fmt.Fprintf(&b, "- failed legitimate flows during the flood: %d%s: %s\n", c.failed, firstFailures(r.during), verdict(c.failed == 0))
	if n := r.idle.fails[flowClientCredentials] + r.idle.fails[flowBrowser]; n > 0 {
		fmt.Fprintf(&b, "- failed legitimate flows while idle: %d%s\n", n, firstFailures(r.idle))
	}
	if r.cpuFlood.OK {
		fmt.Fprintf(&b, "- CPU in %% of one core (%d cores): idle baseline: server %.0f%%, this tool %.0f%%, other processes %.0f%%; "+
			"flood: server %.0f%%, this tool %.0f%%, other processes %.0f%%\n", runtime.NumCPU(),
			r.cpuIdle.Server, r.cpuIdle.Tool, r.cpuIdle.Other(), r.cpuFlood.Server, r.cpuFlood.Tool, r.cpuFlood.Other())
	}
	if r.logChecked {
		if r.logProblems == 0 {
			b.WriteString("- server log: no error or warning\n")
		} else {
			fmt.Fprintf(&b, "- server log: %d lines other than level=INFO, first: `%s`\n", r.logProblems,
				strings.ReplaceAll(r.logFirst, "`", "'"))
		}
	}
	if r.serverNote != "" {
		fmt.Fprintf(&b, "- %s\n", r.serverNote)
	}
	return b.String()
}

func firstFailures(rec *recorder) string {
	var parts []string
	for _, k := range flowKinds {
		if rec.fails[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d, first: `%s`", k, rec.fails[k], rec.first[k]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func statusList(m map[int]int) string {
	if len(m) == 0 {
		return "–"
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d: %d", s, m[s]))
	}
	return strings.Join(parts, ", ")
}

func errorList(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	var parts []string
	for _, e := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", strings.ReplaceAll(e, "|", `\|`), m[e]))
	}
	return strings.Join(parts, ", ")
}
