#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Durability: the order of syncs and renames, the sweep of tmp/, torn files.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	OUT="$BATS_TEST_TMPDIR/out"
	TRACE="$BATS_TEST_TMPDIR/trace"
	IN="$BATS_TEST_TMPDIR/in"
}

# traced ARGS...: run wq-send under strace, stdout in $OUT.
traced() {
	strace -f -qq -y -s 256 -o "$TRACE" \
		-e trace=fsync,fdatasync,syncfs,rename,renameat,renameat2,write \
		wq-send "$@" >"$OUT"
}

# first REGEX / last REGEX / count REGEX: line numbers in the trace.
first() {
	grep -nE -- "$1" "$TRACE" | head -n 1 | cut -d: -f1
}
last() {
	grep -nE -- "$1" "$TRACE" | tail -n 1 | cut -d: -f1
}
count() {
	grep -cE -- "$1" "$TRACE" || true
}

# before A B: line A comes before line B (both exist).
before() {
	[ -n "$1" ] && [ -n "$2" ] && (($1 < $2)) ||
		fail "expected line '$1' before line '$2' in:$(printf '\n')$(cat "$TRACE")"
}

re_escape() {
	sed 's/[].[^$*+?(){}|\\]/\\&/g' <<<"$1"
}

@test "--sync always: file sync, rename into new/, dir fsync, then the id" {
	wq-create --sync always q
	traced q hello
	local id
	id=$(cat "$OUT")
	[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
	local eid fsync_file rename dsync wr
	eid=$(re_escape "$id")
	fsync_file=$(first "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/$eid>\\)")
	rename=$(first "rename.*/tmp/$eid.*80\\.$eid,0|rename.*\"$eid\".*\"80\\.$eid,0\"")
	dsync=$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")
	wr=$(first "write\\(1<.*$eid")
	before "$fsync_file" "$rename"
	before "$rename" "$dsync"
	before "$dsync" "$wr"
	# Nothing reaches stdout before the directory is synced.
	before "$dsync" "$(first 'write\(1<')"
	assert_file_exists "$WQ_DIR/q/new/80.$id,0"
}

@test "--sync always with several BODY arguments: every id after its sync" {
	wq-create q
	traced q a b c
	assert_equal "$(wc -l <"$OUT")" 3
	local dsync
	dsync=$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 3
	before "$(last 'rename')" "$(last "fsync\\([0-9]+<[^>]*/q/new>\\)")"
	before "$dsync" "$(first 'write\(1<')"
	before "$(last "fsync\\([0-9]+<[^>]*/q/new>\\)")" "$(last 'write\(1<')"
}

@test "--sync always, -l stream: each file synced, renames, one dir fsync, ids" {
	wq-create q
	printf 'a\nb\nc\n' >"$IN"
	traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 3
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 3
	assert_equal "$(count 'rename')" 3
	assert_equal "$(count "fsync\\([0-9]+<[^>]*/q/new>\\)")" 1
	before "$(last "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" "$(first 'rename')"
	before "$(last 'rename')" "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")"
	before "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")" "$(first 'write\(1<')"
}

@test "--sync batch, -l stream: one syncfs, renames, one dir fsync, ids" {
	wq-create --sync batch q
	printf 'a\nb\nc\n' >"$IN"
	traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 3
	assert_equal "$(count 'syncfs\(')" 1
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 0
	assert_equal "$(count 'rename')" 3
	assert_equal "$(count "fsync\\([0-9]+<[^>]*/q/new>\\)")" 1
	before "$(first 'syncfs\(')" "$(first 'rename')"
	before "$(last 'rename')" "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")"
	before "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")" "$(first 'write\(1<')"
}

@test "--sync batch, one message: synced before rename, dir fsync before id" {
	wq-create --sync batch q
	traced q hello
	local s
	s=$(first '(syncfs|fdatasync|fsync)\(')
	before "$s" "$(first 'rename')"
	before "$(first 'rename')" "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")"
	before "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")" "$(first 'write\(1<')"
}

@test "--sync always, a long -l stream commits in groups of at most 1000" {
	wq-create q
	seq 1 1100 >"$IN"
	traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 1100
	local n
	n=$(count "fsync\\([0-9]+<[^>]*/q/new>\\)")
	((n >= 2)) || fail "$n directory syncs for 1100 messages"
	((n < 100)) || fail "$n directory syncs for 1100 messages"
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 1100
	# Every id is printed after the directory sync that covers it.
	before "$(first "fsync\\([0-9]+<[^>]*/q/new>\\)")" "$(first 'write\(1<')"
}

@test "--sync none: no fsync at all" {
	wq-create --sync none q
	traced q a b
	printf 'x\ny\n' >"$IN"
	strace -f -qq -y -s 256 -o "$TRACE.l" \
		-e trace=fsync,fdatasync,syncfs,sync,sync_file_range,msync \
		wq-send -l q <"$IN" >/dev/null
	cat "$TRACE.l" >>"$TRACE"
	assert_equal "$(count '(fsync|fdatasync|syncfs|sync|sync_file_range|msync)\(')" 0
	assert_equal "$(count 'rename')" 2
	assert_equal "$(wc -l <"$OUT")" 2
	assert_stat q 4 0 0
}

@test "the message is never visible in new/ before it is complete" {
	wq-create q
	head -c 500000 /dev/urandom >"$IN"
	traced -f "$IN" q
	local id
	id=$(cat "$OUT")
	# All writes to the tmp file happen before the rename.
	before "$(last "write\\([0-9]+<[^>]*/q/tmp/$(re_escape "$id")>")" "$(first 'rename')"
	assert_equal "$(count "write\\([0-9]+<[^>]*/q/new/")" 0
}

@test "a stale tmp/ leftover is removed by wq-stat, a fresh one is kept" {
	wq-create q
	local q
	q=$(qdir q)
	printf 'wq 1\nid x\nsent 1\nsize 5\n\nhal' >"$q/tmp/0000000000000001.1.1.00000000.host"
	touch -d '3 days ago' "$q/tmp/0000000000000001.1.1.00000000.host"
	printf 'wq 1\n' >"$q/tmp/0000000000000002.1.1.00000000.host"
	touch -d '1 hour ago' "$q/tmp/0000000000000002.1.1.00000000.host"
	printf 'wq 1\n' >"$q/tmp/0000000000000003.1.1.00000000.host"
	run -0 wq-stat q
	assert_file_not_exists "$q/tmp/0000000000000001.1.1.00000000.host"
	assert_file_exists "$q/tmp/0000000000000002.1.1.00000000.host"
	assert_file_exists "$q/tmp/0000000000000003.1.1.00000000.host"
	assert_stat q 0 0 0
}

@test "a stale tmp/ leftover is removed by wq-recv, a fresh one is kept" {
	wq-create q
	local q
	q=$(qdir q)
	printf 'wq 1\nid' >"$q/tmp/stale"
	touch -d '3 days ago' "$q/tmp/stale"
	printf 'wq 1\nid' >"$q/tmp/fresh"
	run -1 wq-recv q
	assert_file_not_exists "$q/tmp/stale"
	assert_file_exists "$q/tmp/fresh"
}

@test "a leftover just under 36 hours is kept" {
	wq-create q
	local q
	q=$(qdir q)
	: >"$q/tmp/young"
	touch -d '35 hours ago' "$q/tmp/young"
	: >"$q/tmp/old"
	touch -d '37 hours ago' "$q/tmp/old"
	run -0 wq-stat --json q
	assert_file_exists "$q/tmp/young"
	assert_file_not_exists "$q/tmp/old"
}

@test "messages in tmp/ are never delivered" {
	wq-create q
	local id=0000000000000001.1.1.00000000.host
	printf 'wq 1\nid %s\nsent 1\nsize 3\n\nabc' "$id" >"$(qdir q)/tmp/$id"
	run -1 wq-recv q
	assert_stat q 0 0 0
}

@test "a torn message (size mismatch) in new/ is skipped, never shown" {
	wq-create q
	local id=0000000000000001.1.1.00000000.host
	printf 'wq 1\nid %s\nsent 1\nsize 10\n\nabc' "$id" >"$(qdir q)/new/80.$id,0"
	run -0 wq-send q good
	run -0 wq-recv -n 2 -l q
	assert_output good
	run -1 wq-recv --peek q
	refute_output --partial abc
}

@test "a torn message alone gives exit 1" {
	wq-create q
	local id=0000000000000001.1.1.00000000.host
	printf 'wq 1\nid %s\nsent 1\nsize 10\n\nabcdefghijklmnop' "$id" >"$(qdir q)/new/80.$id,0"
	run -1 wq-recv q
	refute_output --partial abc
	run -1 wq-recv -L --json q
}

@test "a well-formed hand-written message is delivered" {
	wq-create q
	local id t
	t=$(now_ms)
	id=$(printf '%016x.1.1.00000000.otherhost' $((t * 1000)))
	printf 'wq 1\nid %s\nsent %s\nsize 3\n\nabc' "$id" "$t" >"$(qdir q)/new/80.$id,0"
	run -0 wq-recv --json q
	jq -e --arg id "$id" '.id == $id and .body == "abc" and .receive_count == 1' <<<"$output"
}

@test "wq-send killed mid-stream leaves no torn message visible" {
	wq-create q
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	wq-send -l q <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 3>&- &
	local pid=$!
	BG_PIDS+=("$pid")
	exec 5>"$BATS_TEST_TMPDIR/fifo"
	printf 'one\ntwo\n' >&5
	wait_for 5 grep -q . "$OUT"
	printf 'half' >&5
	kill -KILL "$pid"
	exec 5>&-
	wait "$pid" || true
	# Every reported id is a complete message; nothing half-written shows.
	local n
	n=$(wc -l <"$OUT")
	run -0 wq-recv -n 10 -l q
	assert_equal "${#lines[@]}" "$n"
	refute_line half
}

@test "a full disk is 74 and leaves nothing behind" {
	unshare -m true 2>/dev/null || skip "no mount namespaces"
	local mnt="$BATS_TEST_TMPDIR/mnt"
	mkdir "$mnt"
	head -c 300000 /dev/zero >"$IN"
	run -74 --separate-stderr unshare -m sh -c '
		mount -t tmpfs -o size=256k tmpfs "$1" || exit 99
		wq-create -d "$1/s" q || exit 98
		wq-send -d "$1/s" -f "$2" q
		st=$?
		ls -A "$1/s/q/new" "$1/s/q/tmp" "$1/s/q/cur" | grep -v -e "^/" -e "^$" >&2
		exit $st' sh "$mnt" "$IN"
	assert_err send q
	assert_output ""
}
