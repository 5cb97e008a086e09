#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-fsck: every problem kind found, -n changes nothing, a repair leaves a
# queue that checks clean, and running beside producers and consumers
# loses nothing.

bats_require_minimum_version 1.5.0
load helpers

# state Q: every entry of the queue with its type, to compare.
state() {
	(cd "$(qdir "$1")" && find . -printf '%p %y %s\n' | LC_ALL=C sort)
}

# broken_queue Q: a queue with good1..good3 and one of each problem.
broken_queue() {
	local q=$1 d leaf far
	wq-create "$q"
	wq-send "$q" good1 good2 good3 >/dev/null
	d=$(qdir "$q")
	leaf=$(dirname "$(find "$d/new" -type f | head -n 1)")
	far=$(($(now_ms) + 3600000))
	echo 'wq 1' >"$leaf/80.0000000000000001.1.00000000.00000000.torn,0,5,"
	ln -s /etc/passwd "$leaf/80.0000000000000001.1.00000000.00000000.lnk,0,5,"
	mkfifo "$leaf/80.0000000000000001.1.00000000.00000000.fifo,0,5,"
	: >"$leaf/"$'stray\nname'
	mkdir "$d/new/zz"
	mkfifo "$d/cur/80.0000000000000001.1.00000000.00000000.cfifo,1,5,,1,0123456789abcdef"
	echo 'wq 1' >"$d/cur/80.0000000000000001.1.00000000.00000000.ctorn,1,5,,1,0123456789abcdef"
	: >"$d/cur/junk"
	: >"$d/tmp/old"
	touch -d '3 days ago' "$d/tmp/old"
	# Not problems: a torn file under a running lease, a fresh tmp/ file.
	echo 'wq 1' >"$d/cur/80.0000000000000001.1.00000000.00000000.held,1,5,,$far,0123456789abcdef"
	: >"$d/tmp/fresh"
}

@test "a clean spool: exit 0, nothing printed" {
	run -0 wq-create q r
	run -0 wq-send q a b
	run -0 wq-recv -L q
	run -0 wq-fsck
	assert_output ""
	run -0 wq-fsck q r
	assert_output ""
}

@test "every problem kind is found; -n changes nothing" {
	broken_queue q
	local before
	before=$(state q)
	run -1 --separate-stderr wq-fsck -n q
	assert_equal "$stderr" ""
	for re in 'torn,0,5,: torn or corrupt message file$' \
		'lnk,0,5,: a symbolic link, not a message$' \
		'fifo,0,5,: not a regular file$' \
		'/stray\\012name: not a message name$' \
		'^q: new/zz: not a bucket name$' \
		'cfifo,1,5,,1,0123456789abcdef: not a regular file$' \
		'ctorn,1,5,,1,0123456789abcdef: torn or corrupt message file$' \
		'^q: cur/junk: not a lease name$' \
		'^q: tmp/old: stale leftover of a writer$'; do
		grep -qE -- "$re" <<<"$output" || fail "no line /$re/ in: $output"
	done
	assert_equal "$(wc -l <<<"$output")" 9
	refute_output --partial held
	refute_output --partial fresh
	assert_equal "$(state q)" "$before"
	run -1 wq-fsck -n -q q
	assert_output ""
}

@test "a repair sets aside by rename, then a second run is clean and the good messages are served" {
	broken_queue q
	run -1 wq-fsck q
	assert_equal "$(grep -c 'moved to corrupt/$' <<<"$output")" 8
	assert_line 'q: tmp/old: stale leftover of a writer: removed'
	run -0 wq-fsck q
	assert_output ""
	local c
	c=$(qdir q)/corrupt
	assert_link_exists "$(echo "$c"/*lnk,0,5,)"
	[ -p "$(echo "$c"/*.fifo,0,5,)" ] || fail "no FIFO in corrupt/"
	assert_file_exists "$(qdir q)/cur/80.0000000000000001.1.00000000.00000000.held,1,5,,"*
	assert_file_exists "$(qdir q)/tmp/fresh"
	run -0 wq-recv -n 10 q
	assert_output good1good2good3
}

@test "a missing cur/ is made; a name taken in corrupt/ is not overwritten" {
	run -0 wq-create q
	local leaf
	run -0 wq-send q a
	leaf=$(dirname "$(find "$(qdir q)/new" -type f | head -n 1)")
	mkdir "$(qdir q)/corrupt"
	echo first >"$(qdir q)/corrupt/80.0000000000000001.1.00000000.00000000.t,0,5,"
	echo 'wq 1' >"$leaf/80.0000000000000001.1.00000000.00000000.t,0,5,"
	rmdir "$(qdir q)/cur"
	run -1 wq-fsck q
	assert_line 'q: cur: missing directory: made'
	assert_equal "$(cat "$(qdir q)/corrupt/80.0000000000000001.1.00000000.00000000.t,0,5,")" first
	assert_equal "$(nfiles "$(qdir q)/corrupt")" 2
	run -0 wq-fsck q
	run -0 wq-recv q
	assert_output a
}

@test "a stale FIFO group lock is broken, a live one kept" {
	run -0 wq-create --fifo q
	run -0 wq-send --group g q a
	run -0 wq-send --group h q b
	mkdir -p "$(qdir q)/lock"
	ln -s "1,0123456789abcdef" "$(qdir q)/lock/g"
	ln -s "$(($(now_ms) + 3600000)),0123456789abcdef" "$(qdir q)/lock/h"
	run -1 wq-fsck -n q
	assert_output 'q: lock/g: stale group lock'
	run -1 wq-fsck q
	assert_output 'q: lock/g: stale group lock: removed'
	assert_link_exists "$(qdir q)/lock/h"
	run -0 wq-fsck q
	run -0 wq-recv -n 2 q
	assert_output a
}

@test "a bad policy is reported and left alone; no queue is 66, a bad name 64" {
	run -0 wq-create q r
	echo garbage >"$(qdir q)/policy"
	run -1 wq-fsck q r
	assert_output 'q: policy: unreadable or corrupt policy (left alone)'
	assert_equal "$(cat "$(qdir q)/policy")" garbage
	run -66 --separate-stderr wq-fsck nope r
	assert_err fsck nope
	run -64 --separate-stderr wq-fsck '..'
	run -64 --separate-stderr wq-fsck -x
}

@test "beside a producer and a consumer, nothing is lost or set aside" {
	run -0 wq-create q
	local n=300
	(for i in $(seq 1 $n); do wq-send -q q "m$i"; done) 3>&- &
	local prod=$!
	BG_PIDS+=("$prod")
	(while :; do wq-recv -0 -w 1 -n 5 q || [ -e "$BATS_TEST_TMPDIR/stop" ] && [ -e "$BATS_TEST_TMPDIR/stop" ] && break; done) \
		>"$BATS_TEST_TMPDIR/got" 3>&- &
	local cons=$!
	BG_PIDS+=("$cons")
	while alive "$prod"; do
		wq-fsck q >>"$BATS_TEST_TMPDIR/fsck" || [ $? -eq 1 ]
	done
	wait "$prod"
	wait_for 30 stat_is q total 0
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$cons" || true
	run -0 wq-recv -n 1000 q </dev/null || true
	tr '\0' '\n' <"$BATS_TEST_TMPDIR/got" | LC_ALL=C sort >"$BATS_TEST_TMPDIR/got.sorted"
	seq 1 $n | sed 's/^/m/' | LC_ALL=C sort >"$BATS_TEST_TMPDIR/want"
	diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got.sorted"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/fsck")" ""
	assert_equal "$(nfiles "$(qdir q)/corrupt")" 0
}
