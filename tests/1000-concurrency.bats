#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Concurrency (SPEC promises 2 and 3): many producers and consumers on one
# queue never corrupt it, and a lease is held by one consumer at a time, so
# with leases long enough never to expire every message is delivered
# exactly once.
#
# The queues use --sync none: these tests are about processes racing on
# renames, not about power cuts, and a process crash loses nothing under
# any sync mode, so the fsyncs would only make the tests slow.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	D="$BATS_TEST_TMPDIR/run"
	mkdir -p "$D"
	PATH="$BATS_TEST_DIRNAME/tools:$PATH"
	PRODUCERS=()
}

# inputs NPROD PER: write $D/in.P (P = 1..NPROD), PER lines each, body
# "m-P-SEQ".
inputs() {
	local p
	for ((p = 1; p <= $1; p++)); do
		awk -v p="$p" -v n="$2" \
			'BEGIN { for (i = 0; i < n; i++) printf "m-%d-%d\n", p, i }' \
			>"$D/in.$p"
	done
}

# produce NPROD: start one `wq-send -l q` per input file, ids in $D/ids.P.
produce() {
	local p
	for ((p = 1; p <= $1; p++)); do
		wq-send -l q <"$D/in.$p" >"$D/ids.$p" 2>"$D/ids.$p.err" 3>&- &
		PRODUCERS+=("$!")
		BG_PIDS+=("$!")
	done
}

# producers_done NPROD PER: every producer exited 0 and printed PER ids.
producers_done() {
	local p pid status
	for ((p = 1; p <= $1; p++)); do
		pid=${PRODUCERS[p - 1]}
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 0 ] ||
			fail "producer $p exited $status: $(cat "$D/ids.$p.err")"
		[ "$(wc -l <"$D/ids.$p")" -eq "$2" ] ||
			fail "producer $p printed $(wc -l <"$D/ids.$p") ids, not $2"
	done
	if grep -vhE "$ID_RE" "$D"/ids.[0-9]* | head -n 3 | grep .; then
		fail "malformed ids"
	fi
}

# expected NPROD: "ID<TAB>BODY" for every message sent, sorted; wq-send -l
# prints the ids in the order of the input lines.
expected() {
	local p
	for ((p = 1; p <= $1; p++)); do
		paste "$D/ids.$p" "$D/in.$p"
	done | LC_ALL=C sort
}

# stop_consumers PID...: SIGTERM, then reap (only once the queue is empty,
# so no message is in flight).
stop_consumers() {
	local pid
	for pid in "$@"; do
		kill "$pid"
	done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null || true
	done
}

# assert_nothing_quarantined: corrupt/ is absent or empty.  Every message
# here is well formed, so one moved to corrupt/ is a lost message.
assert_nothing_quarantined() {
	[ "$(nfiles "$(qdir q)/corrupt")" -eq 0 ] ||
		fail "$(nfiles "$(qdir q)/corrupt") well-formed messages quarantined in corrupt/ (lost), e.g. $(ls "$(qdir q)/corrupt" | head -n 1)"
}

# assert_spool_empty: no message file anywhere, nothing quarantined.
assert_spool_empty() {
	local d
	[ "$(nready q)" -eq 0 ] ||
		fail "new/ holds messages: $(find "$(qdir q)/new" ! -type d | head -5)"
	for d in cur tmp; do
		[ "$(nfiles "$(qdir q)/$d")" -eq 0 ] ||
			fail "$d/ is not empty: $(ls "$(qdir q)/$d" | head -5)"
	done
	[ "$(nfiles "$(qdir q)/corrupt")" -eq 0 ] ||
		fail "messages quarantined in corrupt/: $(ls "$(qdir q)/corrupt" | head -5)"
}

@test "4 producers, 4 pop consumers, 20000 messages: each delivered exactly once" {
	local n=4 per=5000 c consumers=()
	wq-create --sync none q
	inputs "$n" "$per"
	for ((c = 1; c <= 4; c++)); do
		bg "$D/recv.$c" wq-recv -f --json -v 600 q
		consumers+=("$BG_PID")
	done
	produce "$n"
	producers_done "$n" "$per"
	wait_for 50 stat_is q total 0
	# Pop mode prints and flushes before it acks: total 0 means every
	# message is in the outputs.
	stop_consumers "${consumers[@]}"
	for ((c = 1; c <= 4; c++)); do
		[ ! -s "$D/recv.$c.err" ] || fail "consumer $c: $(cat "$D/recv.$c.err")"
		# Every consumer took part (the race is real).
		[ -s "$D/recv.$c" ] || echo "# consumer $c got no message" >&3
	done
	assert_nothing_quarantined
	expected "$n" >"$D/want"
	jq -r '[.id, .body] | @tsv' "$D"/recv.[0-9] | LC_ALL=C sort >"$D/got"
	# Same lines: every id exactly once (no id twice, none missing), each
	# with the body it was sent with.
	diff -u "$D/want" "$D/got" | head -n 20 >"$D/diff" || true
	[ ! -s "$D/diff" ] || fail "delivered != sent:$(printf '\n')$(cat "$D/diff")"
	[ "$(wc -l <"$D/got")" -eq $((n * per)) ]
	# No lease expired, so nothing was claimed twice.
	[ -z "$(jq -c 'select(.receive_count != 1)' "$D"/recv.[0-9] | head -n 3)" ]
	assert_spool_empty
	assert_stat q 0 0 0
}

@test "4 producers, 4 exec consumers with -j 2: each message handled exactly once" {
	# Exec mode forks a command per message (about 10-20 ms each on a
	# small VM), so fewer messages here.
	local n=4 per=200 c consumers=()
	wq-create --sync none q
	inputs "$n" "$per"
	mkdir "$D/x"
	# Each run writes the body to x/ID.PID: a second run for one id would
	# leave a second file.  Shell builtins only, to save a fork per run.
	for ((c = 1; c <= 4; c++)); do
		bg "$D/exec.$c" wq-recv -f -j 2 -v 600 q -- \
			sh -c 'IFS= read -r b || [ -n "$b" ] || exit 1
			printf %s "$b" >"$0/$WQ_ID.$$"' "$D/x"
		consumers+=("$BG_PID")
	done
	produce "$n"
	producers_done "$n" "$per"
	wait_for 50 stat_is q total 0
	# A command's message is acked after it exited 0: total 0 means every
	# file in x/ is complete.
	stop_consumers "${consumers[@]}"
	for ((c = 1; c <= 4; c++)); do
		[ ! -s "$D/exec.$c.err" ] || fail "consumer $c: $(cat "$D/exec.$c.err")"
	done
	assert_nothing_quarantined
	expected "$n" >"$D/want"
	find "$D/x" -type f -print0 |
		xargs -0 awk 'FNR == 1 {
			id = FILENAME; sub(/.*\//, "", id); sub(/\.[0-9]+$/, "", id)
			print id "\t" $0 }' |
		LC_ALL=C sort >"$D/got"
	diff -u "$D/want" "$D/got" | head -n 20 >"$D/diff" || true
	[ ! -s "$D/diff" ] || fail "handled != sent:$(printf '\n')$(cat "$D/diff")"
	[ "$(nfiles "$D/x")" -eq $((n * per)) ]
	assert_spool_empty
	assert_stat q 0 0 0
}
