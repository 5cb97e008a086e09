#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-ack: ack, release, delay, extend; stale and bad receipts.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
}

# take QUEUE: lease one message, set RECEIPT and ID.
take() {
	local out
	out=$(wq-recv -L --json "$1" </dev/null) || fail "nothing to lease"
	RECEIPT=$(jq -r .receipt <<<"$out")
	ID=$(jq -r .id <<<"$out")
}

@test "ack deletes the leased message" {
	run -0 wq-send q x
	take q
	run -0 --separate-stderr wq-ack q "$RECEIPT"
	assert_output ""
	assert_equal "$(tree q)" ""
	assert_equal "$(stat_get q total)" 0
}

@test "ack of several receipts" {
	run -0 wq-send q a b c
	take q
	local r1=$RECEIPT
	take q
	local r2=$RECEIPT
	run -0 wq-ack q "$r1" "$r2"
	assert_stat q 1 0 0
	assert_equal "$(stat_get q total)" 1
}

@test "--release returns the message to the queue" {
	run -0 wq-send q x
	local id=$output
	take q
	run -0 wq-ack --release q "$RECEIPT"
	assert_stat q 1 0 0
	assert_ready q "80.$id,1"
	assert_equal "$(nfiles "$WQ_DIR/q/cur")" 0
	run -0 wq-recv --json q
	jq -e '.receive_count == 2 and .body == "x"' <<<"$output"
}

@test "--release --delay puts the message in delayed, then ready" {
	run -0 wq-send q x
	local id=$output
	take q
	run -0 wq-ack --release --delay 2 q "$RECEIPT"
	assert_stat q 0 1 0
	run -0 ls "$WQ_DIR/q/cur"
	assert_output --regexp "^80\\.$id,1,[0-9]+,,[0-9]+,delayed\$"
	local d
	d=$(cut -d, -f5 <<<"$output")
	local now
	now=$(now_ms)
	((d > now && d <= now + 3000)) || fail "deadline $d, now $now"
	run -1 wq-recv q
	wait_for 8 stat_is q ready 1
	run -0 wq-recv q
	assert_output x
}

@test "a delayed message's old receipt is dead" {
	run -0 wq-send q x
	take q
	run -0 wq-ack --release --delay 60 q "$RECEIPT"
	local before
	before=$(tree q)
	run -1 --separate-stderr wq-ack q "$RECEIPT"
	assert_err ack q
	assert_equal "$(tree q)" "$before"
}

@test "--extend prints the new receipt and moves the deadline" {
	run -0 wq-send q x
	take q
	local t0
	t0=$(now_ms)
	run -0 --separate-stderr wq-ack --extend 600 q "$RECEIPT"
	assert_equal "${#lines[@]}" 1
	local new=$output
	[[ $new =~ $RECEIPT_RE ]] || fail "bad receipt '$new'"
	# Same ID, count, size, group and nonce; a later deadline.
	assert_equal "${new%%,*}" "${RECEIPT%%,*}"
	assert_equal "$(cut -d, -f2,3,4,6 <<<"$new")" \
		"$(cut -d, -f2,3,4,6 <<<"$RECEIPT")"
	local d
	d=$(cut -d, -f5 <<<"$new")
	((d >= t0 + 600000 - 1000 && d <= t0 + 600000 + 3000)) ||
		fail "deadline $d not 600 s after $t0"
	assert_file_exists "$WQ_DIR/q/cur/$new"
	assert_file_not_exists "$WQ_DIR/q/cur/$RECEIPT"
	assert_stat q 0 0 1
}

@test "after --extend the old receipt still acks" {
	run -0 wq-send q x
	take q
	run -0 wq-ack --extend 600 q "$RECEIPT"
	run -0 wq-ack q "$RECEIPT"
	assert_equal "$(stat_get q total)" 0
}

@test "after --extend the old receipt still releases and extends" {
	run -0 wq-send q x
	take q
	run -0 wq-ack --extend 600 q "$RECEIPT"
	run -0 wq-ack --extend 900 q "$RECEIPT"
	local new=$output
	[[ $new =~ $RECEIPT_RE ]]
	run -0 wq-ack --release q "$RECEIPT"
	assert_stat q 1 0 0
}

@test "--extend keeps a short lease from expiring" {
	run -0 wq-send q x
	local out
	out=$(wq-recv -L -v 1 --json q)
	local r
	r=$(jq -r .receipt <<<"$out")
	run -0 wq-ack --extend 60 q "$r"
	# Well past the original 1 s lease and the skew.
	run -1 wq-recv -w 3 q
	assert_stat q 0 0 1
}

@test "- reads receipts from stdin, one per line" {
	run -0 wq-send q a b c
	local rs=()
	for _ in 1 2 3; do
		take q
		rs+=("$RECEIPT")
	done
	printf '%s\n' "${rs[@]}" >"$BATS_TEST_TMPDIR/receipts"
	run -0 wq-ack q - <"$BATS_TEST_TMPDIR/receipts"
	assert_equal "$(stat_get q total)" 0
}

@test "- with --release and a pipe" {
	run -0 wq-send q a b
	run -0 bash -c 'wq-recv -L --json -n 2 q | jq -r .receipt | wq-ack --release q -'
	assert_stat q 2 0 0
}

@test "--extend with - prints one new receipt per line" {
	run -0 wq-send q a b
	run -0 bash -c 'wq-recv -L --json -n 2 q | jq -r .receipt | wq-ack --extend 100 q -'
	assert_equal "${#lines[@]}" 2
	[[ ${lines[0]} =~ $RECEIPT_RE ]]
	[[ ${lines[1]} =~ $RECEIPT_RE ]]
	assert_file_exists "$WQ_DIR/q/cur/${lines[0]}"
	assert_file_exists "$WQ_DIR/q/cur/${lines[1]}"
}

@test "an acked receipt is stale: exit 1, nothing changed" {
	run -0 wq-send q x y
	take q
	run -0 wq-ack q "$RECEIPT"
	local before counts
	before=$(tree q)
	counts=$(stat_counts q)
	run -1 --separate-stderr wq-ack q "$RECEIPT"
	assert_err ack q
	run -1 --separate-stderr wq-ack --release q "$RECEIPT"
	assert_err ack q
	run -1 --separate-stderr wq-ack --extend 60 q "$RECEIPT"
	assert_err ack q
	assert_equal "$(tree q)" "$before"
	assert_equal "$(stat_counts q)" "$counts"
}

@test "a receipt with another nonce is refused: exit 1, nothing changed" {
	run -0 wq-send q x
	take q
	local forged before
	forged="${RECEIPT%,*},0123456789abcdef"
	[ "$forged" != "$RECEIPT" ] || forged="${RECEIPT%,*},fedcba9876543210"
	before=$(tree q)
	local counts
	counts=$(stat_counts q)
	assert_equal "$counts" "0 0 1 1 $(stat_get q bytes)"
	run -1 --separate-stderr wq-ack q "$forged"
	assert_err ack q
	run -1 --separate-stderr wq-ack --release q "$forged"
	run -1 --separate-stderr wq-ack --extend 60 q "$forged"
	assert_equal "$(tree q)" "$before"
	assert_equal "$(stat_counts q)" "$counts"
	run -0 wq-ack q "$RECEIPT"
}

@test "a receipt with another count is refused: exit 1, nothing changed" {
	run -0 wq-send q x
	take q
	local forged before
	forged=$(awk -F, -v OFS=, '{ $2 = $2 + 1; print }' <<<"$RECEIPT")
	before=$(tree q)
	run -1 --separate-stderr wq-ack q "$forged"
	assert_equal "$(tree q)" "$before"
}

@test "a well-formed receipt of a message never sent is refused (1)" {
	run -0 wq-send q x
	take q
	local before
	before=$(tree q)
	run -1 --separate-stderr wq-ack q \
		"80.0000000000000001.1.1.00000000.nohost,1,110,,1,0123456789abcdef"
	assert_err ack q
	assert_equal "$(tree q)" "$before"
}

@test "a ready message cannot be acked by forging a receipt (1)" {
	run -0 wq-send q x
	local id=$output before size
	before=$(tree q)
	# The ready entry's name, made into a well-formed receipt.
	size=$(stat -c %s "$(ready_file q "80.$id,0")")
	run -1 --separate-stderr wq-ack q "80.$id,0,$size,,1,0123456789abcdef"
	assert_equal "$(tree q)" "$before"
}

@test "a receipt of another queue is refused (1)" {
	run -0 wq-create other
	run -0 wq-send other x
	run -0 wq-send q y
	take other
	local before
	before=$(tree q)
	run -1 --separate-stderr wq-ack q "$RECEIPT"
	assert_err ack q
	assert_equal "$(tree q)" "$before"
	assert_stat other 0 0 1
}

@test "garbage receipts are usage errors (64), nothing changed" {
	run -0 wq-send q x
	take q
	local before g counts
	before=$(tree q)
	counts=$(stat_counts q)
	for g in garbage '' "../../policy" "$RECEIPT/x" "${RECEIPT},extra" \
		"${RECEIPT%,*}" 'a b' "../cur/$RECEIPT" \
		"$(tr , . <<<"$RECEIPT")"; do
		run -64 --separate-stderr wq-ack q "$g"
		assert_err_prefix ack
	done
	for g in garbage "${RECEIPT%,*}" "../cur/$RECEIPT"; do
		run -64 --separate-stderr wq-ack --release q "$g"
		run -64 --separate-stderr wq-ack --extend 10 q "$g"
	done
	assert_equal "$(tree q)" "$before"
	assert_equal "$(stat_counts q)" "$counts"
	assert_file_exists "$WQ_DIR/q/policy"
}

@test "a delayed entry's name is no receipt: refused, nothing changed" {
	run -0 wq-send q x
	take q
	run -0 wq-ack --release --delay 60 q "$RECEIPT"
	local name before
	name=$(ls "$WQ_DIR/q/cur")
	before=$(tree q)
	run --separate-stderr wq-ack q "$name"
	[[ $status == 1 || $status == 64 ]] || fail "exit $status"
	run --separate-stderr wq-ack --extend 60 q "$name"
	[[ $status == 1 || $status == 64 ]] || fail "exit $status"
	assert_equal "$(tree q)" "$before"
}

@test "a stale receipt among good ones: exit 1, the good ones acked" {
	run -0 wq-send q a b
	take q
	local r1=$RECEIPT
	take q
	local r2=$RECEIPT
	run -0 wq-ack q "$r1"
	run -1 --separate-stderr wq-ack q "$r1" "$r2"
	assert_equal "$(stat_get q total)" 0
}

@test "a missing queue is 66" {
	run -66 --separate-stderr wq-ack nope \
		"80.0000000000000001.1.1.00000000.nohost,1,110,,1,0123456789abcdef"
	assert_err ack nope 'wq-create'
}

@test "no receipt, bad --extend or --delay values are usage errors (64)" {
	run -0 wq-send q x
	take q
	local before
	before=$(tree q)
	run -64 --separate-stderr wq-ack q
	run -64 --separate-stderr wq-ack --extend abc q "$RECEIPT"
	run -64 --separate-stderr wq-ack --extend -5 q "$RECEIPT"
	run -64 --separate-stderr wq-ack --release --delay x q "$RECEIPT"
	assert_equal "$(tree q)" "$before"
}

@test "--delay without --release, or --extend with --release, is 64" {
	run -0 wq-send q x
	take q
	local before
	before=$(tree q)
	run -64 --separate-stderr wq-ack --delay 5 q "$RECEIPT"
	run -64 --separate-stderr wq-ack --release --extend 5 q "$RECEIPT"
	assert_equal "$(tree q)" "$before"
}
