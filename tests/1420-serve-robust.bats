#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-serve under bad input and in operation: bodies over --max-body (with
# Content-Length and chunked), headers over --max-header, request
# smuggling (Content-Length with chunked), broken HTTP, slow clients
# (slowhttptest), the connection limit, -l, TLS, socket activation,
# SIGTERM with long-polls in flight, and kill -9.

bats_require_minimum_version 1.5.0
load helpers
load serve

setup() {
	common_setup
	wq-create q
}

teardown() {
	common_teardown
}

# need COMMAND: skip without it, but fail in CI, which installs it.
need() {
	command -v "$1" >/dev/null && return 0
	[ -z "${CI-}" ] || fail "$1 is not installed (CI installs it: .ci/run)"
	skip "$1 is not installed"
}

# raw DATA: send DATA (printf %b escapes) on a new connection and print
# what comes back until the server closes the connection; status 124 if
# it has not closed it after 5 s.  A server that stops reading makes the
# write fail, which is fine: what matters is what it answers.
raw() {
	(
		trap '' PIPE
		exec 4<>"/dev/tcp/127.0.0.1/$SERVE_PORT" || exit 99
		printf '%b' "$1" >&4 2>/dev/null
		timeout 5 cat <&4 2>/dev/null
		rc=$?
		# A reset after the answer is a close too.
		[ "$rc" -eq 124 ] && exit 124
		exit 0
	)
}

# matches N REGEX FILE: FILE has N lines or more that match REGEX.
matches() {
	[ "$(grep -c -E -- "$2" "$3" 2>/dev/null)" -ge "$1" ]
}

# healthy: the server answers /healthz with 200.
healthy() {
	[ "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz")" = 200 ]
}

# send_and_receive BODY: over HTTP, send BODY to q, receive it and ack it.
send_and_receive() {
	local receipt
	api POST /v1/queues/q/messages --data-binary "$1" -m 10
	assert_http 201
	api POST '/v1/queues/q/receive?wait=5' -m 10
	assert_http 200
	receipt=$(jq -r --arg b "$1" '.messages[] | select(.body == $b) | .receipt' \
		<<<"$HTTP_BODY")
	[[ $receipt =~ $RECEIPT_RE ]] || fail "not received: $HTTP_BODY"
	api DELETE "/v1/queues/q/messages/$receipt" -m 10
	assert_http 204
}

# server_fds: the number of open sockets of the server (its connections
# and the listening socket; the directories of the queues it keeps open
# per worker thread come and go with the requests, so they do not count).
server_fds() {
	find "/proc/$SERVE_PID/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' \
		2>/dev/null | wc -l
}
fds_at_least() {
	[ "$(server_fds)" -ge "$1" ]
}
fds_below() {
	[ "$(server_fds)" -lt "$1" ]
}

# long_polls N: /metrics counts N parked receives.
long_polls() {
	curl -sS -m 5 "$SERVE_URL/metrics" | grep -qx "wq_serve_long_polls $1"
}

# ready_ids QUEUE: the ids of the messages of QUEUE, from the file names
# (ready or leased), sorted.
ready_ids() {
	find "$(qdir "$1")/new" "$(qdir "$1")/cur" -type f -printf '%f\n' |
		sed -E 's/^[0-9a-f]{2}\.//; s/,.*//' | LC_ALL=C sort
}

# --- bodies and headers ------------------------------------------------

@test "a body over --max-body: 413 with a JSON error, nothing sent, the server serves on" {
	serve_start --max-body 1000
	mkfile_size "$BATS_TEST_TMPDIR/exact" 1000
	mkfile_size "$BATS_TEST_TMPDIR/over" 1001
	mkfile_size "$BATS_TEST_TMPDIR/large" 15000
	mkfile_size "$BATS_TEST_TMPDIR/huge" 300000
	# Read and dropped, then refused: the client sending it reads the
	# answer rather than a reset connection.
	api POST /v1/queues/q/messages --data-binary @"$BATS_TEST_TMPDIR/over"
	assert_json_error 413
	api POST /v1/queues/q/messages --data-binary @"$BATS_TEST_TMPDIR/large"
	assert_json_error 413
	# Refused before any of the body is sent.
	api POST /v1/queues/q/messages -H 'Expect: 100-continue' \
		--data-binary @"$BATS_TEST_TMPDIR/huge"
	assert_json_error 413
	# A batch is a body too.
	api POST /v1/queues/q/batch -H 'Content-Type: application/json' \
		--data-binary "{\"messages\":[{\"body\":\"$(cat "$BATS_TEST_TMPDIR/exact")\"}]}"
	assert_json_error 413
	assert_stat q 0 0 0
	# At the limit it goes.
	api POST /v1/queues/q/messages --data-binary @"$BATS_TEST_TMPDIR/exact"
	assert_http 201
	assert_stat q 1 0 0
}

@test "a chunked body over --max-body, without Content-Length: 413, nothing sent" {
	serve_start --max-body 1000
	mkfile_size "$BATS_TEST_TMPDIR/exact" 1000
	mkfile_size "$BATS_TEST_TMPDIR/over" 2500
	api POST /v1/queues/q/messages -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/over"
	assert_json_error 413
	assert_stat q 0 0 0
	# curl really sent it chunked, and a chunked body within the limit
	# goes.
	run -0 curl -sS -v -o /dev/null -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/exact" "$SERVE_URL/v1/queues/q/messages"
	assert_output --partial '> Transfer-Encoding: chunked'
	refute_output --partial '> Content-Length'
	assert_stat q 1 0 0
	# A chunked body far over the limit: refused, or the connection cut;
	# never sent.
	mkfile_size "$BATS_TEST_TMPDIR/huge" 300000
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/huge" "$SERVE_URL/v1/queues/q/messages" \
		2>/dev/null) || true
	[[ $code == 413 || $code == 000 ]] || fail "a huge chunked body got $code"
	assert_stat q 1 0 0
	healthy
}

@test "headers over --max-header: 431 or 413, and the server serves on" {
	serve_start --max-header 4096
	big=$(head -c 6000 /dev/zero | tr '\0' a)
	api GET /healthz -H "X-Big: $big"
	[[ $HTTP_STATUS == 431 || $HTTP_STATUS == 413 ]] ||
		fail "headers over --max-header: $HTTP_STATUS"
	api POST /v1/queues/q/messages --data-binary x -H "X-WQ-Attr-big: $big"
	[[ $HTTP_STATUS == 431 || $HTTP_STATUS == 413 ]] ||
		fail "headers over --max-header: $HTTP_STATUS"
	# Many small ones add up.
	args=()
	for i in $(seq 300); do args+=(-H "X-Header-$i: value-$i"); done
	api GET /healthz "${args[@]}"
	[[ $HTTP_STATUS == 431 || $HTTP_STATUS == 413 ]] ||
		fail "many headers over --max-header: $HTTP_STATUS"
	# A request line too long is refused too (libmicrohttpd says 414).
	api GET "/healthz?x=$big"
	[[ $HTTP_STATUS == 4[0-9][0-9] ]] || fail "a long request line: $HTTP_STATUS"
	assert_stat q 0 0 0
	# Within the limit all is well.
	api GET /healthz -H "X-Fair: ${big:0:2000}"
	assert_http 200
	send_and_receive after
}

@test "Content-Length with Transfer-Encoding: 400, the connection closed, nothing sent" {
	serve_start -v
	# A smuggled second request rides in the body of the first.
	req='POST /v1/queues/q/messages HTTP/1.1\r\nHost: x\r\n'
	req+='Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
	req+='5\r\nhello\r\n0\r\n\r\n'
	req+='POST /v1/queues/q/messages HTTP/1.1\r\nHost: x\r\n'
	req+='Content-Length: 8\r\n\r\nsmuggled'
	run -0 raw "$req"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	# One JSON error, then the connection closed (raw returned 0).
	body=$(printf '%s\n' "$output" | tr -d '\r' | sed '1,/^$/d')
	assert_equal "$(jq -c '.status' <<<"$body")" 400
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/')" -eq 1 ] ||
		fail "more than one answer: $output"
	assert_stat q 0 0 0
	# The other order of the headers, and the server still serves.
	req='POST /v1/queues/q/messages HTTP/1.1\r\nHost: x\r\n'
	req+='Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'
	req+='3\r\nabc\r\n0\r\n\r\n'
	run -0 raw "$req"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_stat q 0 0 0
	send_and_receive after
	run -1 grep 'POST /v1/queues/q/messages 201.*smuggled' "$SERVE_LOG"
}

@test "malformed HTTP: 400 (or the connection closed), and the server serves on" {
	# Junk that never ends a request line waits for --timeout.
	serve_start --timeout 1
	for line in 'GET / HTTP/1.1 garbage' 'GET / FOO/1.1' \
		'GET /healthz HTTP/1.1\r\nno colon here'; do
		run -0 raw "$line\r\nHost: x\r\n\r\n"
		assert_line --index 0 --regexp '^HTTP/1\.1 400 '
		healthy
	done
	# Garbage that is no request line at all, binary junk, a TLS hello on
	# the plain port: closed, with a 4xx if anything.
	for junk in 'GARBAGE\r\n\r\n' '\x00\x01\x02\xff\xfe\r\n\r\n' \
		'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' \
		'GET\r\n\r\n' "$(head -c 3000 /dev/zero | tr '\0' '%')\r\n\r\n"; do
		run -0 raw "$junk"
		[[ -z $output || ${lines[0]} =~ ^HTTP/1\.1\ 4[0-9][0-9]\  ]] ||
			fail "junk answered: ${lines[0]}"
		healthy
	done
	send_and_receive after
}

# --- slow clients and the connection limit -----------------------------

# attack_connected N: slowhttptest's statistics (its CSV, a line per
# second) last counted N connections or more.
attack_connected() {
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/slow.csv" 2>/dev/null | cut -d, -f4)" -ge "$1" ] \
		2>/dev/null
}

@test "slowloris (slowhttptest -H): a send and a receive still work during the attack" {
	need slowhttptest
	serve_start --max-connections 500 --timeout 5
	base=$(server_fds)
	# 200 connections, each sending a header line every 2 s: under the
	# idle timeout, so they hold their connections for the whole 10 s.
	bg "$BATS_TEST_TMPDIR/slow.out" slowhttptest -H -c 200 -r 100 -l 10 -i 2 \
		-u "$SERVE_URL/healthz" -g -o "$BATS_TEST_TMPDIR/slow"
	attacker=$BG_PID
	wait_for 20 attack_connected 150
	wait_for 10 fds_at_least $((base + 150))
	send_and_receive "during the slowloris"
	healthy
	# Still under attack when those were served.
	alive "$attacker"
	attack_connected 150
	wait_for 30 dead "$attacker"
	alive "$SERVE_PID"
	send_and_receive "after the slowloris"
	# The attackers' connections are gone.
	wait_for 10 fds_below $((base + 10))
	assert_stat q 0 0 0
}

@test "slow bodies (slowhttptest -B): served around, then dropped by --timeout, nothing sent" {
	need slowhttptest
	serve_start --max-connections 500 --timeout 5
	base=$(server_fds)
	# 200 POSTs of 8 KiB that send a little every 20 s: idle past
	# --timeout, which must drop them long before the attack's end.
	bg "$BATS_TEST_TMPDIR/slow.out" slowhttptest -B -c 200 -r 100 -l 40 -i 20 \
		-s 8192 -u "$SERVE_URL/v1/queues/q/messages" -g -o "$BATS_TEST_TMPDIR/slow"
	attacker=$BG_PID
	wait_for 20 fds_at_least $((base + 150))
	held=$(now_ms)
	send_and_receive "during the slow bodies"
	healthy
	# Dropped by the server (the attacker would hold them 40 s).
	wait_for 20 fds_below $((base + 20))
	[ $(($(now_ms) - held)) -lt 20000 ]
	alive "$SERVE_PID"
	send_and_receive "after the slow bodies"
	# None of the half bodies became a message.
	assert_stat q 0 0 0
	kill "$attacker" 2>/dev/null || true
}

# latecomer: a request on a connection of its own, without the
# descriptors of the test's connections (fds), which would keep them open.
latecomer() {
	local fd
	for fd in "${fds[@]}"; do
		eval "exec $fd<&-"
	done
	exec curl -sS -m 30 -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz"
}

@test "--max-connections 20: the 21st connection waits or is refused; freed, all is well" {
	serve_start --max-connections 20 -t 4
	fds=()
	for i in $(seq 20); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$SERVE_PORT"
		fds+=("$fd")
		printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&"$fd"
	done
	# Each was accepted and served, and stays open (keep-alive).
	for fd in "${fds[@]}"; do
		line=
		IFS= read -r -t 10 line <&"$fd" || true
		[[ $line == "HTTP/1.1 200 "* ]] || fail "an open connection got '$line'"
	done
	# The 21st is not served while the 20 are held.
	bg "$BATS_TEST_TMPDIR/21st" latecomer
	latecomer=$BG_PID
	run ! wait_for 2 grep -q 200 "$BATS_TEST_TMPDIR/21st"
	refused=0
	dead "$latecomer" && refused=1
	for fd in "${fds[@]}"; do
		exec {fd}<&-
	done
	# Queued, it is served now; refused, it failed already.
	if [ "$refused" -eq 0 ]; then
		wait_for 15 dead "$latecomer"
		wait "$latecomer"
		assert_equal "$(cat "$BATS_TEST_TMPDIR/21st")" 200
	else
		run ! grep -q 200 "$BATS_TEST_TMPDIR/21st"
	fi
	# Twenty at once work again.
	for i in $(seq 20); do
		curl -sS -m 10 -o /dev/null -w '%{http_code}\n' "$SERVE_URL/healthz" 3>&- &
	done >"$BATS_TEST_TMPDIR/twenty"
	wait_for 20 matches 20 '^200$' "$BATS_TEST_TMPDIR/twenty"
	send_and_receive after
}

@test "-l with an invalid address: exit 64, not listening" {
	for l in nonsense 127.0.0.1 127.0.0.1: :8080 127.0.0.1:http 127.0.0.1:-1 \
		127.0.0.1:65536 127.0.0.1:70000 '[::1' 300.1.1.1:80; do
		rm -f "$BATS_TEST_TMPDIR/port"
		run -64 --separate-stderr timeout 10 wq-serve -l "$l" \
			--port-file "$BATS_TEST_TMPDIR/port"
		[[ ${stderr_lines[0]} == "wq-serve: "?* ]] || fail "-l $l: '$stderr'"
		[ ! -e "$BATS_TEST_TMPDIR/port" ] || fail "-l $l: it listened"
	done
	# Valid, but not an address of this host: it cannot listen.
	run -69 --separate-stderr timeout 10 wq-serve -l 192.0.2.1:0
	[[ $stderr == *"wq-serve: "* ]]
}

# --- TLS and socket activation ------------------------------------------

@test "--tls-cert and --tls-key: HTTPS that curl --cacert trusts" {
	ldd "$(command -v wq-serve)" | grep -q gnutls ||
		skip "libmicrohttpd without TLS (GnuTLS)"
	d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	serve_start --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	grep -q "listening on https://127.0.0.1:$SERVE_PORT" "$SERVE_LOG"
	SERVE_URL="https://127.0.0.1:$SERVE_PORT"
	api GET /healthz --cacert "$d/cert.pem"
	assert_http 200
	api POST /v1/queues/q/messages --data-binary secret --cacert "$d/cert.pem"
	assert_http 201
	api POST /v1/queues/q/receive --cacert "$d/cert.pem"
	assert_http 200
	assert_equal "$(jq -r '.messages[0].body' <<<"$HTTP_BODY")" secret
	# Not trusted without the certificate; no plain HTTP on the port.
	run -60 curl -sS -o /dev/null "$SERVE_URL/healthz"
	run curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/healthz"
	refute_output 200
	api GET /healthz --cacert "$d/cert.pem"
	assert_http 200
}

@test "TLS misconfigured: a key without a certificate is a usage error, a bad certificate exit 69" {
	d=$BATS_TEST_TMPDIR
	echo 'not a certificate' >"$d/bad.pem"
	run -64 --separate-stderr wq-serve -l 127.0.0.1:0 --tls-key "$d/bad.pem"
	run -64 --separate-stderr wq-serve -l 127.0.0.1:0 --tls-cert "$d/bad.pem"
	ldd "$(command -v wq-serve)" | grep -q gnutls ||
		skip "libmicrohttpd without TLS (GnuTLS)"
	run -69 --separate-stderr timeout 10 wq-serve -l 127.0.0.1:0 \
		--tls-cert "$d/bad.pem" --tls-key "$d/bad.pem"
	[[ $stderr == *"wq-serve: "* ]]
	run -69 --separate-stderr timeout 10 wq-serve -l 127.0.0.1:0 \
		--tls-cert "$d/none.pem" --tls-key "$d/none.pem"
	[[ $stderr == *"$d/none.pem"* ]]
}

# activate_started: systemd-socket-activate listens, or it died.
activate_started() {
	grep -q 'Listening on' "$BATS_TEST_TMPDIR/activate.out.err" || dead "$ACT_PID"
}

@test "socket activation: systemd-socket-activate passes the socket, -l is ignored" {
	need systemd-socket-activate
	# A free port: systemd-socket-activate binds it, or dies if taken.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		bg "$BATS_TEST_TMPDIR/activate.out" systemd-socket-activate \
			-l "127.0.0.1:$port" wq-serve -d "$WQ_DIR" -l 127.0.0.1:1 \
			--port-file "$BATS_TEST_TMPDIR/port"
		ACT_PID=$BG_PID
		wait_for 10 activate_started
		alive "$ACT_PID" && break
	done
	alive "$ACT_PID" || fail "no free port in ten tries"
	# The first connection starts wq-serve on the socket.
	run -0 curl -sS -m 10 "http://127.0.0.1:$port/healthz"
	assert_output '{"status":"ok"}'
	run -0 curl -sS -m 10 -X POST --data-binary activated \
		"http://127.0.0.1:$port/v1/queues/q/messages"
	assert_stat q 1 0 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/port")" "$port"
	grep -q 'listening on the socket from systemd' "$BATS_TEST_TMPDIR/activate.out.err"
	# It is wq-serve now (exec'd in place), and stops cleanly.
	[[ $(readlink "/proc/$ACT_PID/exe") == */wq-serve ]]
	kill -TERM "$ACT_PID"
	status=0
	wait "$ACT_PID" || status=$?
	assert_equal "$status" 0
}

# --- stopping ------------------------------------------------------------

# sender FILE: send to q2 over HTTP until $BATS_TEST_TMPDIR/stop exists,
# the answer of each accepted send a line of FILE.
sender() {
	local i=0
	while [ ! -e "$BATS_TEST_TMPDIR/stop" ] && ((i < 5000)); do
		curl -sf -m 10 -X POST --data-binary "m$i" \
			"$SERVE_URL/v1/queues/q2/messages" && echo
		i=$((i + 1))
	done
}

@test "SIGTERM: a parked long-poll answers at once, exit 0, no accepted send lost" {
	wq-create q2
	serve_start --shutdown-timeout 10
	bg "$BATS_TEST_TMPDIR/poll" curl -sS -X POST -w '\n%{http_code}' \
		"$SERVE_URL/v1/queues/q/receive?wait=20"
	poller=$BG_PID
	wait_for 10 long_polls 1
	bg "$BATS_TEST_TMPDIR/sent" sender
	senders=$BG_PID
	wait_for 10 matches 5 '"id"' "$BATS_TEST_TMPDIR/sent"
	t0=$(now_ms)
	serve_stop TERM
	assert_equal "$SERVE_STATUS" 0
	# Well before its wait of 20 s, and the shutdown timeout of 10 s.
	[ $(($(now_ms) - t0)) -lt 8000 ] || fail "stopping took $(($(now_ms) - t0)) ms"
	wait_for 10 dead "$poller"
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/poll")" 200
	assert_equal "$(head -n 1 "$BATS_TEST_TMPDIR/poll" | jq -c .messages)" '[]'
	grep -q 'stopping' "$SERVE_LOG"
	touch "$BATS_TEST_TMPDIR/stop"
	wait_for 20 dead "$senders"
	# Every send that was answered 201 is in the queue.
	jq -r .id "$BATS_TEST_TMPDIR/sent" | LC_ALL=C sort >"$BATS_TEST_TMPDIR/accepted"
	ready_ids q2 >"$BATS_TEST_TMPDIR/stored"
	run comm -23 "$BATS_TEST_TMPDIR/accepted" "$BATS_TEST_TMPDIR/stored"
	assert_output ""
	n=$(wc -l <"$BATS_TEST_TMPDIR/accepted")
	# Started again, it serves them all.
	serve_start
	api POST '/v1/queues/q2/receive?max=100'
	assert_http 200
	got=$(jq '.messages | length' <<<"$HTTP_BODY")
	[ "$got" -ge "$n" ] || [ "$got" -eq 100 ] || fail "$got of $n"
}

@test "SIGTERM: a long-poll woken by a message at the stop keeps its message (delivered or released)" {
	serve_start
	bg "$BATS_TEST_TMPDIR/poll" curl -sS -X POST -w '\n%{http_code}' \
		"$SERVE_URL/v1/queues/q/receive?wait=20&visibility=3600"
	wait_for 10 long_polls 1
	wq-send q late >/dev/null
	serve_stop TERM
	assert_equal "$SERVE_STATUS" 0
	wait_for 10 dead "$BG_PID"
	# Either the client has it (leased), or it is ready again: never
	# leased to nobody for the hour.
	if grep -q '"body":"late"' "$BATS_TEST_TMPDIR/poll"; then
		assert_stat q 0 0 1
	else
		assert_stat q 1 0 0
	fi
}

@test "kill -9 with parked long-polls: restarted, the server serves every message within the visibility" {
	wq-create --visibility 2 q3
	serve_start
	ids=()
	for i in 1 2 3; do
		api POST /v1/queues/q3/messages --data-binary "m$i"
		assert_http 201
		ids+=("$(jq -r .id <<<"$HTTP_BODY")")
	done
	# Leased and never acked, then two receives parked on the empty queue.
	api POST '/v1/queues/q3/receive?max=3'
	assert_equal "$(jq '.messages | length' <<<"$HTTP_BODY")" 3
	leased=$(now_ms)
	bg "$BATS_TEST_TMPDIR/p1" curl -sS -X POST "$SERVE_URL/v1/queues/q3/receive?wait=20"
	p1=$BG_PID
	bg "$BATS_TEST_TMPDIR/p2" curl -sS -X POST "$SERVE_URL/v1/queues/q3/receive?wait=20"
	p2=$BG_PID
	wait_for 10 long_polls 2
	serve_stop KILL
	assert_equal "$SERVE_STATUS" $((128 + 9))
	wait_for 10 dead "$p1"
	wait_for 10 dead "$p2"
	# One more, sent while no server runs.
	ids+=("$(wq-send q3 m4)")
	serve_start
	got=()
	collect() {
		local r
		api POST '/v1/queues/q3/receive?max=10&wait=1&visibility=60' -m 10
		for r in $(jq -r '.messages[] | "\(.id)"' <<<"$HTTP_BODY"); do
			got+=("$r")
		done
		[ "${#got[@]}" -ge 4 ]
	}
	wait_for 15 collect
	# No lease outlived its 2 s by much.
	[ $(($(now_ms) - leased)) -lt 10000 ] ||
		fail "leases came back after $(($(now_ms) - leased)) ms"
	assert_equal "$(printf '%s\n' "${got[@]}" | LC_ALL=C sort)" \
		"$(printf '%s\n' "${ids[@]}" | LC_ALL=C sort)"
	assert_stat q3 0 0 4
}
