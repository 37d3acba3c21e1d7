// Command chart reads `go test -bench` output of the bench module and
// writes an SVG bar chart (-svg) and a Markdown ratio and target table
// (-md). It uses the median of the repeated runs of each benchmark, as
// benchstat does, and needs nothing beyond the standard library.
//
//	go run ./cmd/chart -in results/latest.txt -svg ../docs/performance.svg -md ratios.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// sample is one benchmark line.
type sample struct {
	nsPerOp, cpuNsPerOp, allocsPerOp, bytesPerOp, roundtrips, writes float64
	extra                                                            map[string]float64 // other units
}

// result is the median of the samples of one benchmark.
type result struct {
	ns, cpu, allocs, bytes, roundtrips, writes float64
	extra                                      map[string]float64
	n                                          int
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads benchmark lines and returns the samples by name (without the
// GOMAXPROCS suffix).
func parse(r io.Reader) (map[string][]sample, error) {
	out := map[string][]sample{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var s sample
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.nsPerOp = v
			case "cpu-ns/op":
				s.cpuNsPerOp = v
			case "allocs/op":
				s.allocsPerOp = v
			case "B/op":
				s.bytesPerOp = v
			case "roundtrips/op":
				s.roundtrips = v
			case "writes/op":
				s.writes = v
			default:
				if s.extra == nil {
					s.extra = map[string]float64{}
				}
				s.extra[f[i+1]] = v
			}
		}
		out[m[1]] = append(out[m[1]], s)
	}
	return out, sc.Err()
}

func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func summarize(in map[string][]sample) map[string]result {
	out := map[string]result{}
	for name, ss := range in {
		var ns, cpu, al, by, rt, wr []float64
		for _, s := range ss {
			ns = append(ns, s.nsPerOp)
			cpu = append(cpu, s.cpuNsPerOp)
			al = append(al, s.allocsPerOp)
			by = append(by, s.bytesPerOp)
			rt = append(rt, s.roundtrips)
			wr = append(wr, s.writes)
		}
		extra := map[string]float64{}
		for unit := range ss[0].extra {
			var v []float64
			for _, s := range ss {
				v = append(v, s.extra[unit])
			}
			extra[unit] = median(v)
		}
		out[name] = result{ns: median(ns), cpu: median(cpu), allocs: median(al), bytes: median(by),
			roundtrips: median(rt), writes: median(wr), extra: extra, n: len(ss)}
	}
	return out
}

// Implementations in display order; ours first.
var impls = []string{"oauth2server", "go-oauth2", "fosite"}

var colors = map[string]string{
	"oauth2server": "#2b7bb9",
	"go-oauth2":    "#e69f00",
	"fosite":       "#009e73",
	"echo":         "#999999",
	"golang-jwt":   "#999999",
}

// row is one group of the chart and the ratio table: a workload measured
// on several implementations, with the ceiling it is compared to.
type row struct {
	label   string
	prefix  string // benchmark name without the /impl= part
	ceiling string // full benchmark name of the ceiling, or ""
	isToken bool
}

var rows = []row{
	{"client_credentials", "BenchmarkToken/grant=client_credentials", "BenchmarkCeiling/kind=token/impl=echo", true},
	{"authorization_code + PKCE", "BenchmarkToken/grant=authorization_code_pkce", "BenchmarkCeiling/kind=token/impl=echo", true},
	{"refresh_token (rotation)", "BenchmarkToken/grant=refresh_token_rotation", "BenchmarkCeiling/kind=token/impl=echo", true},
	{"bearer validation", "BenchmarkBearer", "BenchmarkCeiling/kind=resource/impl=echo", false},
	{"introspection", "BenchmarkIntrospect", "", false},
	{"JWT sign RS256", "BenchmarkJWTSign/alg=RS256", "BenchmarkJWTSign/alg=RS256/impl=golang-jwt", false},
	{"JWT sign ES256", "BenchmarkJWTSign/alg=ES256", "BenchmarkJWTSign/alg=ES256/impl=golang-jwt", false},
	{"JWT sign EdDSA", "BenchmarkJWTSign/alg=EdDSA", "BenchmarkJWTSign/alg=EdDSA/impl=golang-jwt", false},
	{"JWT verify RS256", "BenchmarkJWTVerify/alg=RS256", "BenchmarkJWTVerify/alg=RS256/impl=golang-jwt", false},
	{"JWT verify ES256", "BenchmarkJWTVerify/alg=ES256", "BenchmarkJWTVerify/alg=ES256/impl=golang-jwt", false},
	{"JWT verify EdDSA", "BenchmarkJWTVerify/alg=EdDSA", "BenchmarkJWTVerify/alg=EdDSA/impl=golang-jwt", false},
	{"Mongo client_credentials", "BenchmarkMongoToken/grant=client_credentials", "", false},
}

// mongoRows are the rows of BenchmarkMongoToken, in the order of the
// MongoDB table.
var mongoRows = []struct{ label, name string }{
	{"client_credentials", "grant=client_credentials"},
	{"authorization_code + PKCE", "grant=authorization_code_pkce"},
	{"refresh_token (rotation)", "grant=refresh_token_rotation"},
	{"password", "grant=password"},
	{"device_code, pending poll", "grant=device_code_pending"},
	{"device_code, redeeming poll", "grant=device_code"},
	{"bearer validation", "validate=bearer"},
	{"client_credentials, JWT access token", "grant=client_credentials_jwt"},
	{"bearer validation, JWT access token", "validate=bearer_jwt"},
	{"client_credentials, client cache", "clientcache=1m/grant=client_credentials"},
	{"authorization_code + PKCE, client cache", "clientcache=1m/grant=authorization_code_pkce"},
	{"refresh_token (rotation), client cache", "clientcache=1m/grant=refresh_token_rotation"},
}

func get(res map[string]result, name string) (result, bool) {
	r, ok := res[name]
	return r, ok
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func fmtNS(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// writeMarkdown writes the ratio table and the target table.
func writeMarkdown(w io.Writer, res map[string]result) {
	fmt.Fprintln(w, "| workload | oauth2server | go-oauth2 | fosite | ceiling | ours/go-oauth2 | ours/fosite | ours/ceiling |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, unit := range []string{"ns/op", "cpu-ns/op", "allocs/op"} {
		for _, rw := range rows {
			ours, ok := get(res, rw.prefix+"/impl=oauth2server")
			if !ok {
				continue
			}
			val := func(r result) float64 {
				switch unit {
				case "ns/op":
					return r.ns
				case "cpu-ns/op":
					return r.cpu
				}
				return r.allocs
			}
			show := func(r result, ok bool) string {
				if !ok {
					return "–"
				}
				if unit == "allocs/op" {
					return fmt.Sprintf("%.0f", r.allocs)
				}
				return fmtNS(val(r))
			}
			g, gok := get(res, rw.prefix+"/impl=go-oauth2")
			f, fok := get(res, rw.prefix+"/impl=fosite")
			c, cok := get(res, rw.ceiling)
			rg, rf, rc := "–", "–", "–"
			if gok {
				rg = ratio(val(ours), val(g))
			}
			if fok {
				rf = ratio(val(ours), val(f))
			}
			if cok {
				rc = ratio(val(ours), val(c))
			}
			fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n", rw.label, unit,
				show(ours, true), show(g, gok), show(f, fok), show(c, cok), rg, rf, rc)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios below 1 mean oauth2server is faster or allocates less; 0.50 is twice as fast.")
	fmt.Fprintln(w, "For the JWT rows the \"ceiling\" column is the raw golang-jwt cost (sign or verify alone).")
	fmt.Fprintln(w)
	header := false
	for _, mr := range mongoRows {
		r, ok := get(res, "BenchmarkMongoToken/"+mr.name+"/impl=oauth2server")
		if !ok {
			continue
		}
		if !header {
			fmt.Fprintln(w, "| MongoDB model on tools/mongotest | time | CPU time | allocs/op | round trips per request | writes per request |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
			header = true
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %s |\n", mr.label, fmtNS(r.ns), fmtNS(r.cpu), r.allocs,
			strconv.FormatFloat(r.roundtrips, 'f', -1, 64), strconv.FormatFloat(r.writes, 'f', -1, 64))
	}
	if header {
		fmt.Fprintln(w)
	}

	type target struct {
		name          string
		wall, cpu     string
		wallOK, cpuOK bool
		pending       bool
	}
	var ts []target
	check := func(name, a, b string, max float64) {
		ra, aok := get(res, a)
		rb, bok := get(res, b)
		if !aok || !bok {
			ts = append(ts, target{name: name, pending: true})
			return
		}
		w, c := ra.ns/rb.ns, ra.cpu/rb.cpu
		ts = append(ts, target{name: fmt.Sprintf("%s (ratio ≤ %.2f)", name, max),
			wall: fmt.Sprintf("%.2f", w), cpu: fmt.Sprintf("%.2f", c), wallOK: w <= max, cpuOK: c <= max})
	}
	var allocLines []string
	for _, rw := range rows {
		if !rw.isToken {
			continue
		}
		ours := rw.prefix + "/impl=oauth2server"
		check(rw.label+": ≥2× faster than go-oauth2", ours, rw.prefix+"/impl=go-oauth2", 0.5)
		check(rw.label+": ≥3× faster than fosite", ours, rw.prefix+"/impl=fosite", 1.0/3)
		check(rw.label+": within 2× of the Echo ceiling", ours, rw.ceiling, 2)
		if r, ok := get(res, ours); ok {
			c, _ := get(res, rw.ceiling)
			status := "**not met**"
			if r.allocs <= 40 {
				status = "met"
			}
			allocLines = append(allocLines, fmt.Sprintf("| %s: ≤ 40 allocs per token request | %.0f allocs/op (%.0f more than the ceiling's harness + Echo) | %s |",
				rw.label, r.allocs, r.allocs-c.allocs, status))
		}
	}
	check("bearer validation within 1.3× of the ceiling", "BenchmarkBearer/impl=oauth2server", "BenchmarkCeiling/kind=resource/impl=echo", 1.3)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		p := "BenchmarkJWTSign/alg=" + alg
		check("JWT issuance "+alg+" within 1.2× of raw signing", p+"/impl=oauth2server", p+"/impl=golang-jwt", 1.2)
	}
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	fmt.Fprintln(w, "| target | ratio, wall clock | status | ratio, CPU time | status |")
	fmt.Fprintln(w, "|---|---:|---|---:|---|")
	for _, t := range ts {
		if t.pending {
			fmt.Fprintf(w, "| %s | – | pending | – | pending |\n", t.name)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.name, t.wall, mark(t.wallOK), t.cpu, mark(t.cpuOK))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | measured | status |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, l := range allocLines {
		fmt.Fprintln(w, l)
	}
	writeFeatures(w, res)
}

// added is one feature's cost beside the raw cryptography it cannot
// avoid: with minus without (or the feature's row alone, when without is
// ""), divided by raw. The target is a ratio of at most max.
type added struct {
	label, with, without, raw string
	max                       float64
	// interleaved names a row that measured with, without and raw in
	// one loop, as the metrics with, without and raw-ns/op: wall time
	// only.
	interleaved string
	// judgedBy names the interleaved row that judges this feature's
	// target when it ran: the separate rows are shown, not judged.
	judgedBy string
}

// features are the rows of OpenID Connect (bench/oidc_test.go), client
// assertions (bench/assertions_test.go) and DPoP (bench/dpop_test.go)
// whose targets are a fraction above their raw signature or verification.
var features = []added{
	{label: "ID token RS256, the three requests interleaved in one loop", interleaved: "BenchmarkIDTokenInterleaved/alg=RS256",
		with: "openid-ns/op", without: "plain-ns/op", max: 1.10},
	{label: "ID token EdDSA, the three requests interleaved in one loop", interleaved: "BenchmarkIDTokenInterleaved/alg=EdDSA",
		with: "openid-ns/op", without: "plain-ns/op", max: 1.10},
	{"ID token RS256: code exchange with openid − without, beside a raw RS256 signature",
		"BenchmarkIDToken/alg=RS256/openid=yes", "BenchmarkIDToken/alg=RS256/openid=no", "BenchmarkIDToken/alg=RS256/raw=signature", 1.10, "",
		"BenchmarkIDTokenInterleaved/alg=RS256"},
	{"ID token EdDSA: code exchange with openid − without, beside a raw EdDSA signature",
		"BenchmarkIDToken/alg=EdDSA/openid=yes", "BenchmarkIDToken/alg=EdDSA/openid=no", "BenchmarkIDToken/alg=EdDSA/raw=signature", 1.10, "",
		"BenchmarkIDTokenInterleaved/alg=EdDSA"},
}

func init() {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		features = append(features, added{label: "private_key_jwt " + alg + ", the three requests interleaved in one loop",
			interleaved: "BenchmarkClientAssertionInterleaved/alg=" + alg, with: "assertion-ns/op", without: "basic-ns/op", max: 1.15})
		features = append(features, added{"private_key_jwt " + alg + ": client_credentials request − the same with client_secret_basic, beside golang-jwt's verify",
			"BenchmarkClientAssertion/alg=" + alg + "/auth=private_key_jwt/impl=oauth2server",
			"BenchmarkClientAssertion/auth=client_secret_basic/impl=oauth2server",
			"BenchmarkClientAssertion/alg=" + alg + "/verify/impl=golang-jwt", 1.15, "",
			"BenchmarkClientAssertionInterleaved/alg=" + alg})
	}
	for _, where := range []string{"token", "resource"} {
		for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
			p := "BenchmarkDPoPProof/where=" + where + "/alg=" + alg
			features = append(features, added{"DPoP proof " + alg + " at a " + where + " request, beside golang-jwt's parse and verify",
				p + "/impl=oauth2server", "", p + "/impl=golang-jwt", 1.15, "", ""})
		}
	}
}

// writeFeatureHeader writes the heading of the feature table unless done
// already, and reports that it is.
func writeFeatureHeader(w io.Writer, done bool) bool {
	if done {
		return true
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### OpenID Connect, client assertions and DPoP beside their raw cryptography")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "What a feature adds to a request (the request with it minus the same request without it, or the")
	fmt.Fprintln(w, "proof validation alone) beside the raw golang-jwt signature or verification of the same")
	fmt.Fprintln(w, "algorithm, which no implementation can avoid. Medians; wall clock, then CPU time. The")
	fmt.Fprintln(w, "interleaved rows time a request of each kind in turn in one loop, so that the machine's drift")
	fmt.Fprintln(w, "between separate runs (often 10 %) does not enter the difference; they measure wall time only.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| feature | added | raw | ratio | added, CPU | raw, CPU | ratio, CPU | target | status |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
	return true
}

// plainRows are feature rows without a raw floor, shown with their cost.
var plainRows = []struct{ label, name string }{
	{"bearer validation on an OpenID Provider (`GET /api/me`)", "BenchmarkUserInfo/kind=bearer/impl=oauth2server"},
	{"UserInfo with the same token (`GET /userinfo`)", "BenchmarkUserInfo/kind=userinfo/impl=oauth2server"},
	{"token exchange of an opaque access token (RFC 8693)", "BenchmarkTokenExchange/subject=opaque/impl=oauth2server"},
	{"pushed authorization request (RFC 9126)", "BenchmarkPAR/impl=oauth2server"},
	{"client_credentials, Bearer (JWT access token)", "BenchmarkDPoPRequest/op=token/scheme=Bearer"},
	{"client_credentials, DPoP ES256 proof", "BenchmarkDPoPRequest/op=token/scheme=DPoP"},
	{"`GET /api/me`, Bearer", "BenchmarkDPoPRequest/op=resource/scheme=Bearer"},
	{"`GET /api/me`, DPoP-bound token and ES256 proof", "BenchmarkDPoPRequest/op=resource/scheme=DPoP"},
}

// writeFeatures writes the tables of the feature rows that ran.
func writeFeatures(w io.Writer, res map[string]result) {
	header := false
	for _, f := range features {
		if f.interleaved != "" {
			r, ok := get(res, f.interleaved)
			if !ok {
				continue
			}
			header = writeFeatureHeader(w, header)
			aw := r.extra[f.with] - r.extra[f.without]
			rw := aw / r.extra["raw-ns/op"]
			status := "met"
			if rw > f.max {
				status = "**not met**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.2f | – | – | – | ≤ %.2f | %s |\n", f.label, fmtNS(aw),
				fmtNS(r.extra["raw-ns/op"]), rw, f.max, status)
			continue
		}
		with, ok1 := get(res, f.with)
		raw, ok2 := get(res, f.raw)
		without, ok3 := result{}, true
		if f.without != "" {
			without, ok3 = get(res, f.without)
		}
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		header = writeFeatureHeader(w, header)
		aw, ac := with.ns-without.ns, with.cpu-without.cpu
		rw, rc := aw/raw.ns, ac/raw.cpu
		status := "met"
		switch _, judged := get(res, f.judgedBy); {
		case judged:
			status = "shown; the interleaved row judges"
		case rw > f.max && rc > f.max:
			status = "**not met**"
		case rw > f.max || rc > f.max:
			status = "met in one measure"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %s | %.2f | ≤ %.2f | %s |\n", f.label, fmtNS(aw), fmtNS(raw.ns), rw,
			fmtNS(ac), fmtNS(raw.cpu), rc, f.max, status)
	}
	header = false
	for _, p := range plainRows {
		r, ok := get(res, p.name)
		if !ok {
			continue
		}
		if !header {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| request | time | CPU time | allocs/op | B/op |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
			header = true
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %.0f |\n", p.label, fmtNS(r.ns), fmtNS(r.cpu), r.allocs, r.bytes)
	}
}

// writeSVG draws one horizontal bar group per workload (ns/op, linear
// scale per group), each bar labelled with its time and allocations.
func writeSVG(w io.Writer, res map[string]result) {
	type bar struct {
		impl string
		r    result
	}
	type group struct {
		label string
		bars  []bar
	}
	var groups []group
	for _, rw := range rows {
		var g group
		g.label = rw.label
		for _, impl := range impls {
			if r, ok := get(res, rw.prefix+"/impl="+impl); ok {
				g.bars = append(g.bars, bar{impl, r})
			}
		}
		if rw.ceiling != "" {
			if r, ok := get(res, rw.ceiling); ok {
				name := rw.ceiling[strings.LastIndex(rw.ceiling, "=")+1:]
				if name == "echo" {
					name = "echo (ceiling)"
				} else {
					name += " (raw)"
				}
				g.bars = append(g.bars, bar{name, r})
			}
		}
		if len(g.bars) > 1 {
			groups = append(groups, g)
		}
	}
	const (
		width    = 860
		left     = 150
		barH     = 16
		gap      = 4
		groupGap = 26
		maxBar   = 470
	)
	height := 40
	for _, g := range groups {
		height += groupGap + len(g.bars)*(barH+gap)
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(w, `<text x="10" y="20" font-size="14" font-weight="bold">Time per request (median ns/op, shorter is better; each group has its own scale)</text>`+"\n")
	y := 40
	for _, g := range groups {
		y += groupGap
		fmt.Fprintf(w, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y-6, html.EscapeString(g.label))
		maxNS := 0.0
		for _, b := range g.bars {
			maxNS = math.Max(maxNS, b.r.ns)
		}
		for _, b := range g.bars {
			l := int(math.Max(1, b.r.ns/maxNS*maxBar))
			key := b.impl
			if i := strings.Index(key, " "); i > 0 {
				key = key[:i]
			}
			color := colors[key]
			if color == "" {
				color = "#666"
			}
			fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, y+barH-4, html.EscapeString(b.impl))
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", left, y, l, barH, color)
			fmt.Fprintf(w, `<text x="%d" y="%d">%s · %.0f allocs</text>`+"\n", left+l+6, y+barH-4, fmtNS(b.r.ns), b.r.allocs)
			y += barH + gap
		}
	}
	fmt.Fprintln(w, "</svg>")
}

func main() {
	in := flag.String("in", "", "benchmark output (default stdin)")
	svg := flag.String("svg", "", "write the SVG chart here")
	md := flag.String("md", "", "write the Markdown ratio and target tables here")
	flag.Parse()
	var r io.Reader = os.Stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		r = f
	}
	samples, err := parse(r)
	if err != nil {
		log.Fatal(err)
	}
	if len(samples) == 0 {
		log.Fatal("chart: no benchmark lines in input")
	}
	res := summarize(samples)
	names := make([]string, 0, len(res))
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	write := func(path string, fn func(io.Writer, map[string]result)) {
		if path == "" {
			return
		}
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		fn(f, res)
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
	write(*svg, writeSVG)
	write(*md, writeMarkdown)
	if *svg == "" && *md == "" {
		writeMarkdown(os.Stdout, res)
	}
}
