#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Deduplication (wq-send --dedup ID, wq-create --content-dedup): a repeat
# inside the window is accepted, not enqueued, and answered with the first
# message's id, also when the first sender died between taking the slot
# and committing its message.  See lib/dedup.c.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	D="$BATS_TEST_TMPDIR/d"
	mkdir -p "$D"
}

# assert_total QUEUE N: N messages in QUEUE in all, and none left in tmp/.
assert_total() {
	assert_equal "$(stat_get "$1" total)" "$2"
	assert_equal "$(nfiles "$(queue_path "$1")/tmp")" 0
}

# assert_id STRING: STRING is one well-formed message id.
assert_id() {
	[[ $1 =~ $ID_RE ]] || fail "not one message id: '$1'"
}

# slot_key ID: the name of the slot of a deduplication id in dedup/.
slot_key() {
	printf 'id\n%s' "$1" | sha256sum | cut -d ' ' -f 1
}

# crashed_send QUEUE DEDUP-ID BODY DUE-MS [GROUP]: leave the state of a
# sender that died after taking the slot of DEDUP-ID and before renaming
# its message in: the message complete in tmp/ID (as lib/write.c writes
# it), and dedup/KEY -> "EXPIRES,DUE,ENTRY".  Prints ID.
crashed_send() {
	local q=$1 dedup=$2 body=$3 due=$4 group=${5-} dir id now size
	dir=$(queue_path "$q")
	now=$(now_ms)
	id=$(printf '%016x.%x.%x.%08x.%s' "$(now_us)" 99999 0 \
		$((RANDOM * 32768 + RANDOM)) "$(sane_host)")
	{
		printf 'wq 1\nid %s\nsent %s\nqueue %s\nsize %020d\n\n' \
			"$id" "$now" "$q" "${#body}"
		printf '%s' "$body"
	} >"$dir/tmp/$id"
	size=$(stat -c %s "$dir/tmp/$id")
	mkdir -p "$dir/dedup"
	ln -s "$((now + 300000)),$due,80.$id,0,$size,$group" \
		"$dir/dedup/$(slot_key "$dedup")"
	echo "$id"
}

@test "--dedup twice: the same id, one message, the first body" {
	local first
	first=$(send --dedup order-1 q "first body")
	assert_id "$first"
	run -0 --separate-stderr wq-send --dedup order-1 q "second body"
	assert_output "$first"
	assert_equal "$stderr" ""
	assert_total q 1
	assert_equal "$(nready q)" 1
	run -0 wq-recv q
	assert_output "first body"
	run -1 wq-recv q
}

@test "a repeat after the first was received and acked prints the first id and enqueues nothing" {
	local first
	first=$(send --dedup job-7 q one)
	run -0 wq-recv -L --json q
	assert_equal "$(jq -r .id <<<"$output")" "$first"
	run -0 wq-ack q "$(jq -r .receipt <<<"$output")"
	assert_total q 0
	run -0 wq-send --dedup job-7 q again
	assert_output "$first"
	# Also from a file and from standard input.
	printf 'again' >"$D/body"
	run -0 wq-send --dedup job-7 -f "$D/body" q
	assert_output "$first"
	run -0 wq-send --dedup job-7 q <"$D/body"
	assert_output "$first"
	assert_total q 0
	run -1 wq-recv q
}

@test "after the dedup window a repeat is enqueued with a new id" {
	wq-create --dedup-window 1 w
	local t0 first
	t0=$(now_ms)
	first=$(send --dedup k w one)
	assert_id "$first"
	# Repeat until a send is enqueued; inside the window each repeat is
	# answered with the first id.
	LAST=$first
	repeat() {
		LAST=$(send --dedup k w two) || return 2
		[ "$LAST" != "$first" ]
	}
	wait_for 5 repeat
	local t1
	t1=$(now_ms)
	# The new message has a window of its own.
	run -0 wq-send --dedup k w three
	assert_output "$LAST"
	assert_id "$LAST"
	((t1 - t0 >= 1000)) || fail "enqueued again after $((t1 - t0)) ms, inside the 1 s window"
	# Every repeat inside the window was not enqueued: two messages.
	assert_total w 2
	run -0 wq-recv -n 5 -l w
	assert_output $'one\ntwo'
}

@test "different dedup ids both enqueue" {
	local a b
	a=$(send --dedup a q same)
	b=$(send --dedup b q same)
	assert_id "$a"
	assert_id "$b"
	[ "$a" != "$b" ] || fail "two ids gave one message $a"
	assert_total q 2
	run -0 wq-recv -n 5 -l q
	assert_output $'same\nsame'
}

@test "--dedup names one message: two BODY args, -l, -0 or two -f are usage errors" {
	printf x >"$D/a"
	printf y >"$D/b"
	run -64 --separate-stderr wq-send --dedup k q one two
	assert_output ""
	assert_err send q
	run -64 --separate-stderr wq-send --dedup k -l q <<<$'one\ntwo'
	assert_output ""
	assert_err send q
	run -64 --separate-stderr wq-send --dedup k -0 q < <(printf 'a\0b\0')
	assert_output ""
	assert_err send q
	run -64 --separate-stderr wq-send --dedup k -f "$D/a" -f "$D/b" q
	assert_output ""
	assert_err send q
	assert_total q 0
	[ ! -e "$(qdir q)/dedup" ] || assert_equal "$(find "$(qdir q)/dedup" -type l | wc -l)" 0
	# The id was not taken: a valid send with it is enqueued.
	run -0 wq-send --dedup k q one
	assert_total q 1
}

@test "an invalid dedup id is a usage error" {
	local long
	long=$(printf 'k%.0s' $(seq 129))
	run -64 --separate-stderr wq-send --dedup '' q x
	assert_err send q 'deduplication id'
	run -64 --separate-stderr wq-send --dedup "$long" q x
	assert_err send q 'deduplication id'
	run -64 --separate-stderr wq-send --dedup $'a\nb' q x
	assert_err send q 'deduplication id'
	assert_total q 0
	run -0 wq-send --dedup "${long:1}" q x
	assert_total q 1
}

@test "8 senders racing with one dedup id: one message, one id for all" {
	local i pids=() first
	for i in 1 2 3 4 5 6 7 8; do
		wq-send --dedup race q "body $i" >"$D/id.$i" 2>"$D/err.$i" 3>&- &
		pids+=("$!")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || fail "sender $((i + 1)) failed: $(cat "$D/err.$((i + 1))")"
	done
	first=$(cat "$D/id.1")
	assert_id "$first"
	assert_equal "$(cat "$D"/id.* | sort -u)" "$first"
	assert_total q 1
	run -0 wq-recv --json q
	assert_equal "$(jq -r .id <<<"$output")" "$first"
}

@test "--content-dedup: identical bodies enqueue once, by any way of sending" {
	wq-create --content-dedup c
	local first other
	run -0 wq-send c same same other
	assert_equal "${#lines[@]}" 3
	first=${lines[0]}
	other=${lines[2]}
	assert_id "$first"
	assert_id "$other"
	assert_equal "${lines[1]}" "$first"
	[ "$other" != "$first" ]
	printf same >"$D/same"
	run -0 wq-send -f "$D/same" c
	assert_output "$first"
	run -0 wq-send c <"$D/same"
	assert_output "$first"
	run -0 wq-send -l c <<<$'same\nnew\nother\nnew'
	assert_equal "${#lines[@]}" 4
	assert_equal "${lines[0]}" "$first"
	assert_equal "${lines[2]}" "$other"
	assert_equal "${lines[3]}" "${lines[1]}"
	assert_id "${lines[1]}"
	[ "${lines[1]}" != "$first" ] && [ "${lines[1]}" != "$other" ]
	assert_total c 3
	run -0 wq-recv -n 10 -l c
	assert_output $'same\nother\nnew'
}

@test "--content-dedup: bodies with NUL bytes, and the empty body" {
	wq-create --content-dedup c
	printf 'a\0b' >"$D/n1"
	printf 'a\0b' >"$D/n2"
	printf 'a\0c' >"$D/n3"
	: >"$D/empty"
	run -0 wq-send -f "$D/n1" -f "$D/n2" -f "$D/n3" -f "$D/empty" c
	local ids=("${lines[@]}")
	assert_equal "${#ids[@]}" 4
	assert_equal "${ids[1]}" "${ids[0]}"
	[ "${ids[2]}" != "${ids[0]}" ] && [ "${ids[3]}" != "${ids[0]}" ] &&
		[ "${ids[3]}" != "${ids[2]}" ]
	run -0 wq-send c ''
	assert_output "${ids[3]}"
	run -0 wq-send c <"$D/n2"
	assert_output "${ids[0]}"
	assert_total c 3
	wq-recv -n 5 -0 c >"$D/out"
	printf 'a\0b\0a\0c\0\0' >"$D/want"
	run -0 cmp "$D/want" "$D/out"
}

@test "--content-dedup: a dedup id never matches a body" {
	wq-create --content-dedup c
	local a b
	a=$(send --dedup same c x)
	b=$(send c same)
	[ "$a" != "$b" ] || fail "the id 'same' matched the body 'same'"
	assert_total c 2
}

@test "crash between slot and rename: a repeat prints the first id and commits the first message" {
	local first
	first=$(crashed_send q crash-1 "first body" "$(now_ms)")
	run -0 --separate-stderr wq-send --dedup crash-1 q "second body"
	assert_output "$first"
	assert_equal "$stderr" ""
	assert_total q 1
	run -0 wq-recv --json q
	assert_equal "$(jq -r .id <<<"$output")" "$first"
	assert_equal "$(jq -r .body <<<"$output")" "first body"
	assert_total q 0
}

@test "crash between slot and rename on a FIFO queue: the first message is committed in its group" {
	wq-create --fifo f
	send --group g f before >/dev/null
	local first
	first=$(crashed_send f crash-2 "first body" "$(now_ms)" g)
	run -0 wq-send --group g --dedup crash-2 f "second body"
	assert_output "$first"
	run -0 wq-recv -n 5 --json f
	assert_equal "$(jq -r .body <<<"$output" | paste -sd '|')" "before|first body"
	assert_equal "$(jq -r .group <<<"$output" | sort -u)" g
	assert_total f 0
}

@test "crash between slot and rename of a delayed message: committed as delayed" {
	local first due t1
	due=$(($(now_ms) + 3000))
	first=$(crashed_send q crash-3 "later" "$due")
	run -0 wq-send --dedup crash-3 q again
	assert_output "$first"
	assert_equal "$(nfiles "$(qdir q)/tmp")" 0
	assert_equal "$(stat_get q delayed)" 1
	run -0 wq-recv -w 10 --json q
	t1=$(now_ms)
	assert_equal "$(jq -r .id <<<"$output")" "$first"
	assert_equal "$(jq -r .body <<<"$output")" later
	((t1 >= due)) || fail "delivered $((due - t1)) ms before it was due"
}

@test "crash between slot and rename on a topic: every subscriber gets the first message" {
	wq-create s1 s2
	wq-create --fanout s1,s2 t
	local first s
	first=$(crashed_send t crash-4 "to all" "$(now_ms)")
	run -0 wq-send --dedup crash-4 t again
	assert_output "$first"
	assert_equal "$(nfiles "$(qdir t)/tmp")" 0
	for s in s1 s2; do
		run -0 wq-recv --json "$s"
		assert_equal "$(jq -r .id <<<"$output")" "$first"
		assert_equal "$(jq -r .body <<<"$output")" "to all"
		run -1 wq-recv "$s"
	done
}
