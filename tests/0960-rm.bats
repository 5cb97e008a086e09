#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-rm: deleting queues (rename away, then remove the tree without
# following links), purging their messages, and the remains of removals
# that were interrupted.

bats_require_minimum_version 1.5.0
load helpers

# full_queue QUEUE: a queue (made if missing) holding one ready, one leased
# and one delayed message; the receipt of the lease in RECEIPT.
full_queue() {
	run -0 wq-create -p "$1"
	run -0 wq-send "$1" leased delayed ready
	run -0 wq-recv -L "$1"
	RECEIPT=${lines[0]}
	run -0 wq-recv -L "$1"
	run -0 wq-ack --release --delay 60 "$1" "${lines[0]}"
	assert_stat "$1" 1 1 1
}

# no_remains [DIR]: DIR (the spool root by default) holds no .NAME.rm.*
no_remains() {
	local d=${1:-$WQ_DIR}
	[ -z "$(find "$d" -mindepth 1 -maxdepth 1 -name '.*.rm.*')" ] ||
		fail "remains in $d: $(ls -A "$d")"
}

# outside_dir: a directory outside the spool with one file in it.
outside_dir() {
	OUT="$BATS_TEST_TMPDIR/outside"
	mkdir -p "$OUT/sub"
	echo keep >"$OUT/file"
	echo keep >"$OUT/sub/file"
}

# assert_outside_untouched
assert_outside_untouched() {
	assert_file_exists "$OUT/file"
	assert_file_exists "$OUT/sub/file"
	assert_equal "$(cat "$OUT/file" "$OUT/sub/file")" $'keep\nkeep'
}

@test "a queue with ready, leased and delayed messages is deleted" {
	full_queue q
	run -0 wq-create other
	run -0 --separate-stderr wq-rm q
	assert_output ""
	assert_equal "$stderr" ""
	assert_file_not_exists "$WQ_DIR/q"
	no_remains
	run -0 wq-stat
	refute_line --regexp '^q[[:space:]]'
	assert_line --regexp '^other[[:space:]]'
	run -66 --separate-stderr wq-stat q
	run -66 --separate-stderr wq-send q x
}

@test "a deleted queue can be created again, empty" {
	full_queue q
	run -0 wq-rm q
	run -0 wq-create q
	assert_stat q 0 0 0
	run -1 --separate-stderr wq-ack q "$RECEIPT"
}

@test "several queues in one call; -v says what was removed" {
	run -0 wq-create a b c
	run -0 wq-rm -v a b
	assert_output $'removed queue a\nremoved queue b'
	run -0 wq-rm --verbose c
	assert_output 'removed queue c'
	assert_spool_untouched
}

@test "a missing queue is 66 with a hint to -f, and the others are removed" {
	run -0 wq-create a b
	run -66 --separate-stderr wq-rm a nope b
	assert_err rm nope 'no such queue.*-f'
	assert_file_not_exists "$WQ_DIR/a"
	assert_file_not_exists "$WQ_DIR/b"
}

@test "-f: a missing queue is no error" {
	run -0 wq-create a
	run -0 --separate-stderr wq-rm -f nope a
	assert_equal "$stderr" ""
	assert_file_not_exists "$WQ_DIR/a"
	run -0 wq-rm --force a
	run -0 wq-rm -Pf nope
}

@test "a spool that does not exist holds no queue: 66, or 0 with -f" {
	run -66 --separate-stderr wq-rm q
	assert_err rm q
	run -0 wq-rm -f q
	assert_file_not_exists "$WQ_DIR"
}

@test "an invalid name is 64 and nothing is removed" {
	run -0 wq-create q
	for n in .q 'a b' '' "$(printf 'a\tb')" -q- ..; do
		run -64 --separate-stderr wq-rm q -- "$n"
		assert_err_prefix rm
		assert_file_exists "$WQ_DIR/q/policy"
	done
}

@test "a path to a directory that is not a queue is refused, untouched" {
	local d="$BATS_TEST_TMPDIR/plain"
	mkdir -p "$d/new" "$d/cur"
	echo data >"$d/file"
	run -66 --separate-stderr wq-rm "$d"
	assert_err rm "$d" 'not a queue'
	run -66 --separate-stderr wq-rm -f "$d"
	assert_err rm "$d"
	run -66 --separate-stderr wq-rm -P "$d"
	assert_equal "$(cat "$d/file")" data
	assert_dir_exists "$d/new"
	run -0 ls -A "$BATS_TEST_TMPDIR"
	refute_output --partial '.rm.'
}

@test "a directory of the spool that is not a queue is refused, untouched" {
	mkdir -p "$WQ_DIR/notaqueue"
	echo data >"$WQ_DIR/notaqueue/file"
	run -66 --separate-stderr wq-rm notaqueue
	assert_err rm notaqueue
	assert_equal "$(cat "$WQ_DIR/notaqueue/file")" data
	no_remains
}

@test "a file named like a queue is refused, untouched" {
	mkdir -p "$WQ_DIR"
	echo data >"$WQ_DIR/f"
	run -66 --separate-stderr wq-rm f
	assert_err rm f
	assert_equal "$(cat "$WQ_DIR/f")" data
}

@test "a symbolic link to a queue is refused, the link and the queue kept" {
	run -0 wq-create q
	run -0 wq-send q kept
	ln -s q "$WQ_DIR/link"
	ln -s "$WQ_DIR/q" "$BATS_TEST_TMPDIR/qlink"
	run -66 --separate-stderr wq-rm link
	assert_err rm link
	run -66 --separate-stderr wq-rm "$BATS_TEST_TMPDIR/qlink"
	assert_err rm "$BATS_TEST_TMPDIR/qlink"
	assert_link_exists "$WQ_DIR/link"
	assert_link_exists "$BATS_TEST_TMPDIR/qlink"
	assert_stat q 1 0 0
}

@test "a queue given as a path is removed, also with a trailing slash" {
	local d="$BATS_TEST_TMPDIR/elsewhere"
	mkdir -p "$d"
	run -0 wq-create "$d/q" "$d/r"
	run -0 wq-send "$d/q" x
	run -0 wq-rm "$d/q" "$d/r/"
	run -0 ls -A "$d"
	assert_output ""
	(cd "$d" && wq-create ./s && wq-rm s/)
	run -0 ls -A "$d"
	assert_output ""
}

@test "symbolic links planted in the queue are removed, never followed" {
	outside_dir
	full_queue q
	local leaf
	leaf=$(dirname "$(find "$WQ_DIR/q/new" -type f | head -n 1)")
	ln -s "$OUT" "$WQ_DIR/q/outlink"
	ln -s "$OUT" "$WQ_DIR/q/new/80"/outlink
	ln -s "$OUT" "$leaf/outlink"
	ln -s "$OUT/file" "$leaf/80.filelink,0"
	ln -s "$OUT" "$WQ_DIR/q/cur/outlink"
	ln -s "$OUT/sub" "$WQ_DIR/q/tmp/outlink"
	ln -s "$OUT" "$WQ_DIR/q/new/80/000000"
	run -0 --separate-stderr wq-rm q
	assert_file_not_exists "$WQ_DIR/q"
	no_remains
	assert_outside_untouched
}

@test "foreign files and directories in the queue are removed with it" {
	run -0 wq-create q
	run -0 wq-send q x
	mkdir -p "$WQ_DIR/q/extra/deep/er" "$WQ_DIR/q/corrupt"
	echo x >"$WQ_DIR/q/extra/deep/er/f"
	echo x >"$WQ_DIR/q/corrupt/bad"
	echo x >"$WQ_DIR/q/tmp/.half"
	mkfifo "$WQ_DIR/q/cur/fifo"
	run -0 wq-rm q
	assert_spool_untouched
}

@test "the queue leaves its name in one rename before anything is deleted" {
	full_queue q
	run -0 strace -f -qq -o "$BATS_TEST_TMPDIR/trace" \
		-e trace=rename,renameat,renameat2,unlink,unlinkat,rmdir \
		wq-rm q
	run -0 grep -m 1 -E '^[0-9]+ +(rename|unlink|rmdir)' \
		"$BATS_TEST_TMPDIR/trace"
	assert_output --regexp 'rename.*"q".*"\.q\.rm\.[0-9a-f]{8}"'
	assert_file_not_exists "$WQ_DIR/q"
}

@test "the remains of an interrupted removal are deleted by the next wq-rm" {
	full_queue x
	run -0 wq-create y
	mv "$WQ_DIR/x" "$WQ_DIR/.x.rm.0123abcd"
	# half-deleted: the policy file is kept to the end
	rm -rf "$WQ_DIR/.x.rm.0123abcd/cur"
	mkdir "$WQ_DIR/.z.rm.00000000"
	run -0 wq-stat
	refute_output --partial 'x'
	run -0 --separate-stderr wq-rm y
	assert_equal "$stderr" ""
	assert_spool_untouched
}

@test "the remains are deleted by wq-rm -f of a missing queue too" {
	run -0 wq-create x
	mv "$WQ_DIR/x" "$WQ_DIR/.x.rm.89abcdef"
	run -0 wq-rm -f nope
	assert_spool_untouched
}

@test "names like remains that are not ours are left alone" {
	outside_dir
	mkdir -p "$WQ_DIR/.mine.rm.0123abcd" "$WQ_DIR/.q.rm.nothex00"
	echo data >"$WQ_DIR/.mine.rm.0123abcd/file"
	ln -s "$OUT" "$WQ_DIR/.link.rm.0123abcd"
	echo data >"$WQ_DIR/.file.rm.0123abcd"
	run -0 wq-rm -f nope
	assert_file_exists "$WQ_DIR/.mine.rm.0123abcd/file"
	assert_dir_exists "$WQ_DIR/.q.rm.nothex00"
	assert_link_exists "$WQ_DIR/.link.rm.0123abcd"
	assert_file_exists "$WQ_DIR/.file.rm.0123abcd"
	assert_outside_untouched
}

@test "the remains of a queue given as a path are deleted with its next wq-rm" {
	local d="$BATS_TEST_TMPDIR/elsewhere"
	mkdir -p "$d"
	run -0 wq-create "$d/q"
	cp -a "$d/q" "$d/.q.rm.0000beef"
	run -0 wq-rm "$d/q"
	run -0 ls -A "$d"
	assert_output ""
}

@test "--purge deletes every message and keeps the queue and its policy" {
	run -0 wq-create --visibility 45 q
	cp "$WQ_DIR/q/policy" "$BATS_TEST_TMPDIR/policy"
	full_queue q
	run -0 --separate-stderr wq-rm --purge q
	assert_output ""
	assert_equal "$stderr" ""
	assert_stat q 0 0 0
	assert_equal "$(nready q)" 0
	assert_equal "$(nfiles "$WQ_DIR/q/cur")" 0
	run -0 cmp "$BATS_TEST_TMPDIR/policy" "$WQ_DIR/q/policy"
	# the lease held is stale now
	run -1 --separate-stderr wq-ack q "$RECEIPT"
	# and the queue works
	run -0 wq-send q after
	run -0 wq-recv q
	assert_output after
}

@test "-Pv counts the messages purged" {
	run -0 wq-create q r
	full_queue q
	run -0 wq-rm -Pv q r
	assert_output $'purged 3 messages from q\npurged 0 messages from r'
}

@test "--purge leaves tmp/, corrupt/ and foreign names alone" {
	run -0 wq-create q
	run -0 wq-send q x
	echo half >"$WQ_DIR/q/tmp/writing"
	mkdir -p "$WQ_DIR/q/corrupt"
	echo bad >"$WQ_DIR/q/corrupt/80.x,0"
	echo mine >"$WQ_DIR/q/cur/not-a-message"
	run -0 wq-rm -P q
	assert_file_exists "$WQ_DIR/q/tmp/writing"
	assert_file_exists "$WQ_DIR/q/corrupt/80.x,0"
	assert_file_exists "$WQ_DIR/q/cur/not-a-message"
	assert_stat q 0 0 0
}

@test "--purge of a missing queue is 66, or 0 with -f" {
	run -0 wq-create q
	run -66 --separate-stderr wq-rm -P nope
	assert_err rm nope
	run -0 wq-rm -P -f nope q
}

@test "--purge of a queue given as a path" {
	local d="$BATS_TEST_TMPDIR/elsewhere"
	mkdir -p "$d"
	run -0 wq-create "$d/q"
	run -0 wq-send "$d/q" a b
	run -0 wq-rm -Pv "$d/q"
	assert_output "purged 2 messages from $d/q"
	assert_file_exists "$d/q/policy"
}

@test "a user who may not write to the spool gets 77 and changes nothing" {
	full_queue q
	open_spool_to_nobody a+rX
	local before
	before=$(tree q)
	run -77 --separate-stderr as_nobody wq-rm q
	assert_err rm q 'ermission'
	run -77 --separate-stderr as_nobody wq-rm -P q
	assert_err rm q 'ermission'
	assert_equal "$(tree q)" "$before"
	assert_file_exists "$WQ_DIR/q/policy"
	no_remains
}

@test "bash completes options and queue names for wq-rm" {
	run -0 wq-create alpha beta
	run -0 bash -c '
		source "$1"
		COMP_WORDS=(wq-rm -d "$2" alpha "")
		COMP_CWORD=4
		_wq_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BATS_TEST_DIRNAME/../completions/wq.bash" "$WQ_DIR"
	assert_output $'alpha\nbeta'
	run -0 bash -c '
		source "$1"
		COMP_WORDS=(wq-rm --p)
		COMP_CWORD=1
		_wq_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BATS_TEST_DIRNAME/../completions/wq.bash"
	assert_output --purge
}

@test "no QUEUE is a usage error (64); --help, -V and bad options" {
	run -64 --separate-stderr wq-rm
	run -0 wq-rm --help
	assert_output --regexp '^usage: wq-rm '
	run -0 wq-rm -h
	assert_output --partial '--purge'
	run -64 --separate-stderr wq-rm --no-such-option q
	assert_err_prefix rm
	run -64 --separate-stderr wq-rm -Y q
	run -0 wq-rm -V
	assert_output --regexp '^wq-rm [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 wq-rm --version
	assert_spool_untouched
}
