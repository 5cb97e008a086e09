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

# traced ARGS...: run wq-send under strace, stdout in $OUT.  Strings are
# shown up to $STRSIZE bytes (256 if not set).
traced() {
	strace -f -qq -y -s "${STRSIZE:-256}" -o "$TRACE" \
		-e trace=fsync,fdatasync,syncfs,rename,renameat,renameat2,write,mkdir,mkdirat \
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

# A message is renamed from tmp/ into a leaf bucket below new/, and it is
# that leaf which is fsynced (with the directories above it, up to new/,
# when they had to be made).
# LEAF_SYNC: the fsync of any leaf bucket of q.
LEAF_SYNC="fsync\\([0-9]+<[^>]*/q/new/$LEAF_RE>\\)"

# rename_re ID [COUNT]: the rename of tmp/ID to 80.ID,COUNT,SIZE, (COUNT 0
# if not given, any SIZE, no GROUP) in a leaf bucket below new/, whether
# the new/ fd and a relative path (shown with strace -y) or a whole path.
rename_re() {
	local eid name
	eid=$(re_escape "$1")
	name="80\\.$eid,${2:-0},[0-9]+,"
	echo "rename.*/q/tmp/$eid\"?, \"[^\"]*/q/new/$LEAF_RE/$name\"|rename.*<[^>]*/q/tmp>, \"$eid\", [0-9]+<[^>]*/q/new>, \"$LEAF_RE/$name\""
}

# RENAMED: a rename that succeeded (one that failed because the bucket was
# not there yet is retried once the bucket is made).
RENAMED='rename.* = 0$'

# leaf_of ID: the leaf bucket (relative to new/) tmp/ID was renamed into.
leaf_of() {
	grep -E -- "$(rename_re "$1")" "$TRACE" | grep -E -- "$RENAMED" |
		tail -n 1 | grep -oE "$LEAF_RE/80\\.[^\"]+\"" | sed 's|/[^/]*$||'
}

# leaf_sync_re ID: the fsync of the leaf bucket tmp/ID was renamed into.
leaf_sync_re() {
	local leaf
	leaf=$(leaf_of "$1")
	[ -n "$leaf" ] || fail "no rename of $1 into a leaf bucket in:$(printf '\n')$(cat "$TRACE")" || return 1
	echo "fsync\\([0-9]+<[^>]*/q/new/$(re_escape "$leaf")>\\)"
}

# first_after LINE REGEX: the first line after LINE matching REGEX.
first_after() {
	grep -nE -- "$2" "$TRACE" | awk -F: -v n="$1" '$1 > n { print $1; exit }'
}

# assert_synced_before_printed ID: tmp/ID was renamed into a leaf bucket,
# that leaf was fsynced after the rename, and only then the id printed.
assert_synced_before_printed() {
	local r re s w
	r=$(first "($(rename_re "$1")).* = 0$")
	[ -n "$r" ] || fail "no rename of $1 into a leaf bucket in:$(printf '\n')$(cat "$TRACE")" || return 1
	re=$(leaf_sync_re "$1") || return 1
	s=$(first_after "$r" "$re")
	w=$(first "write\\(1<.*$(re_escape "$1")")
	before "$r" "$s" || return 1
	before "$s" "$w" || return 1
}

# assert_made_dirs_synced: every bucket directory made under new/ was
# synced into its parent (the fsync of the parent, after the mkdir) before
# the first id after that mkdir was printed.
assert_made_dirs_synced() {
	local line rel parent s w
	[ "$(count 'mkdir.* = 0$')" -eq "$(count 'mkdirat\([0-9]+<[^>]*/q/new>, ".* = 0$')" ] ||
		fail "a directory made otherwise than relative to new/:$(printf '\n')$(cat "$TRACE")" || return 1
	while IFS=: read -r line rel; do
		rel=${rel#*/q/new>, \"}
		rel=${rel%%\"*}
		parent=$(dirname "new/$rel")
		s=$(first_after "$line" "fsync\\([0-9]+<[^>]*/q/$(re_escape "$parent")>\\)")
		w=$(first_after "$line" 'write\(1<')
		before "$s" "$w" || return 1
	done < <(grep -nE 'mkdirat\([0-9]+<[^>]*/q/new>, ".*\) = 0$' "$TRACE")
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
	rename=$(first "($(rename_re "$id")).* = 0$")
	dsync=$(first_after "$rename" "$(leaf_sync_re "$id")")
	[ -n "$dsync" ] || fail "no fsync of the leaf of $id after its rename"
	wr=$(first "write\\(1<.*$eid")
	before "$fsync_file" "$rename"
	before "$rename" "$dsync"
	before "$dsync" "$wr"
	# Nothing reaches stdout before the directory is synced.
	before "$dsync" "$(first 'write\(1<')"
	# The queue was empty: the bucket directories were made, and each one
	# is synced into its parent, up to new/, before the id is printed.
	assert_equal "$(count 'mkdir.* = 0$')" 6
	assert_made_dirs_synced
	assert_ready q "80.$id,0"
	# The rename gave the message its final name, with the SIZE of the
	# file in it (assert_ready checked that SIZE).
	local name
	name=$(basename "$(ready_file q "80.$id,0")")
	grep -E -- "$RENAMED" "$TRACE" | grep -qF "/$name\"" ||
		fail "no rename to $name in:$(printf '\n')$(cat "$TRACE")"
}

@test "--sync always with several BODY arguments: every id after its sync" {
	wq-create q
	traced q a b c
	assert_equal "$(wc -l <"$OUT")" 3
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 3
	local id
	while read -r id; do
		assert_synced_before_printed "$id"
	done <"$OUT"
	assert_made_dirs_synced
	before "$(first "$LEAF_SYNC")" "$(first 'write\(1<')"
	before "$(last 'rename')" "$(last "$LEAF_SYNC")"
	before "$(last "$LEAF_SYNC")" "$(last 'write\(1<')"
}

@test "--sync always, -l stream: each file synced, renames, one dir fsync, ids" {
	wq-create q
	printf 'a\nb\nc\n' >"$IN"
	traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 3
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 3
	assert_equal "$(count "$RENAMED")" 3
	assert_equal "$(count "$LEAF_SYNC")" 1
	before "$(last "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" "$(first 'rename')"
	before "$(last 'rename')" "$(first "$LEAF_SYNC")"
	before "$(first "$LEAF_SYNC")" "$(first 'write\(1<')"
	local id
	while read -r id; do
		assert_synced_before_printed "$id"
	done <"$OUT"
	assert_made_dirs_synced
}

@test "--sync batch, -l stream: one syncfs, renames, one dir fsync, ids" {
	wq-create --sync batch q
	printf 'a\nb\nc\n' >"$IN"
	traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 3
	assert_equal "$(count 'syncfs\(')" 1
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 0
	assert_equal "$(count "$RENAMED")" 3
	assert_equal "$(count "$LEAF_SYNC")" 1
	before "$(first 'syncfs\(')" "$(first 'rename')"
	before "$(last 'rename')" "$(first "$LEAF_SYNC")"
	before "$(first "$LEAF_SYNC")" "$(first 'write\(1<')"
	local id
	while read -r id; do
		assert_synced_before_printed "$id"
	done <"$OUT"
	assert_made_dirs_synced
}

@test "--sync batch, one message: synced before rename, dir fsync before id" {
	wq-create --sync batch q
	traced q hello
	local s
	s=$(first '(syncfs|fdatasync|fsync)\(')
	before "$s" "$(first 'rename')"
	before "$(first 'rename')" "$(first "$LEAF_SYNC")"
	before "$(first "$LEAF_SYNC")" "$(first 'write\(1<')"
	assert_synced_before_printed "$(cat "$OUT")"
	assert_made_dirs_synced
}

@test "--sync always, a long -l stream commits in groups of at most 1000" {
	wq-create q
	seq 1 1100 >"$IN"
	# Long strings, so that every printed id shows in the trace.
	STRSIZE=65536 traced -l q <"$IN"
	assert_equal "$(wc -l <"$OUT")" 1100
	local n
	n=$(count "$LEAF_SYNC")
	((n >= 2)) || fail "$n directory syncs for 1100 messages"
	((n < 100)) || fail "$n directory syncs for 1100 messages"
	assert_equal "$(count "(fdatasync|fsync)\\([0-9]+<[^>]*/q/tmp/")" 1100
	# Every id is printed after the directory sync that covers it.
	before "$(first "$LEAF_SYNC")" "$(first 'write\(1<')"
	local id
	for id in $(sed -n '1p;1000p;1001p;1100p' "$OUT"); do
		assert_synced_before_printed "$id"
	done
	assert_made_dirs_synced
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
	assert_equal "$(count "$RENAMED")" 2
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

@test "a message being written whose mtime looks ancient (an NFSv4 exclusive create) is kept" {
	# Until the client sets the times, the file's mtime holds the create
	# verifier: any time at all.  The time in its id says it is new.
	wq-create q
	local q id
	q=$(qdir q)
	id=$(printf '%016x.1.1.00000000.host' "$(( $(now_ms) * 1000 ))")
	printf 'wq 1\n' >"$q/tmp/$id"
	touch -d '@1000' "$q/tmp/$id"
	printf 'wq 1\n' >"$q/tmp/$id.copy.0000"
	touch -d '@1000' "$q/tmp/$id.copy.0000"
	run -0 wq-stat q
	run -1 wq-recv q
	assert_file_exists "$q/tmp/$id"
	assert_file_exists "$q/tmp/$id.copy.0000"
	run -0 wq-fsck -n q
	assert_output ""
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
	# Named with the file's real SIZE: only its header says it is torn.
	printf 'wq 1\nid %s\nsent 1\nsize 10\n\nabc' "$id" >"$IN"
	put_ready q 1 "$IN" "80.$id,0" >/dev/null
	assert_ready q "80.$id,0"
	run -0 wq-send q good
	run -0 wq-recv -n 2 -l q
	assert_output good
	run -1 wq-recv --peek q
	refute_output --partial abc
}

@test "a torn message alone gives exit 1" {
	wq-create q
	local id=0000000000000001.1.1.00000000.host
	printf 'wq 1\nid %s\nsent 1\nsize 10\n\nabcdefghijklmnop' "$id" >"$IN"
	put_ready q 1 "$IN" "80.$id,0" >/dev/null
	assert_ready q "80.$id,0"
	run -1 wq-recv q
	refute_output --partial abc
	run -1 wq-recv -L --json q
}

@test "a well-formed hand-written message is delivered" {
	wq-create q
	local id t
	t=$(now_ms)
	id=$(printf '%016x.1.1.00000000.otherhost' $((t * 1000)))
	printf 'wq 1\nid %s\nsent %s\nsize 3\n\nabc' "$id" "$t" >"$IN"
	put_ready q $((t * 1000)) "$IN" "80.$id,0" >/dev/null
	assert_ready q "80.$id,0"
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
