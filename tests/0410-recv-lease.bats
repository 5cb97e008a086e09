#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-recv -L: leases, receipts and their expiry.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	OUT="$BATS_TEST_TMPDIR/out"
}

@test "-L prints the receipt on its own line, then the body" {
	run -0 wq-send q hello
	local id=$output
	run -0 wq-recv -L q
	assert_equal "${#lines[@]}" 2
	[[ ${lines[0]} =~ $RECEIPT_RE ]] || fail "bad receipt '${lines[0]}'"
	assert_equal "$(cut -d, -f1,2 <<<"${lines[0]}")" "80.$id,1"
	# SIZE is the size of the message file, GROUP is empty (no FIFO).
	assert_equal "$(cut -d, -f3 <<<"${lines[0]}")" \
		"$(stat -c %s "$WQ_DIR/q/cur/${lines[0]}")"
	assert_equal "$(cut -d, -f4 <<<"${lines[0]}")" ""
	assert_equal "${lines[1]}" hello
}

@test "-L leaves the message in flight" {
	run -0 wq-send q hello
	run -0 wq-recv --lease q
	local receipt=${lines[0]}
	assert_stat q 0 0 1
	assert_equal "$(stat_get q total)" 1
	assert_file_exists "$WQ_DIR/q/cur/$receipt"
	assert_equal "$(nready q)" 0
	# Nobody else gets it while the lease holds.
	run -1 wq-recv q
	run -1 wq-recv -L q
}

@test "the receipt's deadline is now + visibility in milliseconds" {
	run -0 wq-send q x
	local t0 t1 d
	t0=$(now_ms)
	run -0 wq-recv -L q
	t1=$(now_ms)
	d=$(cut -d, -f5 <<<"${lines[0]}")
	((d >= t0 + 30000 - 1000 && d <= t1 + 30000 + 1000)) ||
		fail "deadline $d not 30 s after $t0..$t1"
	run -0 wq-send q y
	t0=$(now_ms)
	run -0 wq-recv -L -v 600 q
	d=$(cut -d, -f5 <<<"${lines[0]}")
	((d >= t0 + 600000 - 1000 && d <= t0 + 600000 + 3000)) ||
		fail "deadline $d not 600 s after $t0"
}

@test "-L -n 2 prints receipt and body for each" {
	run -0 wq-send q a b
	run -0 wq-recv -L -n 2 -l q
	assert_equal "${#lines[@]}" 4
	[[ ${lines[0]} =~ $RECEIPT_RE ]]
	assert_equal "${lines[1]}" a
	[[ ${lines[2]} =~ $RECEIPT_RE ]]
	assert_equal "${lines[3]}" b
	assert_stat q 0 0 2
}

@test "-L --json carries the receipt in the record" {
	run -0 wq-send q hello
	local id=$output
	run -0 wq-recv -L --json q
	assert_equal "${#lines[@]}" 1
	local receipt
	receipt=$(jq -r .receipt <<<"$output")
	[[ $receipt =~ $RECEIPT_RE ]] || fail "bad receipt '$receipt'"
	jq -e --arg id "$id" '.id == $id and .body == "hello" and .receive_count == 1' <<<"$output"
	assert_file_exists "$WQ_DIR/q/cur/$receipt"
	run -0 wq-ack q "$receipt"
	assert_equal "$(stat_get q total)" 0
}

@test "the lease receipt works with wq-ack" {
	run -0 wq-send q x
	run -0 wq-recv -L q
	run -0 wq-ack q "${lines[0]}"
	assert_equal "$(tree q)" ""
}

@test "an expired lease makes the message claimable again" {
	run -0 wq-send q again
	local id=$output
	run -0 wq-recv -L -v 1 q
	local old=${lines[0]}
	assert_stat q 0 0 1
	# Lease (1 s) plus the clock-skew allowance (1 s).
	wait_for 6 stat_is q ready 1
	assert_equal "$(stat_get q inflight)" 0
	run -0 wq-recv -L --json q
	jq -e --arg id "$id" '.id == $id and .receive_count == 2 and .body == "again"' <<<"$output"
	local new
	new=$(jq -r .receipt <<<"$output")
	[ "$new" != "$old" ] || fail "same receipt after expiry"
	assert_equal "$(cut -d, -f1,2 <<<"$new")" "80.$id,2"
	# The old receipt is dead: ack refuses it and changes nothing.
	local before
	before=$(tree q)
	run -1 --separate-stderr wq-ack q "$old"
	assert_err ack q
	assert_equal "$(tree q)" "$before"
	run -1 --separate-stderr wq-ack --release q "$old"
	run -1 --separate-stderr wq-ack --extend 60 q "$old"
	assert_equal "$(tree q)" "$before"
	# The new holder's receipt still works.
	run -0 wq-ack q "$new"
	assert_equal "$(stat_get q total)" 0
}

@test "an expired lease is not reclaimed before deadline + clock skew" {
	run -0 wq-send q x
	local t0
	t0=$(now_ms)
	run -0 wq-recv -L -v 1 q
	run -1 wq-recv q
	wait_for 6 stat_is q ready 1
	# DEADLINE + clock-skew < now: at least 2 s after the claim.
	(($(now_ms) - t0 >= 1900)) || fail "ready after $(($(now_ms) - t0)) ms"
	run -0 wq-recv q
	assert_output x
}

@test "a waiting consumer picks up an expired lease" {
	run -0 wq-send q x
	run -0 wq-recv -L -v 1 q
	run -0 wq-recv -w 6 --json q
	jq -e '.receive_count == 2' <<<"$output"
}
