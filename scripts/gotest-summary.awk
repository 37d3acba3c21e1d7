# Prints the records of gotest-filter.awk as the summary of make test: tests
# passed, failed and skipped per package (subtests, examples and fuzz seeds
# counted), the fuzz targets whose seed corpora ran, the failed tests and the
# skipped ones with their reasons. -v module=PATH shortens package paths.
# Plain awk (mawk and busybox included): no gawk extensions.

BEGIN { FS = "\t" }

function short(pkg) {
	if (pkg == module) return "."
	if (module != "" && index(pkg, module "/") == 1) return substr(pkg, length(module) + 2)
	return pkg
}

$1 == "pkg" {
	np++
	pkgName[np] = short($2)
	pkgResult[np] = $3
	pkgPass[np] = $4
	pkgFail[np] = $5
	pkgSkip[np] = $6
	pkgNote[np] = $7
	tPass += $4
	tFail += $5
	tSkip += $6
	if (length(pkgName[np]) > width) width = length(pkgName[np])
}
$1 == "fail" { nf++; failed[nf] = short($2) " " $3 }
# Skips are grouped by package and reason: without a MongoDB server, dozens
# of tests skip for the same reason.
$1 == "skip" {
	ns++
	reason = ($4 == "") ? "(no reason given)" : $4
	key = short($2) SUBSEP reason
	if (!(key in groupSize)) {
		ng++
		groupKey[ng] = key
		groupPkg[ng] = short($2)
		groupReason[ng] = reason
	}
	groupSize[key]++
	groupNames[key] = (groupNames[key] == "") ? $3 : groupNames[key] ", " $3
}
$1 == "fuzz" { nz++; fuzzSeeds += $5; fuzzPassed += $4; if ($4 == $5) fuzzOK++ }

END {
	if (width < 7) width = 7
	printf "  %-" width "s %6s %6s %6s\n", "package", "pass", "fail", "skip"
	for (i = 1; i <= np; i++) {
		if (pkgResult[i] == "?") {
			printf "  %-" width "s %6s %6s %6s  %s\n", pkgName[i], "-", "-", "-", "no test files"
			continue
		}
		mark = (pkgResult[i] == "FAIL") ? "  FAIL" : ""
		if (pkgNote[i] != "") mark = mark "  " pkgNote[i]
		printf "  %-" width "s %6d %6d %6d%s\n", pkgName[i], pkgPass[i], pkgFail[i], pkgSkip[i], mark
	}
	printf "  %-" width "s %6d %6d %6d  (tests, subtests, examples and fuzz seeds)\n", "total", tPass, tFail, tSkip
	if (nz == 0) print "  fuzz: no fuzz targets ran"
	else printf "  fuzz: %d of %d targets passed their seed corpora (%d of %d seeds)\n", fuzzOK, nz, fuzzPassed, fuzzSeeds
	if (nf > 0) {
		printf "  failed (%d):\n", nf
		for (i = 1; i <= nf; i++) print "    " failed[i]
	}
	if (ns == 0) print "  skipped: none"
	else {
		printf "  skipped (%d):\n", ns
		for (i = 1; i <= ng; i++) {
			key = groupKey[i]
			if (groupSize[key] == 1) {
				print "    " groupPkg[i] " " groupNames[key] ": " groupReason[i]
				continue
			}
			printf "    %s, %d tests: %s\n", groupPkg[i], groupSize[key], groupReason[i]
			wrap(groupNames[key], "      ", 100)
		}
	}
}

# wrap prints the comma-separated list s in lines of at most width
# characters, each starting with indent.
function wrap(s, indent, width,    parts, k, m, out) {
	m = split(s, parts, ", ")
	out = indent parts[1]
	for (k = 2; k <= m; k++) {
		if (length(out) + 2 + length(parts[k]) > width) {
			print out ","
			out = indent parts[k]
		} else {
			out = out ", " parts[k]
		}
	}
	print out
}
