// Package docsync has no code. Its tests keep the commands that docs/
// shows in step with the script that runs them, so that a page cannot
// drift from what was checked against the example server.
package docsync
