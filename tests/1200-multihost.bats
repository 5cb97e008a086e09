#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Several hosts on one spool (SPEC promise 3): message names include the
# host, so processes on different hosts never collide, even with the same
# pid.  "Hosts" are UTS and PID namespaces (tests/tools/wq-as-host): each
# sender runs as pid 1 with its own host name.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	D="$BATS_TEST_TMPDIR/run"
	mkdir -p "$D"
	PATH="$BATS_TEST_DIRNAME/tools:$PATH"
	if ! unshare --uts --pid --fork --mount-proc true 2>/dev/null; then
		skip "unshare --uts --pid --fork --mount-proc is not permitted here (needs root)"
	fi
}

# two_hosts NAME1 NAME2 PER: from "hosts" NAME1 and NAME2 at once, send PER
# messages each with wq-send -l (bodies "H-SEQ", H = 1 or 2); the ids are
# in $D/ids.H, the bodies in $D/in.H.
two_hosts() {
	local per=$3 h pids=() status
	for h in 1 2; do
		awk -v h="$h" -v n="$per" \
			'BEGIN { for (i = 0; i < n; i++) printf "%d-%d\n", h, i }' \
			>"$D/in.$h"
	done
	wq-as-host "$1" wq-send -l q <"$D/in.1" >"$D/ids.1" 2>"$D/err.1" 3>&- &
	pids+=("$!")
	wq-as-host "$2" wq-send -l q <"$D/in.2" >"$D/ids.2" 2>"$D/err.2" 3>&- &
	pids+=("$!")
	BG_PIDS+=("${pids[@]}")
	for h in 1 2; do
		status=0
		wait "${pids[h - 1]}" || status=$?
		[ "$status" -eq 0 ] || fail "sender $h exited $status: $(cat "$D/err.$h")"
		[ "$(wc -l <"$D/ids.$h")" -eq "$per" ] ||
			fail "sender $h printed $(wc -l <"$D/ids.$h") ids, not $per"
	done
}

# assert_ids H HOST: every id in $D/ids.H is well formed, has pid 1 (the
# namespace's) and host field HOST.
assert_ids() {
	local bad
	bad=$(grep -vE "$ID_RE" "$D/ids.$1" | head -n 3)
	[ -z "$bad" ] || fail "malformed ids from host $1: $bad"
	bad=$(awk -F . -v host="$2" '{
			h = $0
			for (i = 0; i < 4; i++)
				h = substr(h, index(h, ".") + 1)
		}
		$2 != "1" || h != host' "$D/ids.$1" | head -n 3)
	[ -z "$bad" ] || fail "ids of host $1 not of the form T.1.SEQ.R.$2: $bad"
}

# assert_all_receivable N: all N messages are in the queue, distinct, and
# each is received once with its own body.
assert_all_receivable() {
	local n=$1
	[ -z "$(cat "$D/ids.1" "$D/ids.2" | LC_ALL=C sort | uniq -d | head -n 3)" ] ||
		fail "duplicate ids: $(cat "$D/ids.1" "$D/ids.2" | LC_ALL=C sort | uniq -d | head -n 3)"
	[ "$(nready q)" -eq "$n" ]
	stat_is q ready "$n"
	bg "$D/recv" wq-recv -f --json -v 600 q
	wait_for 60 stat_is q total 0
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	[ "$(nfiles "$(qdir q)/corrupt")" -eq 0 ] ||
		fail "$(nfiles "$(qdir q)/corrupt") messages quarantined in corrupt/"
	{
		paste "$D/ids.1" "$D/in.1"
		paste "$D/ids.2" "$D/in.2"
	} | LC_ALL=C sort >"$D/want"
	jq -r '[.id, .body] | @tsv' "$D/recv" | LC_ALL=C sort >"$D/got"
	diff -u "$D/want" "$D/got" | head -n 20 >"$D/diff" || true
	[ ! -s "$D/diff" ] || fail "received != sent:$(printf '\n')$(cat "$D/diff")"
}

@test "two hosts with the same pid, 2000 messages each at once: no collision" {
	wq-create --sync none q
	two_hosts 'a.b_c!' 'host-B.example' 2000
	# Host names are sanitised: every byte outside [A-Za-z0-9-] becomes _.
	assert_ids 1 'a_b_c_'
	assert_ids 2 'host-B_example'
	assert_all_receivable 4000
}

@test "two hosts with the same pid and the same name: time and randomness keep ids apart" {
	wq-create --sync none q
	two_hosts 'twin' 'twin' 2000
	assert_ids 1 twin
	assert_ids 2 twin
	assert_all_receivable 4000
}

@test "host names with odd bytes are sanitised to [A-Za-z0-9_-], at most 64 bytes" {
	wq-create --sync none q
	local name want id long
	long=$(printf 'x%.0s' $(seq 1 63))
	while IFS=$'\t' read -r name want; do
		name=$(printf %b "$name")
		id=$(wq-as-host "$name" wq-send q hello)
		[[ $id =~ $ID_RE ]] || fail "bad id '$id' from host '$name'"
		[ "${id#*.*.*.*.}" = "$want" ] ||
			fail "host '$name': id $id, want host field $want"
	done <<EOF
a.b_c!	a_b_c_
h\\303\\251 x	h___x
UPPER-lower-09	UPPER-lower-09
${long}.	${long}_
EOF
	[ "$(nready q)" -eq 4 ]
}
