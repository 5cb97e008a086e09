#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-recv in pop mode: claim, print, ack.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	OUT="$BATS_TEST_TMPDIR/out"
}

@test "pop prints the body exactly and acks it" {
	run -0 wq-send q 'hello world'
	wq-recv q >"$OUT"
	printf 'hello world' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$OUT"
	assert_equal "$(tree q)" ""
	assert_stat q 0 0 0
	assert_equal "$(stat_get q total)" 0
}

@test "pop serves messages in send order" {
	run -0 wq-send q a b c
	run -0 wq-recv q
	assert_output a
	run -0 wq-recv q
	assert_output b
	run -0 wq-recv q
	assert_output c
	run -1 wq-recv q
}

@test "-n N pops up to N messages" {
	run -0 wq-send q a b c
	run -0 wq-recv -n 2 -l q
	assert_output $'a\nb'
	assert_stat q 1 0 0
	run -0 wq-recv --count 5 -l q
	assert_output c
	assert_stat q 0 0 0
}

@test "bodies have no separator without -l or -0" {
	run -0 wq-send q a b c
	wq-recv -n 3 q >"$OUT"
	printf 'abc' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$OUT"
}

@test "-l writes a newline after each body" {
	run -0 wq-send q a '' c
	wq-recv -n 3 -l q >"$OUT"
	printf 'a\n\nc\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$OUT"
}

@test "-0 writes a NUL after each body" {
	run -0 wq-send q a 'b c' ''
	wq-recv -n 3 --null q >"$OUT"
	printf 'a\0b c\0\0' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$OUT"
}

@test "--json prints one object per message with every field" {
	run -0 wq-send q hello
	local id=$output
	run -0 wq-recv --json q
	assert_equal "${#lines[@]}" 1
	echo "$output" | jq -e --arg id "$id" '
		.id == $id and .body == "hello" and (has("body_base64") | not)
		and has("receipt") and (.attributes | type) == "object"
		and (.priority | type) == "number" and has("sent_at")
		and .sent_at != null and .receive_count == 1 and has("group")'
	assert_stat q 0 0 0
}

@test "--json sent_at matches the send time" {
	local before after
	before=$(now_ms)
	run -0 wq-send q hello
	after=$(now_ms)
	run -0 wq-recv --json q
	local sent
	sent=$(echo "$output" | jq -r '.sent_at')
	if [[ $sent =~ ^[0-9]+$ ]]; then
		# Milliseconds (or seconds) since the epoch.
		((sent >= before - 1000 && sent <= after + 1000)) ||
			((sent >= before / 1000 - 1 && sent <= after / 1000 + 1)) ||
			fail "sent_at $sent not between $before and $after"
	else
		local s
		s=$(date -d "$sent" +%s) || fail "sent_at '$sent' is no time"
		((s >= before / 1000 - 1 && s <= after / 1000 + 1)) ||
			fail "sent_at $sent not between $before and $after"
	fi
}

@test "--json uses body_base64 for a body that is not UTF-8" {
	printf 'ab\377\376cd' >"$BATS_TEST_TMPDIR/in"
	run -0 wq-send -f "$BATS_TEST_TMPDIR/in" q
	run -0 wq-recv --json q
	echo "$output" | jq -e 'has("body") | not'
	echo "$output" | jq -r .body_base64 | base64 -d >"$OUT"
	run -0 cmp "$BATS_TEST_TMPDIR/in" "$OUT"
}

@test "--json keeps valid UTF-8 text in body, JSON-escaped" {
	printf 'caf\xc3\xa9 "quoted"\n\ttab\\' >"$BATS_TEST_TMPDIR/in"
	run -0 wq-send -f "$BATS_TEST_TMPDIR/in" q
	run -0 wq-recv --json q
	echo "$output" | jq -j .body >"$OUT"
	run -0 cmp "$BATS_TEST_TMPDIR/in" "$OUT"
}

@test "--json -n 3 prints three lines" {
	run -0 wq-send q a b c
	run -0 wq-recv --json -n 3 q
	assert_equal "${#lines[@]}" 3
	run -0 jq -r .body <<<"$output"
	assert_output $'a\nb\nc'
}

@test "--peek shows without claiming" {
	run -0 wq-send q a b
	local id=${lines[0]}
	run -0 wq-recv --peek q
	assert_output a
	assert_stat q 2 0 0
	assert_ready q "80.$id,0"
	assert_equal "$(nfiles "$WQ_DIR/q/cur")" 0
	run -0 wq-recv --peek -n 2 -l q
	assert_output $'a\nb'
	run -0 wq-recv --json q
	echo "$output" | jq -e '.receive_count == 1 and .body == "a"'
}

@test "--peek on an empty queue exits 1" {
	run -1 wq-recv --peek q
	assert_output ""
}

@test "an empty queue exits 1 at once, printing nothing" {
	local t0
	t0=$(now_ms)
	run -1 --separate-stderr wq-recv q
	assert_output ""
	(($(now_ms) - t0 < 2000)) || fail "wq-recv did not return at once"
}

@test "a missing queue is 66 with a hint to wq-create" {
	run -66 --separate-stderr wq-recv nope
	assert_err recv nope 'wq-create'
}

@test "-w SECS waits, then exits 1" {
	local t0 dt
	t0=$(now_ms)
	run -1 wq-recv -w 1 q
	dt=$(($(now_ms) - t0))
	((dt >= 900)) || fail "returned after ${dt} ms"
	((dt < 4000)) || fail "returned after ${dt} ms"
	assert_output ""
}

@test "-w returns at once when a message is ready" {
	run -0 wq-send q ready
	local t0
	t0=$(now_ms)
	run -0 wq-recv --wait 10 q
	assert_output ready
	(($(now_ms) - t0 < 2000)) || fail "wq-recv -w waited"
}

@test "a message sent while wq-recv -w waits is received" {
	bg "$OUT" wq-recv -w 10 q
	local pid=$BG_PID t0
	wait_for 5 sleeping_in "$pid" wq-recv
	t0=$(now_ms)
	run -0 wq-send q 'late message'
	wait_for 5 dead "$pid"
	wait "$pid" || fail "wq-recv -w exited $?"
	(($(now_ms) - t0 < 3000)) || fail "wq-recv took too long to wake"
	run -0 cat "$OUT"
	assert_output 'late message'
	assert_stat q 0 0 0
}

@test "two waiters and one message: exactly one gets it" {
	bg "$OUT.1" wq-recv -w 2 q
	local p1=$BG_PID
	bg "$OUT.2" wq-recv -w 2 q
	local p2=$BG_PID
	wait_for 5 sleeping_in "$p1" wq-recv
	wait_for 5 sleeping_in "$p2" wq-recv
	run -0 wq-send q only
	local s1=0 s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	assert_equal "$(cat "$OUT.1" "$OUT.2")" only
	assert_equal "$((s1 + s2))" 1
}

@test "-f follows: several messages sent over time are received" {
	bg "$OUT" wq-recv -f -l q
	local pid=$BG_PID
	wait_for 5 sleeping_in "$pid" wq-recv
	for m in one two three; do
		run -0 wq-send q "$m"
		wait_for 5 grep -qx "$m" "$OUT"
	done
	alive "$pid" || fail "wq-recv -f exited"
	kill "$pid"
	wait "$pid" || true
	run -0 cat "$OUT"
	assert_output $'one\ntwo\nthree'
	assert_stat q 0 0 0
}

@test "-f first drains what is already there" {
	run -0 wq-send q a b
	bg "$OUT" wq-recv --follow -l q
	wait_for 5 grep -qx b "$OUT"
	alive "$BG_PID" || fail "wq-recv -f exited"
	run -0 cat "$OUT"
	assert_output $'a\nb'
}

@test "invalid numbers are usage errors (64)" {
	run -64 --separate-stderr wq-recv -n abc q
	assert_err_prefix recv
	run -64 --separate-stderr wq-recv -w -3 q
	run -64 --separate-stderr wq-recv -v x q
	run -64 --separate-stderr wq-recv -n 0x q
	run -0 wq-send q kept
	run -64 --separate-stderr wq-recv -n '' q
	assert_stat q 1 0 0
}

@test "--json: the receipt is null in pop mode and --peek, a receipt with -L" {
	send q a b c >/dev/null
	run -0 wq-recv --json --peek q
	assert_equal "$(jq -r .receipt <<<"$output")" null
	run -0 wq-recv --json q
	assert_equal "$(jq -r .receipt <<<"$output")" null
	run -0 wq-recv -L --json q
	[[ $(jq -r .receipt <<<"$output") =~ $RECEIPT_RE ]]
}
