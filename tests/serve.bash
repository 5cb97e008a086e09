# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # bats variables; values used by tests
#
# Helpers for the wq-serve tests: a server of the test's own on a free
# loopback port (port 0, read back from --port-file), stopped in teardown,
# and curl wrappers.  Load after helpers.

# serve_start [ARG...]: start wq-serve on the test spool with ARGs; sets
# SERVE_PID, SERVE_PORT, SERVE_URL and SERVE_LOG (its stderr).
serve_start() {
	local pf="$BATS_TEST_TMPDIR/serve.port"
	rm -f "$pf"
	SERVE_LOG="$BATS_TEST_TMPDIR/serve.log"
	wq-serve -l 127.0.0.1:0 --port-file "$pf" "$@" \
		>"$BATS_TEST_TMPDIR/serve.out" 2>"$SERVE_LOG" </dev/null 3>&- &
	SERVE_PID=$!
	BG_PIDS+=("$SERVE_PID")
	if ! wait_for 10 serve_port_ready "$pf"; then
		cat "$SERVE_LOG" >&2
		fail "wq-serve did not start"
	fi
	SERVE_PORT=$(<"$pf")
	SERVE_URL="http://127.0.0.1:$SERVE_PORT"
}

# serve_port_ready FILE: the port file is there, or the server died.
serve_port_ready() {
	[ -s "$1" ] || ! alive "$SERVE_PID"
}

# serve_stop [SIGNAL]: stop the server (SIGTERM) and wait for it; its exit
# status is in SERVE_STATUS.
serve_stop() {
	kill -"${1:-TERM}" "$SERVE_PID"
	SERVE_STATUS=0
	wait "$SERVE_PID" || SERVE_STATUS=$?
}

# api METHOD PATH [CURL-ARG...]: one request; the status code is in
# HTTP_STATUS, the body in HTTP_BODY (and the file $BATS_TEST_TMPDIR/body),
# the response headers in $BATS_TEST_TMPDIR/headers.
api() {
	local method=$1 path=$2
	shift 2
	HTTP_STATUS=$(curl -sS -X "$method" -o "$BATS_TEST_TMPDIR/body" \
		-D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' \
		"$@" "$SERVE_URL$path")
	HTTP_BODY=$(<"$BATS_TEST_TMPDIR/body")
}

# assert_http STATUS: the last api call answered STATUS.
assert_http() {
	if [ "$HTTP_STATUS" != "$1" ]; then
		echo "expected HTTP $1, got $HTTP_STATUS: $HTTP_BODY" >&2
		return 1
	fi
}

# assert_json_error STATUS: the last api call answered STATUS with a JSON
# error object carrying the same status and a message.
assert_json_error() {
	assert_http "$1" || return 1
	jq -e --argjson s "$1" '.status == $s and (.error | type == "string" and length > 0)' \
		<<<"$HTTP_BODY" >/dev/null ||
		{ echo "not a JSON error: $HTTP_BODY" >&2; return 1; }
}

# header NAME: a response header of the last api call (case-insensitive).
header() {
	tr -d '\r' <"$BATS_TEST_TMPDIR/headers" |
		awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" \
			'BEGIN{FS=": "} tolower($1)==n {print substr($0, length($1)+3)}'
}
