# Reads the output of `go test -v ./...` and prints what go test prints
# without -v: the "ok" line of a passing package, and for a failing one the
# output of its failing (or unfinished) tests, of the package itself (panics,
# race reports, build errors) and its FAIL lines. Everything a passing test
# logged, and the === markers, are left out.
#
# Appends one tab-separated record per package, failed test, skipped test and
# fuzz target to the file named by -v records=FILE, for gotest-summary.awk:
#
#   pkg   PACKAGE  ok|FAIL|?  PASSED  FAILED  SKIPPED  NOTE
#   fail  PACKAGE  TEST
#   skip  PACKAGE  TEST       REASON
#   fuzz  PACKAGE  TARGET     SEEDS-PASSED  SEEDS-RUN
#
# go test prints the output of each package in one piece when it runs more
# than one package, so a package's lines are collected until its ok/FAIL line.
# With -v, the testing package names the test before any output of another
# test than the last one (=== RUN, CONT, NAME), and a result line (--- PASS)
# makes its test the current one; this is how test2json attributes lines too.
# Plain awk (mawk and busybox included): no gawk extensions.

BEGIN { reset() }

function reset() {
	n = 0
	cur = ""
	race = 0
	pkgLevel = 0
	npass = 0
	nfail = 0
	nskip = 0
	split("", line)
	split("", owner)
	split("", kind)
	split("", status)
	split("", lastLog)
	split("", order)
	nOrder = 0
}

function store(text, who, k) {
	n++
	line[n] = text
	owner[n] = who
	kind[n] = k
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# One package's output is complete: print it as go test would without -v
# and write its records.
function finish(end,    fields, pkg, result, note, i, o, name, target, seeds, passed) {
	split(end, fields, "\t")
	pkg = trim(fields[2])
	result = trim(fields[1])
	note = (3 in fields) ? trim(fields[3]) : ""
	if (match(pkg, / \[/)) { # "FAIL\tPKG [build failed]"
		note = substr(pkg, RSTART + 1)
		pkg = substr(pkg, 1, RSTART - 1)
	}
	if (note ~ /^[0-9.]+s$/) note = ""
	sub(/^[0-9.]+s +/, "", note)
	if (result == "FAIL") {
		for (i = 1; i <= n; i++) {
			o = owner[i]
			if (kind[i] == "result") {
				if (status[o] == "FAIL") print line[i]
			} else if (o == "" || (status[o] != "PASS" && status[o] != "SKIP")) {
				print line[i]
			}
		}
	} else {
		# A passing package: only what no test owns, such as a TestMain's
		# output or the go command's own messages.
		for (i = 1; i <= n; i++)
			if (owner[i] == "" && kind[i] == "out") print line[i]
	}
	print end
	fflush()

	if (records == "") { reset(); return }
	printf "pkg\t%s\t%s\t%d\t%d\t%d\t%s\n", pkg, result, npass, nfail, nskip, note >> records
	for (i = 1; i <= nOrder; i++) {
		name = order[i]
		if (status[name] == "FAIL")
			printf "fail\t%s\t%s\n", pkg, name >> records
		if (status[name] == "SKIP")
			printf "skip\t%s\t%s\t%s\n", pkg, name, lastLog[name] >> records
		if (name ~ /^Fuzz[^\/]*$/) {
			target = name
			seeds = 0
			passed = 0
			for (o in status) {
				if (index(o, target "/") == 1) {
					seeds++
					if (status[o] == "PASS") passed++
				}
			}
			printf "fuzz\t%s\t%s\t%d\t%d\n", pkg, target, passed, seeds >> records
		}
	}
	close(records)
	reset()
}

# The end of a package: "ok  \tPKG\t1.2s", "FAIL\tPKG\t1.2s",
# "FAIL\tPKG [build failed]", "?   \tPKG\t[no test files]".
/^(ok  |FAIL|\?   )\t/ { finish($0); next }

/^=== (RUN|CONT|NAME|PAUSE) / {
	if (!pkgLevel) {
		s = $0
		sub(/^=== [A-Z]+ +/, "", s)
		cur = s
	}
	next
}

/^ *--- (PASS|FAIL|SKIP): / {
	s = $0
	sub(/^ *--- /, "", s)
	res = substr(s, 1, 4)
	name = substr(s, 7)
	sub(/ \([0-9.]+s\)$/, "", name)
	if (!(name in status)) order[++nOrder] = name
	status[name] = res
	if (res == "PASS") npass++
	if (res == "FAIL") nfail++
	if (res == "SKIP") nskip++
	store($0, name, "result")
	if (!pkgLevel) cur = name
	next
}

# A race report belongs to no single test: it is always shown.
$0 == "==================" { race = !race; store($0, "", "out"); next }

# After a panic or a fatal error (a timeout included) the rest of the
# output is the package's.
/^(panic: |fatal error: )/ { pkgLevel = 1; cur = "" }

# The package's own trailer, printed after its last test.
/^(PASS|FAIL|exit status [0-9]+|testing: warning: no tests to run)$/ {
	store($0, "", "trailer")
	next
}

{
	who = (race || pkgLevel) ? "" : cur
	store($0, who, "out")
	# The last file:line: message of a test is its skip reason when it skips.
	if (who != "" && $0 ~ /^ +[^ ]+\.go:[0-9]+: /) {
		s = $0
		sub(/^ +[^ ]+\.go:[0-9]+: /, "", s)
		lastLog[who] = s
	}
}

# Output after the last package (the go command failed before or between
# packages): show all of it.
END {
	for (i = 1; i <= n; i++) print line[i]
	fflush()
}
