#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-send: bodies from arguments, stdin, lines, records and files.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	IN="$BATS_TEST_TMPDIR/in"
}

@test "each BODY argument is one message, one id per line" {
	run -0 --separate-stderr wq-send q one two three
	assert_equal "${#lines[@]}" 3
	assert_equal "$stderr" ""
	local id
	for id in "${lines[@]}"; do
		[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
		assert_ready q "80.$id,0"
	done
	assert_equal "$(nready q)" 3
	run -0 wq-recv -n 3 -l q
	assert_equal "$output" $'one\ntwo\nthree'
}

@test "ids are unique, printable, without white space, and sort by send time" {
	run -0 wq-send q $(seq 1 50)
	assert_equal "${#lines[@]}" 50
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 50
	printf '%s\n' "${lines[@]}" | LC_ALL=C sort -c
	run -1 grep '[^[:graph:]]' <<<"$output"
	local last=${lines[49]}
	run -0 wq-send q later
	[[ $output > "$last" ]] || fail "$output sorts before $last"
}

@test "ids of separate runs are unique" {
	local i
	for i in 1 2 3 4 5; do wq-send q "$i"; done >"$BATS_TEST_TMPDIR/ids"
	assert_equal "$(sort -u "$BATS_TEST_TMPDIR/ids" | wc -l)" 5
}

@test "ids contain the sanitised host name" {
	run -0 wq-send q x
	assert_output --regexp "\\.$(sane_host)\$"
}

@test "a host name with odd bytes is sanitised in the id" {
	unshare --uts true 2>/dev/null || skip "no UTS namespaces"
	run -0 unshare --uts sh -c \
		'printf "web 1.ex@mple" >/proc/sys/kernel/hostname && wq-send q x'
	assert_output --regexp '\.web_1_ex_mple$'
	[[ $output =~ $ID_RE ]]
}

@test "a long host name is cut to 64 bytes in the id" {
	unshare --uts true 2>/dev/null || skip "no UTS namespaces"
	local h
	h=$(printf 'h%.0s' $(seq 64))
	run -0 unshare --uts sh -c \
		"printf $h >/proc/sys/kernel/hostname && wq-send q x"
	[[ $output =~ $ID_RE ]] || fail "bad id $output"
	assert_output --regexp "\\.h{1,64}\$"
}

@test "the message file follows the format" {
	run -0 wq-send q "hello world"
	local id=$output f
	# ready_file also checks that the SIZE in the file's name
	# (80.ID,0,SIZE,) is the size of the whole file, header and body.
	f=$(ready_file q "80.$id,0")
	run -0 sed -n 1,6p "$f"
	assert_line -n 0 "wq 1"
	assert_line -n 1 "id $id"
	assert_line -n 2 --regexp '^sent [0-9]{13}$'
	assert_line -n 3 "queue q"
	# BODYBYTES in decimal (a fixed-width, zero-padded field is decimal too).
	assert_line -n 4 --regexp '^size 0*11$'
	# A blank line ends the header, then the body.
	run -0 awk '/^$/ { print NR; exit }' "$f"
	local hdr=$output
	assert_equal "$hdr" 6
	tail -n +"$((hdr + 1))" "$f" >"$BATS_TEST_TMPDIR/body"
	printf 'hello world' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/body"
}

@test "the queue line names the queue, also opened by path; none without a name" {
	run -0 wq-send "$WQ_DIR/q/" x
	local f
	f=$(ready_file q "80.$output,0")
	run -0 grep -c '^queue ' "$f"
	assert_output 1
	run -0 grep -x 'queue q' "$f"
	# A queue directory whose last component is not a valid queue name:
	# the header has no queue line.
	mkdir "$BATS_TEST_TMPDIR/odd"
	run -0 wq-create "$BATS_TEST_TMPDIR/odd/_q"
	run -0 wq-send "$BATS_TEST_TMPDIR/odd/_q" y
	f=$(ready_file "$BATS_TEST_TMPDIR/odd/_q" "80.$output,0")
	run -1 grep '^queue' "$f"
	run -0 sed -n 4p "$f"
	assert_output --regexp '^size 0*1$'
}

@test "the sent time in the file matches the id's time" {
	run -0 wq-send q x
	local id=$output sent t f
	f=$(ready_file q "80.$id,0")
	sent=$(awk '$1 == "sent" { print $2; exit }' "$f")
	t=$((16#${id%%.*} / 1000))
	((sent - t <= 1 && t - sent <= 1)) || fail "sent $sent, id time $t"
	now=$(now_ms)
	((now - sent < 10000 && now >= sent)) || fail "sent $sent, now $now"
}

@test "without BODY the whole of stdin is one message" {
	printf 'line 1\nline 2\n\nline 4' >"$IN"
	run -0 wq-send q <"$IN"
	assert_equal "${#lines[@]}" 1
	wq-recv q >"$BATS_TEST_TMPDIR/out"
	run -0 cmp "$IN" "$BATS_TEST_TMPDIR/out"
}

@test "stdin from a pipe is one message" {
	run -0 bash -c 'printf "a\nb\n" | wq-send q'
	assert_equal "${#lines[@]}" 1
	assert_equal "$(nready q)" 1
}

@test "-l: one message per line" {
	printf 'a\nb b\nc\n' >"$IN"
	run -0 wq-send -l q <"$IN"
	assert_equal "${#lines[@]}" 3
	run -0 wq-recv -n 3 -l q
	assert_output $'a\nb b\nc'
	assert_equal "$(nready q)" 0
}

@test "-l: bodies do not include the newline" {
	printf 'a\nbb\n' >"$IN"
	run -0 wq-send --lines q <"$IN"
	wq-recv -n 2 -0 q >"$BATS_TEST_TMPDIR/out"
	printf 'a\0bb\0' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "-l: a last line without newline is a message" {
	printf 'a\nb' >"$IN"
	run -0 wq-send -l q <"$IN"
	assert_equal "${#lines[@]}" 2
	run -0 wq-recv -n 2 -l q
	assert_output $'a\nb'
}

@test "-l from a pipe, many lines" {
	wq-create --sync none fast
	run -0 bash -c 'seq 1 2500 | wq-send -l fast'
	assert_equal "${#lines[@]}" 2500
	assert_equal "$(nready fast)" 2500
	run -0 wq-recv -n 3 -l fast
	assert_output $'1\n2\n3'
}

@test "-0: one message per NUL-terminated record" {
	printf 'a\nb\0c d\0e\0' >"$IN"
	run -0 wq-send -0 q <"$IN"
	assert_equal "${#lines[@]}" 3
	wq-recv -n 3 -0 q >"$BATS_TEST_TMPDIR/out"
	run -0 cmp "$IN" "$BATS_TEST_TMPDIR/out"
}

@test "--null is -0" {
	printf 'a\0b\0' >"$IN"
	run -0 wq-send --null q <"$IN"
	assert_equal "${#lines[@]}" 2
}

@test "-f FILE: one message per file, repeatable" {
	printf 'first\n' >"$BATS_TEST_TMPDIR/f1"
	printf 'second' >"$BATS_TEST_TMPDIR/f2"
	run -0 wq-send -f "$BATS_TEST_TMPDIR/f1" --file "$BATS_TEST_TMPDIR/f2" q
	assert_equal "${#lines[@]}" 2
	wq-recv q >"$BATS_TEST_TMPDIR/o1"
	wq-recv q >"$BATS_TEST_TMPDIR/o2"
	run -0 cmp "$BATS_TEST_TMPDIR/f1" "$BATS_TEST_TMPDIR/o1"
	run -0 cmp "$BATS_TEST_TMPDIR/f2" "$BATS_TEST_TMPDIR/o2"
}

@test "-q prints nothing but sends" {
	run -0 --separate-stderr wq-send -q q a b
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(nready q)" 2
	printf 'x\ny\n' >"$IN"
	run -0 wq-send --quiet -l q <"$IN"
	assert_output ""
	assert_equal "$(nready q)" 4
}

@test "a missing queue is 66 and the message says to use wq-create" {
	run -66 --separate-stderr wq-send nope body
	assert_err send nope 'wq-create'
	assert_output ""
	assert_file_not_exists "$WQ_DIR/nope"
}

@test "a missing queue from stdin is 66 too" {
	printf 'x\n' >"$IN"
	run -66 --separate-stderr wq-send -l nope <"$IN"
	assert_err send nope 'wq-create'
}

@test "a body over max-size is refused with 65, nothing written" {
	mkfile_size "$IN" 1048577
	run -65 --separate-stderr wq-send -f "$IN" q
	assert_err send q
	assert_output ""
	assert_equal "$(nfiles "$WQ_DIR/q/new")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/cur")" 0
}

@test "a body over max-size on stdin is refused with 65, nothing written" {
	mkfile_size "$IN" 2000000
	run -65 --separate-stderr wq-send q <"$IN"
	assert_err send q
	assert_equal "$(nfiles "$WQ_DIR/q/new")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
}

@test "a body over max-size through a pipe is refused with 65" {
	run -65 --separate-stderr bash -c 'head -c 1048577 /dev/zero | wq-send q'
	assert_equal "$(nfiles "$WQ_DIR/q/new")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
}

@test "a body of exactly max-size is accepted" {
	mkfile_size "$IN" 1048576
	run -0 wq-send -f "$IN" q
	assert_equal "$(nready q)" 1
}

@test "BODY mixed with -l, -0 or -f is a usage error (64), nothing sent" {
	printf 'x\n' >"$IN"
	run -64 --separate-stderr wq-send -l q body <"$IN"
	assert_err_prefix send
	run -64 --separate-stderr wq-send -0 q body <"$IN"
	assert_err_prefix send
	run -64 --separate-stderr wq-send -f "$IN" q body
	assert_err_prefix send
	assert_equal "$(tree q)" ""
}

@test "no QUEUE is a usage error (64)" {
	run -64 --separate-stderr wq-send
	assert_equal "$(tree q)" ""
}

@test "an empty BODY argument is an empty message" {
	run -0 wq-send q ''
	assert_equal "${#lines[@]}" 1
	local f
	f=$(ready_file q "80.$output,0")
	run -0 grep -cE '^size 0+$' "$f"
	# The file is the header alone, and its name says so.
	assert_equal "$(tail -c 2 "$f" | od -An -c | tr -d ' ')" '\n\n'
}

@test "a queue the user may not write to is 77" {
	open_spool_to_nobody a+rX
	run -77 --separate-stderr as_nobody wq-send q body
	assert_err send q
	assert_equal "$(tree q)" ""
}

@test "-l commits what is ready without waiting for the end of input" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	wq-send -l q <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/ids" 3>&- &
	local pid=$!
	BG_PIDS+=("$pid")
	exec 5>"$BATS_TEST_TMPDIR/fifo"
	printf 'first\n' >&5
	# The id is printed, and the message is visible, while input is open.
	wait_for 5 grep -q . "$BATS_TEST_TMPDIR/ids"
	assert_equal "$(nready q)" 1
	printf 'second\n' >&5
	exec 5>&-
	wait "$pid"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/ids")" 2
	run -0 wq-recv -n 2 -l q
	assert_output $'first\nsecond'
}

@test "-0 commits what is ready without waiting for the end of input" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	wq-send -0 q <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/ids" 3>&- &
	local pid=$!
	BG_PIDS+=("$pid")
	exec 5>"$BATS_TEST_TMPDIR/fifo"
	printf 'first\0' >&5
	wait_for 5 grep -q . "$BATS_TEST_TMPDIR/ids"
	exec 5>&-
	wait "$pid"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/ids")" 1
}

@test "-f -: standard input is one of the files" {
	printf 'one' >"$BATS_TEST_TMPDIR/f1"
	run -0 wq-send -f "$BATS_TEST_TMPDIR/f1" -f - q < <(printf 'two\n')
	assert_equal "${#lines[@]}" 2
	wq-recv -n 2 -0 q >"$BATS_TEST_TMPDIR/out"
	printf 'one\0two\n\0' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "-f with a missing file sends nothing, not even the files before it" {
	printf 'one' >"$BATS_TEST_TMPDIR/f1"
	run -64 --separate-stderr wq-send -f "$BATS_TEST_TMPDIR/f1" \
		-f "$BATS_TEST_TMPDIR/nosuch" q
	assert_equal "$output" ""
	assert_err send q 'nosuch'
	assert_equal "$(nready q)" 0
}
