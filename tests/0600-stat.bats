#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-stat: table, JSON, and never reading bodies.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
}

# stat_age QUEUE: the age field of the JSON record, whatever its name.
stat_age() {
	wq-stat --json "$1" | jq -rs '[.[] | .. | objects | select(has("ready"))][0]
		| [to_entries[] | select(.key | test("age")) | .value][0]'
}

# file_bytes QUEUE: the size of every message file in new/ and cur/.
file_bytes() {
	find "$(qdir "$1")/new" "$(qdir "$1")/cur" -type f -printf '%s\n' |
		awk '{ n += $1 } END { print n + 0 }'
}

# opens_message_file TRACE: print the opens in an strace -y log of anything
# below new/ or cur/ but the bucket directories of new/ (names of hex digits)
# and names starting with a dot; status 1 if there are none.
opens_message_file() {
	grep -E '(/(new|cur)(/[^>]*)?>, "[^.]|/(new|cur)/[^"]+")' "$1" |
		grep -vE '(/new(/[0-9a-f]+)*>, "[0-9a-f]+(/[0-9a-f]+)*"|/new(/[0-9a-f]+)+")'
}

# make_state: 4 messages: 2 ready, 1 in flight, 1 delayed.
make_state() {
	wq-send q a bb ccc dddd >/dev/null
	wq-recv -L q >/dev/null
	local r
	r=$(wq-recv -L q | head -n 1)
	wq-ack --release --delay 600 q "$r"
}

@test "the table has the header and one row per queue" {
	run -0 wq-create other
	run -0 wq-send other x
	run -0 wq-stat
	assert_equal "$(echo "${lines[0]}" | tr -s ' \t' ' ' | sed 's/ $//')" \
		"QUEUE READY DELAYED INFLIGHT TOTAL AGE BYTES POLICY"
	assert_equal "${#lines[@]}" 3
	assert_line --regexp '^other[[:space:]]+1[[:space:]]+0[[:space:]]+0[[:space:]]+1[[:space:]]'
	assert_line --regexp '^q[[:space:]]+0[[:space:]]+0[[:space:]]+0[[:space:]]+0[[:space:]]'
}

@test "the table's POLICY column shows the queue's policy" {
	run -0 wq-create --visibility 45 --sync batch p
	run -0 wq-stat p
	assert_line -n 1 --regexp '^p[[:space:]].*45'
	assert_line -n 1 --regexp '^p[[:space:]].*batch'
}

@test "the table shows ready, delayed, in flight and total" {
	make_state
	run -0 wq-stat q
	assert_equal "${#lines[@]}" 2
	assert_line -n 1 --regexp '^q[[:space:]]+2[[:space:]]+1[[:space:]]+1[[:space:]]+4[[:space:]]'
	local bytes
	bytes=$(file_bytes q)
	assert_line -n 1 --regexp "[[:space:]]$bytes[[:space:]]"
}

@test "--json gives the counts for a known state" {
	make_state
	run -0 wq-stat --json q
	assert_stat q 2 1 1
	assert_equal "$(stat_get q total)" 4
	assert_equal "$(stat_get q bytes)" "$(file_bytes q)"
	local age
	age=$(stat_age q)
	[[ $age =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "age '$age' is not a number"
}

@test "--json of an empty queue" {
	assert_stat q 0 0 0
	assert_equal "$(stat_get q total)" 0
	assert_equal "$(stat_get q bytes)" 0
}

@test "--json lists every queue without QUEUE" {
	run -0 wq-create b a
	run -0 wq-stat --json
	run -0 jq -rs '[.[] | .. | objects | select(has("ready")) | (.queue // .name)] | sort | join(" ")' <<<"$output"
	assert_output "a b q"
}

@test "stat of named queues shows only those" {
	run -0 wq-create a b
	run -0 wq-stat a q
	assert_equal "${#lines[@]}" 3
	refute_line --regexp '^b[[:space:]]'
	run -0 wq-stat --json b
	run -0 jq -rs '[.[] | .. | objects | select(has("ready"))] | length' <<<"$output"
	assert_output 1
}

@test "stat of a missing queue is 66" {
	run -66 --separate-stderr wq-stat nope
	assert_err stat nope 'wq-create'
	run -66 --separate-stderr wq-stat --json nope
	assert_err stat nope
}

@test "an expired lease counts as ready" {
	run -0 wq-send q x
	run -0 wq-recv -L -v 1 q
	assert_stat q 0 0 1
	wait_for 6 stat_is q ready 1
	assert_stat q 1 0 0
	assert_equal "$(stat_get q total)" 1
}

@test "a due delayed message counts as ready" {
	run -0 wq-send q x
	local r
	r=$(wq-recv -L q | head -n 1)
	run -0 wq-ack --release --delay 1 q "$r"
	assert_stat q 0 1 0
	wait_for 6 stat_is q ready 1
	assert_stat q 1 0 0
}

@test "the age is that of the oldest ready message, from its id" {
	# A message written by hand in the documented format, sent an hour ago.
	local t id f body=old
	t=$(($(now_ms) - 3600000))
	id=$(printf '%016x.1.1.00000000.otherhost' $((t * 1000)))
	f="$BATS_TEST_TMPDIR/msg"
	printf 'wq 1\nid %s\nsent %s\nqueue q\nsize %s\n\n%s' "$id" "$t" ${#body} "$body" >"$f"
	# It has been ready since it was sent: in the bucket of that time,
	# named 80.ID,0,SIZE, with the size of the file.
	f=$(put_ready q $((t * 1000)) "$f" "80.$id,0")
	assert_ready q "80.$id,0"
	run -0 wq-send q young
	local age
	age=$(stat_age q)
	[[ $age =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "age '$age' is not a number"
	age=${age%.*}
	((age >= 3590 && age <= 3700)) || ((age >= 3590000 && age <= 3700000)) ||
		fail "age $age is not an hour"
	run -0 wq-stat q
	assert_line -n 1 --regexp '^q[[:space:]]+2[[:space:]]'
	# And the hand-made message is served first.
	run -0 wq-recv q
	assert_output old
}

@test "wq-stat never opens a message file" {
	make_state
	local trace="$BATS_TEST_TMPDIR/trace"
	# With -y the directory fd is shown, so opens relative to new/, to a
	# bucket below it, or to cur/ are visible as well as absolute ones.
	run -0 strace -f -qq -y -o "$trace" -e trace=open,openat,openat2 \
		wq-stat --json q
	# The trace works: the queue directory and the buckets were opened.
	run -0 grep -E '/q>|/q"' "$trace"
	run -0 grep -E "/q/new/$LEAF_RE>" "$trace"
	run -1 opens_message_file "$trace"
	run -0 strace -f -qq -y -o "$trace" -e trace=open,openat,openat2 wq-stat
	run -1 opens_message_file "$trace"
}

@test "wq-stat works on unreadable message files (non-root)" {
	make_state
	open_spool_to_nobody a+rwX
	# Every message file, in the buckets of new/ and in cur/.
	find "$WQ_DIR/q/new" "$WQ_DIR/q/cur" -mindepth 1 ! -type d \
		-exec chmod 000 {} +
	[ "$(find "$WQ_DIR/q/new" "$WQ_DIR/q/cur" ! -type d | wc -l)" -eq 4 ] ||
		fail "expected 4 message files"
	as_nobody wq-stat --json q >"$BATS_TEST_TMPDIR/json"
	run -0 jq -rs '[.[] | .. | objects | select(has("ready"))][0]
		| "\(.ready) \(.delayed) \(.inflight) \(.total) \(.bytes)"' "$BATS_TEST_TMPDIR/json"
	# The bytes too: they come from the SIZE in each entry's name.
	assert_output "2 1 1 4 $(file_bytes q)"
}
