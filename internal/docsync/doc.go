// Package docsync has no code. Its tests keep the guides in step with the
// code: the commands that docs/walkthrough.md shows run, in its order, in
// the script that checks them against the example server, and every Go
// block of README.md and docs/*.md type-checks against the packages of
// this module (README.md in this directory gives the conventions).
package docsync
