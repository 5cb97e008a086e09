#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Topics (wq-create --fanout Q1,Q2,...): every message sent to a topic is
# delivered to each subscriber, as hard links where the filesystem allows
# and as copies where it does not; each subscriber acks its copy on its
# own.  See lib/fanout.c and lib/transfer.c.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create s1 s2
	D="$BATS_TEST_TMPDIR/d"
	mkdir -p "$D"
	MOUNTS=()
}

teardown() {
	local m
	common_teardown
	for m in "${MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

# the_file QUEUE ID: the path of the single ready message file of ID in
# QUEUE (a name or a path), or fail.
the_file() {
	ready_file "$1" "80.$2,0" || fail "no ready message $2 in $1"
}

# mount_tmpfs DIR: a fresh tmpfs on DIR (another filesystem than the
# spool's), or skip the test.
mount_tmpfs() {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir -p "$1"
	mount -t tmpfs -o size=16m wqtest "$1" 2>"$D/mount.err" ||
		skip "cannot mount a tmpfs: $(cat "$D/mount.err")"
	MOUNTS+=("$1")
	[ "$(stat -c %d "$1")" != "$(stat -c %d "$WQ_DIR")" ] ||
		skip "the tmpfs is on the spool's device"
}

# assert_nothing_in QUEUE: no message anywhere in QUEUE.
assert_nothing_in() {
	local d
	d=$(queue_path "$1")
	assert_equal "$(nready "$d")" 0
	assert_equal "$(nfiles "$d/cur")" 0
	assert_equal "$(nfiles "$d/tmp")" 0
}

@test "a message sent to a topic is in every subscriber, with the same id, as hard links" {
	wq-create --fanout s1,s2 t
	local id f1 f2
	run -0 --separate-stderr wq-send t "hello subscribers"
	id=$output
	[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
	assert_equal "$stderr" ""
	f1=$(the_file s1 "$id")
	f2=$(the_file s2 "$id")
	# One file, linked into both queues; the topic keeps nothing.
	assert_equal "$(stat -c %h "$f1") $(stat -c %h "$f2")" "2 2"
	assert_equal "$(stat -c %i "$f1")" "$(stat -c %i "$f2")"
	assert_nothing_in t
	assert_stat s1 1 0 0
	assert_stat s2 1 0 0
	run -0 wq-recv --json s1
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" "hello subscribers"
}

@test "subscribers ack independently: an ack in s1 leaves s2's copy" {
	wq-create --fanout s1,s2 t
	local id f2
	id=$(send t "one body")
	f2=$(the_file s2 "$id")
	run -0 wq-recv -L s1
	assert_line -n 1 "one body"
	run -0 wq-ack s1 "${lines[0]}"
	assert_nothing_in s1
	# s2's copy is whole and still there, now the only link.
	assert_file_exists "$f2"
	assert_equal "$(stat -c %h "$f2")" 1
	assert_stat s2 1 0 0
	run -0 wq-recv -L --json s2
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" "one body"
	# A release in s2 does not bring it back to s1.
	run -0 wq-ack --release s2 "$(jq -r .receipt <<<"$output")"
	assert_nothing_in s1
	run -0 wq-recv s2
	assert_output "one body"
	assert_nothing_in s2
}

@test "many messages to a topic: each subscriber gets all, in order" {
	wq-create --fanout s1,s2 t
	run -0 wq-send -l t < <(seq 1 50)
	assert_equal "${#lines[@]}" 50
	local s
	for s in s1 s2; do
		run -0 wq-recv -n 100 -l "$s"
		assert_output "$(seq 1 50)"
	done
	assert_nothing_in t
}

@test "a subscriber given by path and one that is FIFO" {
	wq-create --fifo ff
	wq-create "$BATS_TEST_TMPDIR/elsewhere"
	wq-create --fanout "s1,ff,$BATS_TEST_TMPDIR/elsewhere" t
	local id
	id=$(send t x)
	run -0 wq-recv --json ff
	assert_equal "$(jq -r '[.id, .body, .group] | @tsv' <<<"$output")" "$id	x	default"
	run -0 wq-recv --json "$BATS_TEST_TMPDIR/elsewhere"
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	run -0 wq-recv s1
	assert_output x
}

@test "a priority sent through a topic is kept, except in a FIFO subscriber" {
	wq-create --fifo ff
	wq-create --fanout s1,ff t
	wq-send -q -p 7 t urgent
	run -0 wq-recv --json s1
	assert_equal "$(jq -r .priority <<<"$output")" 7
	run -0 wq-recv --json ff
	assert_equal "$(jq -r '[.body, .priority] | @tsv' <<<"$output")" "urgent	0"
}

@test "a subscriber on another filesystem gets a copy" {
	mount_tmpfs "$BATS_TEST_TMPDIR/mnt"
	local far=$BATS_TEST_TMPDIR/mnt/far id f1 f2
	wq-create "$far"
	wq-create --fanout "s1,$far,s2" t
	run --separate-stderr wq-send t "across filesystems"
	[ "$status" -eq 0 ] || fail "wq-send exited $status: $stderr"
	id=$output
	[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
	f1=$(the_file s1 "$id")
	f2=$(the_file "$far" "$id")
	assert_equal "$(stat -c %i "$f1")" "$(stat -c %i "$(the_file s2 "$id")")"
	assert_equal "$(stat -c %h "$f1")" 2
	assert_equal "$(stat -c %h "$f2")" 1
	run -0 cmp "$f1" "$f2"
	assert_nothing_in t
	assert_equal "$(nfiles "$far/tmp")" 0
	run -0 wq-recv --json "$far"
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" "across filesystems"
	run -0 wq-recv s1
	assert_output "across filesystems"
	run -0 wq-recv s2
	assert_output "across filesystems"
}

@test "a subscriber on another filesystem gets copies of large and binary bodies" {
	mount_tmpfs "$BATS_TEST_TMPDIR/mnt"
	local far=$BATS_TEST_TMPDIR/mnt/far
	wq-create "$far"
	wq-create --fanout "s1,$far" t
	{ allbytes; head -c 300000 /dev/urandom; } >"$D/big"
	run --separate-stderr wq-send -f "$D/big" t
	[ "$status" -eq 0 ] || fail "wq-send exited $status: $stderr"
	wq-recv "$far" >"$D/out"
	run -0 cmp "$D/big" "$D/out"
	wq-recv s1 >"$D/out1"
	run -0 cmp "$D/big" "$D/out1"
}

@test "a missing subscriber: the send fails with a clear error and reports nothing" {
	wq-create --fanout s1,nosuch,s2 t
	run -66 --separate-stderr wq-send t body
	assert_output ""
	assert_err send t 'nosuch'
	assert_nothing_in t
	assert_nothing_in s1
	assert_nothing_in s2
	# Once it exists, sends work.
	wq-create nosuch
	run -0 wq-send t body
	run -0 wq-recv nosuch
	assert_output body
}

@test "a send that fails at one subscriber leaves no message in the others" {
	# The third subscriber is on a read-only filesystem: delivery to it
	# fails after s1 and s2 could have had their links.
	mount_tmpfs "$BATS_TEST_TMPDIR/mnt"
	local ro=$BATS_TEST_TMPDIR/mnt/ro
	wq-create "$ro"
	mount -o remount,ro "$BATS_TEST_TMPDIR/mnt" ||
		skip "cannot remount the tmpfs read-only"
	wq-create --fanout "s1,s2,$ro" t
	run --separate-stderr wq-send t body
	[ "$status" -ne 0 ] || fail "the send succeeded on a read-only subscriber: $output"
	assert_output ""
	assert_err send t
	assert_nothing_in t
	assert_nothing_in s1
	assert_nothing_in s2
}

@test "--delay and --at on a topic are usage errors; nothing is delivered" {
	wq-create --fanout s1,s2 t
	run -64 --separate-stderr wq-send --delay 1 t x
	assert_output ""
	assert_err send t
	run -64 --separate-stderr wq-send --at "@$(($(date +%s) + 60))" t x
	assert_output ""
	assert_err send t
	assert_nothing_in t
	assert_nothing_in s1
	assert_nothing_in s2
}

@test "wq-create --fanout with an empty or invalid name is a usage error" {
	local list
	for list in 'a,,b' ',a' 'a,' ',' 'a,b c' 'a,..' 'a,-b'; do
		run -64 --separate-stderr wq-create --fanout "$list" t
		[ -n "$stderr" ] || fail "no error for --fanout '$list'"
		[ ! -e "$(qdir t)" ] || fail "--fanout '$list' created the topic"
	done
	# Topics cannot be FIFO or have a default delay.
	run -64 --separate-stderr wq-create --fanout s1,s2 --fifo t
	[ ! -e "$(qdir t)" ]
	run -64 --separate-stderr wq-create --fanout s1,s2 --delay 5 t
	[ ! -e "$(qdir t)" ]
	run -0 wq-create --fanout s1,s2 t
}
