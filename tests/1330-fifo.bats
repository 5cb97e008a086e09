#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# FIFO queues (wq-create --fifo, wq-send --group): strict order within a
# message group, at most one message of a group in flight, a released or
# expired message back in front of its group, and the options that do not
# apply to FIFO queues refused.  See lib/fifo.c.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create --fifo f
	D="$BATS_TEST_TMPDIR/d"
	mkdir -p "$D"
}

# bodies_json FILE: the bodies of the --json records in FILE, one a line.
bodies_json() {
	jq -r .body "$1"
}

# lease_all QUEUE: wq-recv -L -n 10 --json into $D/lease; sets STATUS.
lease_all() {
	STATUS=0
	wq-recv -L -n 10 --json "$1" >"$D/lease" 2>"$D/lease.err" || STATUS=$?
}

# receipt_of BODY: the receipt of the record with BODY in $D/lease.
receipt_of() {
	jq -r --arg b "$1" 'select(.body == $b) | .receipt' "$D/lease"
}

# group_in_order FILE GROUP N: the bodies of GROUP in FILE (lines "GROUP
# BODY") are exactly 1..N in order.
group_in_order() {
	local got want
	got=$(awk -v g="$2" '$1 == g { print $2 }' "$1")
	want=$(seq 1 "$3")
	[ "$got" = "$want" ] ||
		fail "group $2 out of order or incomplete: $(diff <(echo "$want") <(echo "$got") | head -n 10)"
}

@test "a FIFO queue delivers each group strictly in send order" {
	wq-create --fifo --sync none many
	local i
	# Interleave the groups' sends: a group's order is its own.
	for i in 0 1 2 3 4; do
		seq $((i * 20 + 1)) $((i * 20 + 20)) | wq-send -q -l --group a many
		seq $((i * 20 + 1)) $((i * 20 + 20)) | wq-send -q -l --group b many
	done
	run -0 wq-recv -n 300 --json many
	printf '%s\n' "$output" >"$D/out"
	assert_equal "$(wc -l <"$D/out")" 200
	jq -r '"\(.group) \(.body)"' "$D/out" >"$D/log"
	group_in_order "$D/log" a 100
	group_in_order "$D/log" b 100
	[ -z "$(jq -c 'select(.receive_count != 1)' "$D/out")" ]
	assert_stat many 0 0 0
	run -1 wq-recv many
}

@test "messages without --group are in the group \"default\", in order" {
	send f one >/dev/null
	send f two >/dev/null
	send --group default f three >/dev/null
	local g
	g=$(find "$(qdir f)/new" -mindepth 1 -maxdepth 1)
	assert_equal "$g" "$(qdir f)/new/default"
	run -0 wq-recv -n 10 --json f
	assert_equal "${#lines[@]}" 3
	assert_equal "$(jq -r .body <<<"$output" | paste -sd ' ')" "one two three"
	assert_equal "$(jq -r .group <<<"$output" | sort -u)" default
}

@test "lease mode hands out one message per group; a second consumer gets nothing from busy groups" {
	local i
	for i in 1 2 3; do send --group a f "a$i" >/dev/null; done
	for i in 1 2; do send --group b f "b$i" >/dev/null; done
	send f d1 >/dev/null
	send f d2 >/dev/null
	lease_all f
	assert_equal "$STATUS" 0
	assert_equal "$(bodies_json "$D/lease" | sort | paste -sd ' ')" "a1 b1 d1"
	assert_equal "$(jq -r .group "$D/lease" | sort | paste -sd ' ')" "a b default"
	assert_stat f 4 0 3
	# Every group is busy: a second consumer gets nothing, at once.
	run -1 --separate-stderr wq-recv -L -n 10 f
	assert_output ""
	# Another group proceeds while those are busy.
	send --group c f c1 >/dev/null
	send --group c f c2 >/dev/null
	run -0 wq-recv -L -n 10 --json f
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -r .body <<<"$output")" c1
	run -1 wq-recv -L -n 10 f
}

@test "after an ack the next message of the group comes" {
	local i
	for i in 1 2 3; do send --group a f "a$i" >/dev/null; done
	send --group b f b1 >/dev/null
	lease_all f
	assert_equal "$(bodies_json "$D/lease" | sort | paste -sd ' ')" "a1 b1"
	run -0 wq-ack f "$(receipt_of a1)"
	lease_all f
	assert_equal "$STATUS" 0
	assert_equal "$(bodies_json "$D/lease")" a2
	run -0 wq-ack f "$(receipt_of a2)"
	run -0 wq-recv -L -n 10 --json f
	assert_equal "$(jq -r .body <<<"$output")" a3
	assert_equal "$(jq -r .receive_count <<<"$output")" 1
}

@test "a released message comes again first, before the later ones of its group" {
	local i
	for i in 1 2 3; do send --group a f "a$i" >/dev/null; done
	lease_all f
	assert_equal "$(bodies_json "$D/lease")" a1
	run -0 wq-ack --release f "$(receipt_of a1)"
	lease_all f
	assert_equal "$STATUS" 0
	assert_equal "$(bodies_json "$D/lease")" a1
	assert_equal "$(jq -r .receive_count "$D/lease")" 2
	# Released again from the second lease: still in front.
	run -0 wq-ack --release f "$(receipt_of a1)"
	run -0 wq-recv -n 10 --json f
	assert_equal "$(jq -r .body <<<"$output" | paste -sd ' ')" "a1 a2 a3"
	assert_equal "$(jq -r .receive_count <<<"$output" | paste -sd ' ')" "3 1 1"
}

@test "release --delay holds the whole group for the delay; other groups proceed" {
	send --group a f a1 >/dev/null
	send --group a f a2 >/dev/null
	lease_all f
	assert_equal "$(bodies_json "$D/lease")" a1
	send --group b f b1 >/dev/null
	local t0 t1
	t0=$(now_ms)
	run -0 wq-ack --release --delay 2 f "$(receipt_of a1)"
	# Group a is held (neither a1 nor a2 is handed out); b is not.
	run -0 wq-recv -L -n 10 --json f
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -r .body <<<"$output")" b1
	run -1 wq-recv -n 10 f
	# Once the delay has passed, a1 comes first.
	run -0 wq-recv -w 10 --json f
	t1=$(now_ms)
	assert_equal "$(jq -r .body <<<"$output")" a1
	assert_equal "$(jq -r .receive_count <<<"$output")" 2
	((t1 - t0 >= 2000)) || fail "a1 came back after $((t1 - t0)) ms, before the 2 s delay"
	((t1 - t0 < 8000)) || fail "a1 came back only after $((t1 - t0)) ms"
	run -0 wq-recv --json f
	assert_equal "$(jq -r .body <<<"$output")" a2
}

@test "an expired lease returns the message to the front of its group" {
	send --group a f a1 >/dev/null
	send --group a f a2 >/dev/null
	local t0 t1
	t0=$(now_ms)
	run -0 wq-recv -L -v 1 --json f
	assert_equal "$(jq -r .body <<<"$output")" a1
	# Still leased: the group is busy.
	run -1 wq-recv -L -n 10 f
	run -0 wq-recv -L -w 10 --json f
	t1=$(now_ms)
	assert_equal "$(jq -r .body <<<"$output")" a1
	assert_equal "$(jq -r .receive_count <<<"$output")" 2
	((t1 - t0 >= 1000)) || fail "handed out again after $((t1 - t0)) ms, inside the 1 s lease"
	run -0 wq-ack f "$(jq -r .receipt <<<"$output")"
	run -0 wq-recv --json f
	assert_equal "$(jq -r .body <<<"$output")" a2
	assert_equal "$(jq -r .receive_count <<<"$output")" 1
}

@test "-p on a FIFO queue is a usage error and sends nothing" {
	local p
	for p in 1 -1 100; do
		run -64 --separate-stderr wq-send -p "$p" f x
		assert_output ""
		assert_err send f 'FIFO'
	done
	assert_stat f 0 0 0
	assert_equal "$(nfiles "$(qdir f)/tmp")" 0
}

@test "--delay and --at on a FIFO send are usage errors and send nothing" {
	run -64 --separate-stderr wq-send --delay 1 f x
	assert_output ""
	assert_err send f
	run -64 --separate-stderr wq-send --group a --delay 5 f x
	assert_err send f
	run -64 --separate-stderr wq-send --at "@$(($(date +%s) + 60))" f x
	assert_output ""
	assert_err send f
	assert_stat f 0 0 0
	assert_equal "$(nfiles "$(qdir f)/tmp")" 0
	assert_equal "$(nfiles "$(qdir f)/cur")" 0
}

@test "--group on a queue that is not FIFO is a usage error" {
	wq-create plain
	run -64 --separate-stderr wq-send --group a plain x
	assert_output ""
	assert_err send plain 'FIFO'
	assert_stat plain 0 0 0
	assert_equal "$(nfiles "$(qdir plain)/tmp")" 0
}

@test "an invalid group name is a usage error; the longest valid one works" {
	local g long
	long=$(printf 'g%.0s' $(seq 64))
	for g in '' 'a b' '-a' '.a' '_a' 'a/b' 'a,b' "$long"x 'é'; do
		run -64 --separate-stderr wq-send --group "$g" f x
		assert_output ""
		assert_err send f 'group'
	done
	assert_stat f 0 0 0
	run -0 wq-send --group "$long" f x
	run -0 wq-recv --json f
	assert_equal "$(jq -r .group <<<"$output")" "$long"
}

@test "an invalid group name with a newline is refused on one line of stderr" {
	run -64 --separate-stderr wq-send --group $'a\nb' f x
	assert_output ""
	assert_err send f 'group'
	assert_stat f 0 0 0
}

@test "wq-create -u --fifo on an existing queue that is not FIFO is refused" {
	wq-create plain
	send plain x >/dev/null
	run -64 --separate-stderr wq-create -u --fifo plain
	assert_err create plain 'fifo'
	assert_equal "$(stat_get plain policy | jq -r .fifo)" false
	run -0 wq-recv plain
	assert_output x
	# Updating a FIFO queue's other settings keeps it FIFO.
	run -0 wq-create -u --visibility 60 f
	assert_equal "$(stat_get f policy | jq -c '[.fifo, .visibility]')" '[true,60]'
}

@test "4 exec consumers over 3 groups x 100: each group in order, each message once" {
	local g c consumers=()
	wq-create --fifo --sync none cq
	for g in g1 g2 g3; do
		seq 1 100 | wq-send -q -l --group "$g" cq
	done
	# Each run logs its start and its end: within a group, runs must not
	# overlap (one in flight) and must follow the send order.
	for ((c = 1; c <= 4; c++)); do
		bg "$D/exec.$c" wq-recv -f -v 600 cq -- sh -c '
			IFS= read -r b || [ -n "$b" ] || exit 1
			echo "$WQ_GROUP start $b" >>"$0"
			echo "$WQ_GROUP end $b" >>"$0"' "$D/log"
		consumers+=("$BG_PID")
	done
	wait_for 20 stat_is cq total 0
	for c in "${consumers[@]}"; do kill "$c"; done
	for c in "${consumers[@]}"; do wait "$c" 2>/dev/null || true; done
	for ((c = 1; c <= 4; c++)); do
		[ ! -s "$D/exec.$c.err" ] || fail "consumer $c: $(cat "$D/exec.$c.err")"
	done
	assert_equal "$(wc -l <"$D/log")" 600
	for g in g1 g2 g3; do
		awk -v g="$g" '$1 == g { print $2, $3 }' "$D/log" >"$D/got.$g"
		for ((c = 1; c <= 100; c++)); do
			echo "start $c"
			echo "end $c"
		done >"$D/want"
		diff -u "$D/want" "$D/got.$g" | head -n 20 >"$D/diff" || true
		[ ! -s "$D/diff" ] || fail "group $g:$(printf '\n')$(cat "$D/diff")"
	done
	# The groups ran side by side, not one after the other.
	awk '$2 == "start" { print $1 }' "$D/log" | head -n 30 | sort -u >"$D/first"
	[ "$(wc -l <"$D/first")" -ge 2 ] ||
		echo "# only $(cat "$D/first") ran in the first 30 runs" >&3
	[ "$(nfiles "$(qdir cq)/corrupt")" -eq 0 ]
	assert_equal "$(nfiles "$(qdir cq)/cur")" 0
}
