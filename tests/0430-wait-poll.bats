#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Blocking reads without busy loops: inotify on local file systems, polling
# with a backoff where inotify cannot see other hosts (forced by WQ_POLL=1).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
}

teardown() {
	common_teardown
}

# slept_at_least N FILE: FILE (an strace log) shows N ppoll calls or more.
slept_at_least() {
	[ "$(grep -c ppoll "$2" 2>/dev/null)" -ge "$1" ]
}

# waiter_syscalls FILE: the number of wait syscalls a traced wq-recv made.
waiter_syscalls() {
	grep -cE '^[0-9]+ +(ppoll|poll|select|pselect6|nanosleep|clock_nanosleep)\(' "$1"
}

@test "inotify: a waiting wq-recv sleeps in one wait until the message comes" {
	command -v strace >/dev/null || skip "strace is not installed"
	bg "$BATS_TEST_TMPDIR/out" strace -f -o "$BATS_TEST_TMPDIR/trace" \
		-e trace=ppoll,poll,select,pselect6,nanosleep,clock_nanosleep \
		wq-recv -w 20 -l q
	wait_for 10 grep -q 'ppoll(\[{fd=' "$BATS_TEST_TMPDIR/trace"
	wq-send -q q hello
	wait_for 10 grep -qx hello "$BATS_TEST_TMPDIR/out"
	wait_for 10 dead "$BG_PID"
	# One wait on the inotify fd, woken by the arrival: no polling.
	run waiter_syscalls "$BATS_TEST_TMPDIR/trace"
	assert [ "$output" -le 2 ]
}

@test "WQ_POLL=1: a waiting wq-recv polls with a backoff and gets the message" {
	command -v strace >/dev/null || skip "strace is not installed"
	WQ_POLL=1 bg "$BATS_TEST_TMPDIR/out" strace -f \
		-o "$BATS_TEST_TMPDIR/trace" -e trace=ppoll,inotify_init1 \
		wq-recv -w 20 -l q
	# Let the backoff grow: wait until the poller has slept several times.
	wait_for 10 slept_at_least 6 "$BATS_TEST_TMPDIR/trace"
	wq-send -q q hello
	wait_for 10 grep -qx hello "$BATS_TEST_TMPDIR/out"
	wait_for 10 dead "$BG_PID"
	run -1 grep -q inotify_init1 "$BATS_TEST_TMPDIR/trace"
	# The intervals grow from 10 ms: the last sleep asked for far longer
	# than the first (no fixed-rate busy polling).
	first=$(grep -m1 -o 'tv_nsec=[0-9]*' "$BATS_TEST_TMPDIR/trace" | cut -d= -f2)
	last=$(grep 'ppoll' "$BATS_TEST_TMPDIR/trace" | tail -n 1 |
		sed -E 's/.*tv_sec=([0-9]+), tv_nsec=([0-9]+).*/\1 \2/' |
		awk '{ print $1 * 1000000000 + $2 }')
	assert [ "$last" -ge $((first * 8)) ]
}

@test "WQ_POLL=1: -w SECS still times out with exit 1" {
	WQ_POLL=1 run -1 wq-recv -w 1 q
	assert_output ""
}

@test "a waiter wakes for a message released with a delay once it is due" {
	wq-send -q q once
	receipt=$(wq-recv -L q | head -n 1)
	wq-ack --release --delay 1 q "$receipt"
	assert_stat q 0 1 0
	run -0 wq-recv -w 10 -l q
	assert_output "once"
}
