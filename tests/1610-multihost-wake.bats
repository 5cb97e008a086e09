#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Cross-host wake bounds (issue 7): a message sent from host A reaches a
# consumer already waiting on host B within the documented bound, on a real
# GlusterFS volume mounted by two "hosts" (tests/sharedfs/gluster.sh: two
# FUSE clients with independent caches, each in its own network namespace).
# inotify on B never sees A's writes, so B polls (lib/wait.c).
#
# The bound.  wq-recv(1), wq-serve(1), wq(7): a waiting consumer sees a
# message sent from another host within 1 s (the longest polling interval,
# WQ_POLL_MAX_MS in lib/consumer.h) plus the file system's attribute-cache
# time (1 s for GlusterFS's FUSE client by default: attribute-timeout,
# entry-timeout and md-cache).  Measured (bench/README.md, "Two hosts"):
# 0.26 s median, 0.9 s at most over 50 sends; the cache adds nothing
# measurable, as consumers there list directories afresh, so the 1 s
# polling interval is the whole of it.  The tests allow 2 s plus 2 s of slack
# for a loaded two-core machine (process start-up of the host.sh wrapper,
# gluster round trips, the 50 ms polling of wait_for): WAKE_BOUND = 4 s,
# counted from the moment wq-send on A was started (so the send itself,
# about 0.1-0.2 s through host.sh, counts against it too).  A consumer that does not
# poll (inotify only) never wakes, and fails at that deadline.
#
# Every test first waits until the consumer is in its wait (the poll
# syscall, or wq-serve's gauges), then lets 1.5-2.4 s pass so that the
# backoff (10, 20, ... 640 ms: 1.27 s in all) reaches its 1 s maximum:
# that idle time is the scenario, not a synchronisation.  Receipt is always waited
# for with a deadline (wait_for).
#
# Needs root, glusterd, FUSE and network namespaces; skipped otherwise.
# The instance has names of its own (SFS_NS, SFS_NET, SFS_ROOT; override
# them to run beside another instance), brought up once for the file and
# torn down afterwards.

bats_require_minimum_version 1.5.0
load helpers
load serve
load gluster

: "${SFS_NS:=sfsw}" "${SFS_NET:=10.205.0}" "${SFS_ROOT:=/tmp/sharedfs-wake}"
export SFS_NS SFS_NET SFS_ROOT
KIT=$GLUSTER_KIT
WAKE_BOUND=4	# s: 1 s polling + 1 s attribute cache + 2 s slack

# idle: let 1.5 to 2.4 s pass.  After 1.27 s the backoff is at its 1 s
# maximum; the random part puts the send anywhere in a polling interval
# (with a fixed pause every run would send at the same point of it).
idle() {
	local ms=$((1500 + RANDOM % 1000))
	IDLED=$((ms / 1000)).$(printf %03d $((ms % 1000)))
	sleep "$IDLED"
}

setup() {
	gluster_skip
	common_setup
	SA="$SFS_ROOT/a/spool"	# the spool as host A mounts it
	SB="$SFS_ROOT/b/spool"	# ... and as host B does
	D="$BATS_TEST_TMPDIR/run"
	mkdir -p "$D"
	# each test its own queue, so that nothing carries over
	Q="q$BATS_TEST_NUMBER"
	on a wq-create -p -d "$SA" "$Q"
}

teardown() {
	common_teardown
}

# on a|b CMD...: run CMD as host A or B.
on() {
	"$KIT/host.sh" "$@"
}

# on_bg a|b NAME CMD...: start CMD as host A or B in the background, its
# stdout in $D/NAME (stderr in $D/NAME.err); the pid of CMD itself (not of
# the host.sh wrapper) is in PID and killed in teardown.
on_bg() {
	local h=$1 name=$2
	shift 2
	rm -f "$D/$name.pid"
	# shellcheck disable=SC2016  # expanded by that shell
	bg "$D/$name" "$KIT/host.sh" "$h" sh -c 'echo $$ >"$0"; exec "$@"' \
		"$D/$name.pid" "$@"
	wait_for 10 test -s "$D/$name.pid"
	PID=$(<"$D/$name.pid")
	BG_PIDS=("$PID" "${BG_PIDS[@]}")
}

# polling PID: PID sleeps in ppoll(2) on no descriptor at all, that is,
# in the timed wait of a poller (an inotify waiter passes its descriptor).
# /proc/PID/syscall: number (271: ppoll on x86-64), then the arguments.
polling() {
	local nr fds
	read -r nr _ fds _ <"/proc/$1/syscall" 2>/dev/null || return 1
	[ "$nr" = 271 ] && [ "$fds" = 0x0 ]
}

# inotify_fds PID: the number of inotify descriptors PID holds.
inotify_fds() {
	find "/proc/$1/fd" -mindepth 1 -lname 'anon_inode:inotify' 2>/dev/null | wc -l
}

# watching PID: PID holds an inotify descriptor.
watching() {
	[ "$(inotify_fds "$1")" -ge 1 ]
}

# total_on_a QUEUE N: wq-stat on host A counts N messages in QUEUE.
total_on_a() {
	[ "$(on a env WQ_DIR="$SA" wq-stat --json "$1" |
		jq -rs '[.[] | .. | objects | select(has("total"))][0].total')" = "$2" ]
}

# send_from_a QUEUE BODY: send BODY from host A; its id in SENT_ID;
# SEND_MS the time wq-send was started, SENT_MS the time it had exited
# (host.sh included: the message is in place somewhat before).
send_from_a() {
	SEND_MS=$(now_ms)
	SENT_ID=$(on a wq-send -d "$SA" "$1" "$2") || fail "wq-send on A failed"
	SENT_MS=$(now_ms)
}

# expect_wake WHAT COMMAND...: COMMAND succeeds within WAKE_BOUND of the
# start of the send (SEND_MS: stricter than from its end); report the
# time it took on the TAP stream.
expect_wake() {
	local what=$1 deadline=$((SEND_MS + WAKE_BOUND * 1000)) took
	shift
	until "$@"; do
		if (($(now_ms) >= deadline)); then
			fail "$what: not received within ${WAKE_BOUND}s of the send from host A"
		fi
		sleep 0.05
	done
	took=$(($(now_ms) - SEND_MS))
	echo "# $what: on B $took ms after the send on A began (it took $((SENT_MS - SEND_MS)) ms; idle ${IDLED:-?} s before; bound ${WAKE_BOUND}s)" >&3
}

# serve_on_b: wq-serve as host B, on B's own 127.0.0.1; SERVE_PORT set.
serve_on_b() {
	on_bg b serve wq-serve -d "$SB" -l 127.0.0.1:0 --port-file "$D/port"
	SERVE_PID=$PID
	wait_for 10 test -s "$D/port" || fail "wq-serve on B did not start: $(cat "$D/serve.err")"
	SERVE_PORT=$(<"$D/port")
}

# gauge NAME VALUE: wq-serve's /metrics, read on B, has NAME at VALUE.
gauge() {
	on b curl -fsS "http://127.0.0.1:$SERVE_PORT/metrics" 2>/dev/null |
		grep -qx "$1 $2"
}

@test "statfs: on the FUSE mount wq-recv -w polls (no inotify), on a local disk it does not" {
	on_bg b recv wq-recv -d "$SB" -w 30 "$Q"
	wait_for 10 polling "$PID" || fail "wq-recv on B is not in a poller's wait: $(cat "/proc/$PID/syscall")"
	[ "$(inotify_fds "$PID")" -eq 0 ] || fail "wq-recv on the FUSE mount holds an inotify descriptor"
	kill "$PID"

	# The control: the same command on a local spool sleeps on inotify.
	wq-create local
	on_bg b local wq-recv -w 30 local
	wait_for 10 watching "$PID" ||
		fail "wq-recv on a local spool holds no inotify descriptor"
	run ! polling "$PID"
}

@test "wq-recv -w 30 on host B wakes for a message sent from host A" {
	on_bg b recv wq-recv -d "$SB" -w 30 "$Q"
	wait_for 10 polling "$PID"
	idle
	alive "$PID" || fail "wq-recv on B gave up: $(cat "$D/recv.err")"
	send_from_a "$Q" "hello from A"
	expect_wake "wq-recv -w" grep -qx "hello from A" "$D/recv"
	wait_for 10 dead "$PID"
	[ ! -s "$D/recv.err" ] || fail "wq-recv on B: $(cat "$D/recv.err")"
}

@test "wq-recv -f (exec mode) on host B wakes for each message sent from host A" {
	mkdir "$D/got"
	# shellcheck disable=SC2016  # expanded by the command wq-recv runs
	on_bg b follow wq-recv -d "$SB" -f "$Q" -- sh -c 'cat >"$0/.$WQ_ID" && mv "$0/.$WQ_ID" "$0/$WQ_ID"' "$D/got"
	wait_for 10 polling "$PID"
	local i
	for i in 1 2; do
		# after each message the backoff starts again from 10 ms
		idle
		send_from_a "$Q" "job $i"
		expect_wake "wq-recv -f, message $i" test -e "$D/got/$SENT_ID"
		assert_equal "$(cat "$D/got/$SENT_ID")" "job $i"
	done
	alive "$PID" || fail "wq-recv -f on B exited: $(cat "$D/follow.err")"
	[ ! -s "$D/follow.err" ] || fail "wq-recv -f on B: $(cat "$D/follow.err")"
	# everything acked: nothing left in the queue, as host A sees it
	wait_for 10 total_on_a "$Q" 0
}

@test "wq-serve on host B: a long-poll receive wakes for a message sent from host A" {
	serve_on_b
	on_bg b poll curl -sS -X POST "http://127.0.0.1:$SERVE_PORT/v1/queues/$Q/receive?wait=20"
	wait_for 10 gauge wq_serve_long_polls 1 || fail "the long-poll did not park"
	# (no request to wq-serve meanwhile: that could end the backoff)
	idle
	send_from_a "$Q" "long-poll body"
	# shellcheck disable=SC2016  # $id is jq's
	expect_wake "long-poll" jq -e --arg id "$SENT_ID" \
		'.messages[0].id == $id and .messages[0].body == "long-poll body"' "$D/poll"
}

@test "wq-serve on host B: the event stream delivers a message sent from host A" {
	serve_on_b
	on_bg b stream curl -sS -N "http://127.0.0.1:$SERVE_PORT/v1/queues/$Q/stream"
	wait_for 10 gauge wq_serve_stream_clients 1 || fail "the stream did not connect"
	wait_for 10 grep -q '^retry: ' "$D/stream"
	idle
	send_from_a "$Q" "stream body"
	expect_wake "event stream" grep -qF "\"body\":\"stream body\"" "$D/stream"
	grep -qx "id: $SENT_ID" "$D/stream"
}

@test "a queue deleted from host A under wq-recv -w on host B: no message (exit 1), as on a local disk, not ESTALE" {
	# shellcheck disable=SC2016  # expanded by that shell
	on_bg b recv sh -c 'wq-recv -d "$0" -w 4 "$1"; echo "exit $?"' "$SB" "$Q"
	local r
	wait_for 10 pgrep -P "$PID" -x wq-recv >/dev/null
	r=$(pgrep -P "$PID" -x wq-recv)
	wait_for 10 polling "$r"
	on a wq-rm -d "$SA" "$Q"
	wait_for 10 grep -q '^exit ' "$D/recv"
	assert_equal "$(cat "$D/recv")" "exit 1"
	[ ! -s "$D/recv.err" ] || fail "wq-recv on B: $(cat "$D/recv.err")"
}
