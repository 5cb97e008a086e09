#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Dead-letter queues: --max-receives, wq-ack --dead, exec exits 100 and 75,
# --retention, and wq-redrive.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create dlq
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
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

# lease QUEUE: claim one message, print its receipt.
lease() {
	wq-recv -L --json "$1" </dev/null | jq -r .receipt
}

# claim_moves_to QUEUE DLQ: try a claim of QUEUE; true once DLQ holds a
# message.
claim_moves_to() {
	wq-recv "$1" >/dev/null 2>&1 </dev/null
	stat_is "$2" total 1
}

# ------------------------------------------------------------ max-receives

@test "--max-receives: after N failed runs the next claim dead-letters" {
	wq-create --max-receives 2 --dead-letter dlq q
	run -0 stat_get q policy
	jq -e '.max_receives == 2 and .dead_letter == "dlq"' <<<"$output"
	run -0 wq-send -p 6 -a kind=job -a note='two words' q 'the body'
	local id=$output
	run -0 wq-recv -v 1 q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 1'
	run -0 wq-recv -v 1 q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 1'
	run -0 cat "$D/counts"
	assert_output $'1\n2'
	assert_equal "$(counts q)" "1 0 0 1"
	assert_equal "$(counts dlq)" "0 0 0 0"
	# The third claim finds it over the limit: it moves, nothing is served.
	run -1 wq-recv q -- sh -c 'touch "$D/ran"'
	assert_file_not_exists "$D/ran"
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "1 0 0 1"
	run -1 wq-recv q
	run -0 wq-recv --json dlq
	jq -e --arg id "$id" '.id == $id and .body == "the body" and
		.receive_count == 1 and .priority == 6 and
		.attributes == {"kind": "job", "note": "two words"}' <<<"$output"
}

@test "--max-receives: leases released with wq-ack --release count too" {
	wq-create --max-receives 3 --dead-letter dlq q
	wq-send -q q job
	local round r
	for round in 1 2 3; do
		run -0 wq-recv -L --json q
		jq -e --argjson n "$round" '.receive_count == $n' <<<"$output"
		r=$(jq -r .receipt <<<"$output")
		run -0 wq-ack --release q "$r"
	done
	run -1 wq-recv -L q
	assert_output ""
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "1 0 0 1"
	run -0 wq-recv dlq
	assert_output job
}

@test "--max-receives: the body reaches the dead-letter queue byte for byte" {
	wq-create --max-receives 1 --dead-letter dlq q
	allbytes >"$BATS_TEST_TMPDIR/body"
	wq-send -q -f "$BATS_TEST_TMPDIR/body" q
	run -0 wq-recv q -- false
	run -1 wq-recv q
	wq-recv dlq >"$BATS_TEST_TMPDIR/out"
	run -0 cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/out"
}

@test "--max-receives: an acked message never reaches the dead-letter queue" {
	wq-create --max-receives 1 --dead-letter dlq q
	wq-send -q q a b
	run -0 wq-recv -n 2 q -- true
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "0 0 0 0"
}

@test "--max-receives without --dead-letter is exit 64 and creates nothing" {
	run -64 --separate-stderr wq-create --max-receives 3 q
	assert_err create q 'dead-letter'
	assert_dir_not_exists "$WQ_DIR/q"
	wq-create q
	run -64 --separate-stderr wq-create -u --max-receives 3 q
	assert_err create q
	run -0 stat_get q policy
	jq -e '.max_receives == 0 and .dead_letter == null' <<<"$output"
}

@test "a dead-letter queue missing at claim time is a clear error, the message stays" {
	wq-create --max-receives 1 --dead-letter gone q
	run -0 wq-send q job
	local id=$output
	run -0 wq-recv -v 1 q -- false
	run -66 --separate-stderr wq-recv -v 1 q
	assert_equal "$output" ""
	# The line names the missing queue and how to create it.
	assert_err recv q 'gone'
	[[ $stderr == *"wq-create gone"* ]] || fail "stderr '$stderr'"
	assert_equal "$(stat_get q total)" 1
	# Once the dead-letter queue exists, the message gets there.
	wq-create gone
	wait_for 10 claim_moves_to q gone
	run -0 wq-recv --json gone
	jq -e --arg id "$id" '.id == $id and .body == "job"' <<<"$output"
	assert_equal "$(stat_get q total)" 0
}

# ------------------------------------------------------------ wq-ack --dead

@test "wq-ack --dead moves the leased message now" {
	wq-create --dead-letter dlq q
	run -0 wq-send -a a=1 q job
	local id=$output r
	r=$(lease q)
	run -0 wq-ack --dead q "$r"
	assert_output ""
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "1 0 0 1"
	# The receipt is spent.
	run -1 --separate-stderr wq-ack q "$r"
	assert_err ack q 'stale'
	run -1 wq-ack --dead q "$r"
	assert_equal "$(counts dlq)" "1 0 0 1"
	run -0 wq-recv --json dlq
	jq -e --arg id "$id" '.id == $id and .body == "job" and
		.receive_count == 1 and .attributes == {"a": "1"}' <<<"$output"
}

@test "wq-ack --dead without a dead-letter queue is exit 64, lease unchanged" {
	wq-create q
	wq-send -q q job
	local r before
	r=$(lease q)
	before=$(ls "$WQ_DIR/q/cur")
	run -64 --separate-stderr wq-ack --dead q "$r"
	assert_equal "$output" ""
	assert_err ack q 'no dead-letter queue'
	assert_equal "$(ls "$WQ_DIR/q/cur")" "$before"
	assert_equal "$(counts q)" "0 0 1 1"
	run -0 wq-ack q "$r"
	assert_equal "$(counts q)" "0 0 0 0"
}

# ------------------------------------------------------- exec exit statuses

@test "exec: exit 100 dead-letters at once" {
	wq-create --dead-letter dlq q
	run -0 wq-send -a k=v q job
	local id=$output
	run -0 --separate-stderr wq-recv q -- sh -c 'cat >/dev/null; exit 100'
	assert_err recv q 'dead-lettered'
	assert_equal "$(counts q)" "0 0 0 0"
	run -0 wq-recv --json dlq
	jq -e --arg id "$id" '.id == $id and .body == "job" and
		.receive_count == 1 and .attributes == {"k": "v"}' <<<"$output"
}

@test "exec: exit 100 without a dead-letter queue releases the message" {
	wq-create q
	wq-send -q q job
	run -0 --separate-stderr wq-recv q -- sh -c 'exit 100'
	[[ $stderr == *"no dead-letter queue"* ]] || fail "stderr '$stderr'"
	assert_equal "$(counts q)" "1 0 0 1"
	run -0 wq-recv q -- sh -c 'cat >"$D/body"; echo "$WQ_RECEIVE_COUNT" >"$D/count"'
	assert_equal "$(cat "$D/body") $(cat "$D/count")" "job 2"
}

@test "exec: exit 75 retries without counting the receive" {
	wq-create --max-receives 1 --dead-letter dlq q
	wq-send -q q job
	local round
	for round in 1 2 3; do
		run -0 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 75'
		assert_equal "$(counts q)" "1 0 0 1"
	done
	run -0 cat "$D/counts"
	assert_output $'1\n1\n1'
	assert_equal "$(counts dlq)" "0 0 0 0"
	# Any other failure counts: the next claim is one too many.
	run -0 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 3'
	assert_equal "$(counts q)" "1 0 0 1"
	run -1 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"'
	run -0 cat "$D/counts"
	assert_output $'1\n1\n1\n1'
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "1 0 0 1"
}

@test "exec: a command killed by a signal counts as a receive" {
	wq-create --max-receives 1 --dead-letter dlq q
	wq-send -q q job
	run -0 wq-recv q -- sh -c 'kill -KILL $$'
	assert_equal "$(counts q)" "1 0 0 1"
	run -1 wq-recv q
	assert_equal "$(counts dlq)" "1 0 0 1"
}

# --------------------------------------------------------------- retention

@test "--retention: expired messages are dropped, or dead-lettered, at claim" {
	wq-create --retention 1 q
	wq-create --retention 1 --dead-letter dlq q2
	run -0 stat_get q policy
	jq -e '.retention == 1' <<<"$output"
	local t0 dt id
	t0=$(ms)
	# Due after 2 s, by then older than the retention of 1 s.
	wq-send -q --delay 2 q old
	run -0 wq-send --delay 2 -a k=v q2 old2
	id=$output
	run -1 wq-recv -w 3 q
	dt=$(($(ms) - t0))
	((dt >= 2000)) || fail "wq-recv -w 3 returned after ${dt} ms"
	assert_equal "$(counts q)" "0 0 0 0"
	assert_equal "$(counts dlq)" "0 0 0 0"
	# q2 is due too: the claim moves it to the dead-letter queue.
	run -1 wq-recv q2
	assert_equal "$(counts q2)" "0 0 0 0"
	run -0 wq-recv --json dlq
	jq -e --arg id "$id" '.id == $id and .body == "old2" and
		.attributes == {"k": "v"}' <<<"$output"
	# Younger messages are served.
	wq-send -q q young
	wq-send -q q2 young2
	run -0 wq-recv q
	assert_output young
	run -0 wq-recv q2
	assert_output young2
	assert_equal "$(counts dlq)" "0 0 0 0"
}

# ---------------------------------------------------------------- redrive

@test "wq-redrive moves dead letters back where they were sent" {
	wq-create --max-receives 1 --dead-letter dlq q1
	wq-create --max-receives 1 --dead-letter dlq q2
	run -0 wq-send -p 4 -a who=one q1 'body one'
	local id1=$output
	run -0 wq-send -a who=two q2 'body two'
	local id2=$output
	run -0 wq-recv q1 -- false
	run -0 wq-recv q2 -- false
	run -1 wq-recv q1
	run -1 wq-recv q2
	assert_equal "$(counts dlq)" "2 0 0 2"
	run -0 --separate-stderr wq-redrive dlq
	assert_output 2
	assert_equal "$stderr" ""
	assert_equal "$(counts dlq)" "0 0 0 0"
	assert_equal "$(counts q1)" "1 0 0 1"
	assert_equal "$(counts q2)" "1 0 0 1"
	# Attributes, body and priority kept; receive count starts again.
	run -0 wq-recv -L --json q1
	jq -e --arg id "$id1" '.id == $id and .body == "body one" and
		.priority == 4 and .attributes == {"who": "one"} and
		.receive_count == 1' <<<"$output"
	run -0 wq-recv --json q2
	jq -e --arg id "$id2" '.id == $id and .body == "body two" and
		.attributes == {"who": "two"} and .receive_count == 1' <<<"$output"
}

@test "wq-redrive: the redriven message gets max-receives afresh" {
	wq-create --max-receives 2 --dead-letter dlq q
	wq-send -q q job
	run -0 wq-recv q -- false
	run -0 wq-recv q -- false
	run -1 wq-recv q
	run -0 wq-redrive -q dlq
	assert_output ""
	run -0 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 1'
	run -0 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" >>"$D/counts"; exit 1'
	run -0 cat "$D/counts"
	assert_output $'1\n2'
	run -1 wq-recv q
	assert_equal "$(counts dlq)" "1 0 0 1"
}

@test "wq-redrive --to and -n" {
	wq-create --dead-letter dlq q
	wq-create other
	local b r
	for b in m1 m2 m3; do
		wq-send -q -a b="$b" q "$b"
		r=$(lease q)
		wq-ack --dead q "$r"
	done
	assert_equal "$(counts dlq)" "3 0 0 3"
	run -0 wq-redrive -n 1 dlq
	assert_output 1
	assert_equal "$(counts dlq)" "2 0 0 2"
	assert_equal "$(counts q)" "1 0 0 1"
	run -0 wq-redrive --to other dlq
	assert_output 2
	assert_equal "$(counts dlq)" "0 0 0 0"
	assert_equal "$(counts other)" "2 0 0 2"
	assert_equal "$(counts q)" "1 0 0 1"
	run -0 wq-recv -n 2 --json other
	assert_equal "$(jq -sc '[.[] | [.body, .attributes.b, .receive_count]]' \
		<<<"$output")" '[["m2","m2",1],["m3","m3",1]]'
	run -0 wq-recv q
	assert_output m1
	# Nothing left: 0 moved.
	run -0 wq-redrive dlq
	assert_output 0
}

@test "wq-redrive of a missing queue is exit 66" {
	run -66 --separate-stderr wq-redrive nosuch
	assert_err redrive nosuch 'wq-create nosuch'
	run -64 --separate-stderr wq-redrive --to 'bad name' dlq
	assert_err redrive 'bad name'
}

@test "wq-redrive to a queue that does not exist says which, and moves nothing" {
	wq-create --dead-letter dlq q
	wq-send -q q job
	wq-ack --dead q "$(lease q)"
	run -66 --separate-stderr wq-redrive --to nope dlq
	assert_output ''
	assert_err redrive nope 'no such queue .*wq-create nope'
	assert_equal "$(counts dlq)" "1 0 0 1"
	assert_dir_not_exists "$WQ_DIR/nope"
}

@test "wq-redrive of a message sent to the dead-letter queue itself ends" {
	wq-send -q dlq direct
	run timeout 3 wq-redrive dlq
	((status != 124)) || fail "wq-redrive did not end in 3 s"
	assert_equal "$(stat_get dlq total)" 1
	run -0 wq-recv dlq
	assert_output direct
}
