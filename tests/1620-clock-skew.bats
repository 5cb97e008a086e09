#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Clock skew between hosts (wq(5) "Clocks"): every host that sends to or
# claims from a queue on a shared filesystem leaves a clock probe in its
# clock/; wq-stat compares the hosts' clocks and warns when they differ by
# more than the queue's --clock-skew; a lease judged by a host whose clock
# runs ahead is still held for its whole term within that bound.
#
# "Hosts" are UTS namespaces (tests/tools/wq-as-host); WQ_POLL=1 makes a
# local filesystem count as shared; a skewed host runs the dynamically
# linked commands (build/dyn) under libfaketime, which shifts the process
# clock but not the file times the kernel stamps, as a file server would.

bats_require_minimum_version 1.5.0
load helpers

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

setup() {
	common_setup
	PATH="$BATS_TEST_DIRNAME/tools:$PATH"
	DYN="$BUILD_DIR/dyn"
	if [ ! -e "$FAKETIME_LIB" ]; then
		[ -z "${CI-}" ] || fail "libfaketime is missing in CI (.ci/run installs it)"
		skip "libfaketime is not installed"
	fi
	[ -x "$DYN/wq-send" ] || fail "dynamic commands not built: make build/dyn/wq-send ..."
	if ! unshare --uts --pid --fork --mount-proc true 2>/dev/null; then
		skip "unshare --uts --pid --fork --mount-proc is not permitted here (needs root)"
	fi
	export WQ_POLL=1
}

# on HOST SKEW CMD [ARG...]: run the wq command CMD as host HOST with its
# clock SKEW seconds off (e.g. +3, -2.5, 0).
on() {
	local host=$1 skew=$2 cmd=$3
	shift 3
	# In a sanitizer build libfaketime comes before ASan's runtime, which
	# ASan accepts only when told so.
	wq-as-host "$host" env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$skew" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$DYN/$cmd" "$@"
}

# claim_as HOST SKEW: one wq-recv of q as HOST; what it got in $BATS_TEST_TMPDIR/got.
claim_as() {
	on "$1" "$2" wq-recv q >"$BATS_TEST_TMPDIR/got" 2>/dev/null
}

# reclaim_by_beta SKEW: send one message to q, lease it as alpha (clock
# right), then claim as beta (clock SKEW off) until beta gets it; TAKEN_MS
# is how long after the send that was.
reclaim_by_beta() {
	local start
	wq-send q only
	start=$(now_ms)
	run -0 on alpha +0 wq-recv -L q
	wait_for 30 claim_as beta "$1" || fail "never reclaimed"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" only
	TAKEN_MS=$(( $(now_ms) - start ))
}

# probes QUEUE: the names in QUEUE's clock/, one per line.
probes() {
	find "$WQ_DIR/$1/clock" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
}

@test "a send or a claim on a shared filesystem leaves one probe per host; a local one none" {
	wq-create q
	run -0 env -u WQ_POLL wq-send q local
	assert_file_not_exists "$WQ_DIR/q/clock"
	run -0 on alpha +0 wq-send q one
	run -0 on alpha +0 wq-send q two
	run -0 on beta +0 wq-recv q
	run -0 probes q
	assert_equal "${#lines[@]}" 2
	assert_line --regexp '^alpha,[0-9]{13}$'
	assert_line --regexp '^beta,[0-9]{13}$'
	# The probe holds the host's clock in its name, the server's in its
	# ctime (set by the rename into place): within the time a rename takes.
	f=$(find "$WQ_DIR/q/clock" -name 'alpha,*')
	name_ms=${f##*,}
	ctime_ms=$(stat -c %.3Z "$f" | tr -d .)
	(( ctime_ms - name_ms < 500 && name_ms - ctime_ms < 500 )) ||
		fail "probe $name_ms, ctime $ctime_ms"
	run -0 wq-fsck -n q
}

@test "a probe a minute old is replaced by a new file, never rewritten; a clock set back too" {
	wq-create q
	run -0 on alpha +0 wq-send q one
	old=$(probes q)
	ino=$(stat -c %i "$WQ_DIR/q/clock/$old")
	run -0 on alpha +61 wq-send q two
	run -0 probes q
	assert_equal "${#lines[@]}" 1
	[ "$output" != "$old" ] || fail "the probe was not refreshed"
	[ "$(stat -c %i "$WQ_DIR/q/clock/$output")" != "$ino" ] || fail "rewritten in place"
	# The clock went back: the probe from "the future" is replaced too.
	run -0 on alpha -120 wq-send q three
	run -0 probes q
	assert_equal "${#lines[@]}" 1
	(( ${output#alpha,} < ${old#alpha,} )) || fail "$output is not from the earlier clock"
}

@test "wq-stat warns when two hosts' clocks differ by more than clock-skew, not within it" {
	wq-create --clock-skew 1 q
	run -0 on alpha +0 wq-send q one
	run -0 on beta +3 wq-send q two
	run -0 --separate-stderr wq-stat q
	assert_equal "${#stderr_lines[@]}" 1
	# 3 s, less the time a probe takes to write.
	[[ $stderr =~ ^"wq-stat: q: warning: the clocks of its hosts differ by "(2\.9|3\.0)" s, more than its clock-skew of 1 s (alpha -1."[45]" s, beta +1."[45]" s, from their median); leases may be taken too early"$ ]] ||
		fail "$stderr"
	# JSON: each host's offset from the file server's clock.
	run -0 --separate-stderr wq-stat --json q
	beta=$(jq '.[0].hosts[] | select(.host == "beta") | .offset_ms' <<<"$output")
	alpha=$(jq '.[0].hosts[] | select(.host == "alpha") | .offset_ms' <<<"$output")
	(( beta - alpha > 2500 && beta - alpha < 3500 )) || fail "alpha $alpha, beta $beta"
	run -0 --separate-stderr wq-stat --prom q
	assert_line --regexp '^wq_host_clock_offset_seconds\{queue="q",host="beta"\} (2\.9|3\.0)[0-9]{2}$'
	# A monitoring plugin: WARNING whatever the counts, unless worse.
	run -1 wq-stat --warn 'ready>100' q
	[[ $output =~ ^"WQ WARNING - q clocks differ by "(2\.9|3\.0)" s (clock-skew 1 s) | ready_q=2;100 " ]] ||
		fail "$output"
	run -2 wq-stat --crit 'ready>1' q
	[[ $output == "WQ CRITICAL - q ready=2 (ready>1), q clocks differ by "* ]] ||
		fail "$output"
	# Within the bound: no warning.
	run -0 wq-create -u --clock-skew 4 q
	run -0 --separate-stderr wq-stat q
	assert_equal "$stderr" ""
	run -0 wq-stat --warn 'ready>100' q
	assert_output --partial "WQ OK - 1 queue |"
	# One host alone never disagrees.
	wq-create --clock-skew 1 solo
	run -0 on beta +3 wq-send solo one
	run -0 --separate-stderr wq-stat solo
	assert_equal "$stderr" ""
}

@test "within the clock-skew bound a host whose clock runs ahead does not take a lease early" {
	# visibility 4, clock-skew 2: beta, 1.5 s ahead, sees alpha's deadline
	# 1.5 s early but adds the 2 s bound, so it waits past the deadline.
	wq-create --visibility 4 --clock-skew 2 q
	reclaim_by_beta +1.5
	(( TAKEN_MS >= 4000 )) || fail "taken after $TAKEN_MS ms, lease 4000"
}

@test "beyond the bound a lease is taken early, and wq-stat says so" {
	# beta is 8 s ahead of alpha and the queue tolerates 1 s: beta takes
	# alpha's 10 s lease after about 3 s.  This is what the warning is for.
	wq-create --visibility 10 --clock-skew 1 q
	reclaim_by_beta +8
	(( TAKEN_MS < 10000 )) || fail "not early: $TAKEN_MS ms"
	run -0 --separate-stderr wq-stat q
	[[ $stderr =~ "differ by "(7\.9|8\.0)" s, more than its clock-skew of 1 s" ]] || fail "$stderr"
}
