#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-send -p (priorities), --delay and --at (delayed delivery), the queue's
# default delay, and wq-ack --release --delay.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
}

# ms: milliseconds since the epoch, from date(1).
ms() {
	echo $(($(date +%s%N) / 1000000))
}

# counts QUEUE: "ready delayed inflight total".
counts() {
	wq-stat --json "$1" </dev/null |
		jq -r '.[0] | "\(.ready) \(.delayed) \(.inflight) \(.total)"'
}

# ---------------------------------------------------------------- priority

@test "-p: mixed priorities come out in priority order, FIFO within one" {
	wq-send -q -p 0 q a0
	wq-send -q -p 5 q b5
	wq-send -q -p -3 q c-3
	wq-send -q -p 100 q d100
	wq-send -q -p 5 q e5
	wq-send -q -p -100 q f-100
	wq-send -q q g0
	wq-send -q -p 100 q h100
	wq-send -q -p 5 q i5 j5 k5
	run -0 wq-recv -n 20 -l q
	assert_output "$(printf '%s\n' d100 h100 b5 e5 i5 j5 k5 a0 g0 c-3 f-100)"
	run -1 wq-recv q
}

@test "-p: a more urgent message sent later overtakes waiting ones" {
	wq-send -q q a b c
	run -0 wq-recv q
	assert_output a
	wq-send -q -p 1 q urgent
	wq-send -q -p -1 q lazy
	run -0 wq-recv -L --json q
	jq -e '.body == "urgent" and .priority == 1' <<<"$output"
	run -0 wq-recv -n 2 -l q
	assert_output "$(printf 'b\nc')"
	# Exec mode tells the command the priority.
	run -0 wq-recv q -- sh -c 'cat; echo " $WQ_PRIORITY"'
	assert_output "lazy -1"
}

@test "-p: the extremes -100 and 100 are accepted; --json shows priority" {
	wq-send -q -p -100 q min
	wq-send -q --priority 100 q max
	wq-send -q q zero
	run -0 wq-recv --peek --json -n 3 q
	assert_equal "${#lines[@]}" 3
	assert_equal "$(jq -sc '[.[] | [.body, .priority]]' <<<"$output")" \
		'[["max",100],["zero",0],["min",-100]]'
	run -0 wq-recv --json q
	jq -e '.priority == 100 and .body == "max"' <<<"$output"
	run -0 wq-recv -L --json q
	jq -e '.priority == 0 and .body == "zero"' <<<"$output"
	run -0 wq-recv --json q
	jq -e '.priority == -100 and .body == "min"' <<<"$output"
}

@test "-p: out of range or not a number is exit 64 and nothing is sent" {
	local p
	for p in -101 101 abc '' 1.5; do
		run -64 --separate-stderr wq-send -p "$p" q body
		assert_equal "$output" ""
		assert_err_prefix send
		[[ $stderr == *priority* ]] || fail "-p '$p': stderr '$stderr'"
	done
	run -64 --separate-stderr bash -c 'echo body | wq-send -l -p 101 q'
	assert_equal "$output" ""
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
}

@test "-p: the priority survives a release and a failed command" {
	wq-send -q -p 9 q urgent
	wq-send -q q normal
	run -0 wq-recv -L --json q
	jq -e '.priority == 9 and .receive_count == 1' <<<"$output"
	local r
	r=$(jq -r .receipt <<<"$output")
	wq-send -q q later
	run -0 wq-ack --release q "$r"
	run -0 wq-recv -L --json q
	jq -e '.body == "urgent" and .priority == 9 and .receive_count == 2' \
		<<<"$output"
	run -0 wq-ack --release q "$(jq -r .receipt <<<"$output")"
	run -0 wq-recv q -- false
	run -0 wq-recv --json q
	jq -e '.body == "urgent" and .priority == 9 and .receive_count == 4' \
		<<<"$output"
}

@test "-p: the priority survives a dead letter and a redrive" {
	wq-create dlq
	wq-create -u --dead-letter dlq q
	wq-send -q -p 42 -a k=v q urgent
	run -0 wq-recv -L --json q
	run -0 wq-ack --dead q "$(jq -r .receipt <<<"$output")"
	run -0 wq-recv --peek --json dlq
	jq -e '.body == "urgent" and .priority == 42' <<<"$output"
	wq-send -q q normal
	run -0 wq-redrive dlq
	assert_output 1
	run -0 wq-recv --json q
	jq -e '.body == "urgent" and .priority == 42 and .receive_count == 1' \
		<<<"$output"
}

# ------------------------------------------------------------------ --delay

@test "--delay: invisible to receivers and counted as DELAYED until due" {
	run -0 wq-send --delay 3600 q later
	[[ $output =~ $ID_RE ]] || fail "bad id '$output'"
	run -1 wq-recv q
	assert_output ""
	run -1 wq-recv -L q
	run -1 wq-recv --peek q
	run -1 wq-recv q -- true
	assert_equal "$(counts q)" "0 1 0 1"
	run -0 wq-stat q
	assert_line --regexp '^q +0 +1 +0 +1 '
}

@test "--delay: served once due; wq-recv -w wakes for it" {
	local t0 dt id
	t0=$(ms)
	run -0 wq-send --delay 1 q later
	id=$output
	run -0 wq-recv -w 5 --json q
	dt=$(($(ms) - t0))
	((dt >= 1000)) || fail "served after ${dt} ms, before the 1 s delay"
	((dt < 4000)) || fail "served only after ${dt} ms"
	jq -e --arg id "$id" '.id == $id and .body == "later" and
		.receive_count == 1' <<<"$output"
	assert_equal "$(counts q)" "0 0 0 0"
}

@test "--delay: a delayed message does not hold back ready ones" {
	wq-send -q --delay 3600 -p 100 q later
	wq-send -q q now
	wq-send -q --delay 0 q zero
	assert_equal "$(counts q)" "2 1 0 3"
	run -0 wq-recv -n 5 -l q
	assert_output "$(printf 'now\nzero')"
	assert_equal "$(counts q)" "0 1 0 1"
}

@test "--delay: applies to every message of the run, priority kept" {
	local t0 dt
	t0=$(ms)
	run -0 bash -c 'printf "a\nb\nc\n" | wq-send -l -p 30 --delay 1 q'
	assert_equal "${#lines[@]}" 3
	assert_equal "$(counts q)" "0 3 0 3"
	run -0 wq-recv -w 5 -n 3 --json q
	dt=$(($(ms) - t0))
	((dt >= 1000)) || fail "served after ${dt} ms"
	assert_equal "$(jq -sc '[.[] | [.body, .priority]]' <<<"$output")" \
		'[["a",30],["b",30],["c",30]]'
}

@test "--delay: invalid values are exit 64 and nothing is sent" {
	local d
	for d in -1 abc 99999999999; do
		run -64 --separate-stderr wq-send --delay "$d" q x
		assert_equal "$output" ""
		assert_err_prefix send
	done
	assert_equal "$(counts q)" "0 0 0 0"
}

# --------------------------------------------------------------------- --at

@test "--at @EPOCH and --at with an offset: delayed until that instant" {
	local t0 due iso dt
	t0=$(ms)
	due=$((t0 / 1000 + 3))
	# The same instant as the local time of UTC+02:00.
	iso=$(TZ=UTC-2 date -d "@$due" +%Y-%m-%dT%H:%M:%S+02:00)
	wq-send -q --at "@$due" q epoch
	wq-send -q --at "$iso" q iso
	assert_equal "$(counts q)" "0 2 0 2"
	run -1 wq-recv q
	run -0 wq-recv -w 8 q
	dt=$(ms)
	((dt >= due * 1000)) || fail "served at $dt ms, before $due s"
	((dt < due * 1000 + 3000)) || fail "served only at $dt ms (due $due s)"
	run -0 wq-recv -w 2 q
	assert_equal "$(counts q)" "0 0 0 0"
}

@test "--at: ISO 8601 in UTC (Z) or with offsets is delayed until then" {
	# All four are 2030-01-01T00:00:00Z.
	wq-send -q --at 2030-01-01T00:00:00Z q z
	wq-send -q --at 2030-01-01T02:00:00+02:00 q plus
	wq-send -q --at 2029-12-31T18:30:00-05:30 q minus
	wq-send -q --at '2030-01-01 00:00:00Z' q space
	assert_equal "$(counts q)" "0 4 0 4"
	run -1 wq-recv q
	run -0 ls "$WQ_DIR/q/cur"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(grep -c ',1893456000000,delayed$' <<<"$output")" 4
}

@test "--at: a time in the past is ready at once" {
	wq-send -q --at @1000000000 q epoch
	wq-send -q --at 2001-09-09T01:46:40Z q iso
	wq-send -q --at 2001-09-09T03:46:40+02:00 q offset
	assert_equal "$(counts q)" "3 0 0 3"
	run -0 wq-recv -n 3 -l q
	assert_output "$(printf 'epoch\niso\noffset')"
}

@test "--at: an invalid time is exit 64 and nothing is sent" {
	local t
	for t in bogus @ @abc @-5 2030-13-01T00:00:00Z 2030-01-01 \
		2030-01-01T00:00:00+25:00 2030-01-01T00:00:00Zjunk \
		'2030-01-01T00:00:00 +02:00' ''; do
		run -64 --separate-stderr wq-send --at "$t" q x
		assert_equal "$output" ""
		assert_err_prefix send
		[[ $stderr == *time* ]] || fail "--at '$t': stderr '$stderr'"
	done
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
}

@test "--delay with --at is exit 64 and nothing is sent" {
	run -64 --separate-stderr wq-send --delay 5 --at @2000000000 q x
	assert_equal "$output" ""
	assert_err send q
	run -64 --separate-stderr wq-send --at 2030-01-01T00:00:00Z --delay 0 q x
	assert_err send q
	assert_equal "$(counts q)" "0 0 0 0"
}

@test "--delay with --at @0 is exit 64 too" {
	run -64 --separate-stderr wq-send --delay 5 --at @0 q x
	assert_equal "$output" ""
	assert_equal "$(counts q)" "0 0 0 0"
}

# ------------------------------------------------------ the queue's default

@test "wq-create --delay: the default for sends without --delay" {
	local t0 t1 d
	wq-create --delay 3600 dq
	run -0 stat_get dq policy
	jq -e '.delay == 3600' <<<"$output"
	t0=$(ms)
	wq-send -q dq default
	t1=$(ms)
	wq-send -q --delay 0 dq now
	wq-send -q --at @1000000000 dq past
	assert_equal "$(counts dq)" "2 1 0 3"
	run -0 wq-recv -n 5 -l dq
	assert_output "$(printf 'now\npast')"
	run -1 wq-recv dq
	# Due 3600 s after it was sent.
	run -0 ls "$WQ_DIR/dq/cur"
	assert_equal "${#lines[@]}" 1
	[[ $output =~ ,([0-9]+),delayed$ ]] || fail "not delayed: $output"
	d=${BASH_REMATCH[1]}
	((d >= t0 + 3600000 && d <= t1 + 3600000)) ||
		fail "due at $d, not 3600 s after $t0..$t1"
	# -u changes the default for later sends.
	wq-create -u --delay 0 dq
	wq-send -q dq again
	assert_equal "$(counts dq)" "1 1 0 2"
	run -0 wq-recv dq
	assert_output again
	wq-create -u --delay 1 dq
	t0=$(ms)
	wq-send -q dq soon
	run -0 wq-recv -w 5 dq
	assert_output soon
	(($(ms) - t0 >= 1000)) || fail "served before the queue's 1 s delay"
}

# ------------------------------------------------- wq-ack --release --delay

@test "wq-ack --release --delay: DELAYED until due, count and priority kept" {
	local t0 dt r
	wq-send -q -p 3 q job
	run -0 wq-recv -L --json q
	r=$(jq -r .receipt <<<"$output")
	# --delay without --release is a usage error that changes nothing.
	run -64 --separate-stderr wq-ack --delay 1 q "$r"
	assert_equal "$(counts q)" "0 0 1 1"
	t0=$(ms)
	run -0 wq-ack --release --delay 1 q "$r"
	assert_output ""
	assert_equal "$(counts q)" "0 1 0 1"
	run -1 wq-ack q "$r"
	run -0 wq-recv -w 5 --json q
	dt=$(($(ms) - t0))
	((dt >= 1000)) || fail "served after ${dt} ms, before the 1 s delay"
	((dt < 4000)) || fail "served only after ${dt} ms"
	jq -e '.body == "job" and .receive_count == 2 and .priority == 3' \
		<<<"$output"
}

