#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Spool root selection and queue names.

bats_require_minimum_version 1.5.0
load helpers

@test "-d DIR selects the spool root" {
	run -0 wq-create -d "$BATS_TEST_TMPDIR/other" q
	assert_file_exists "$BATS_TEST_TMPDIR/other/q/policy"
	assert_spool_untouched
	run -0 wq-send -d "$BATS_TEST_TMPDIR/other" q hello
	run -0 wq-recv -d "$BATS_TEST_TMPDIR/other" q
	assert_output hello
}

@test "--dir DIR and --dir=DIR select the spool root" {
	run -0 wq-create --dir "$BATS_TEST_TMPDIR/other" q
	assert_file_exists "$BATS_TEST_TMPDIR/other/q/policy"
	run -0 wq-create --dir="$BATS_TEST_TMPDIR/other" r
	assert_file_exists "$BATS_TEST_TMPDIR/other/r/policy"
	run -0 wq-stat --dir "$BATS_TEST_TMPDIR/other" --json q
	assert_spool_untouched
}

@test "-d takes precedence over \$WQ_DIR" {
	run -0 wq-create -d "$BATS_TEST_TMPDIR/other" q
	assert_file_exists "$BATS_TEST_TMPDIR/other/q/policy"
	assert_file_not_exists "$WQ_DIR/q/policy"
}

@test "\$WQ_DIR selects the spool root" {
	run -0 wq-create q
	assert_file_exists "$WQ_DIR/q/policy"
	assert_dir_exists "$WQ_DIR/q/new"
}

@test "\$WQ_DIR takes precedence over \$XDG_DATA_HOME" {
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run -0 wq-create q
	assert_file_exists "$WQ_DIR/q/policy"
	assert_file_not_exists "$XDG_DATA_HOME/wq/q/policy"
}

@test "without \$WQ_DIR the spool is \$XDG_DATA_HOME/wq" {
	unset WQ_DIR
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run -0 wq-create q
	assert_file_exists "$XDG_DATA_HOME/wq/q/policy"
	assert_file_not_exists "$HOME/.local/share/wq/q/policy"
	run -0 wq-send q hi
	run -0 wq-recv q
	assert_output hi
}

@test "without \$WQ_DIR and \$XDG_DATA_HOME the spool is ~/.local/share/wq" {
	unset WQ_DIR XDG_DATA_HOME
	run -0 wq-create q
	assert_file_exists "$HOME/.local/share/wq/q/policy"
	run -0 wq-send q hi
	run -0 wq-recv q
	assert_output hi
}

@test "an empty \$XDG_DATA_HOME falls back to ~/.local/share" {
	unset WQ_DIR
	export XDG_DATA_HOME=
	run -0 wq-create q
	assert_file_exists "$HOME/.local/share/wq/q/policy"
}

@test "valid names are accepted" {
	local n80
	n80=$(printf 'a%.0s' $(seq 80))
	for name in a Z 0 9lives a.b a-b a_b A.b-c_D.9 a.. "$n80"; do
		run -0 wq-create "$name"
		assert_file_exists "$WQ_DIR/$name/policy"
	done
	run -0 wq-send "$n80" body
	run -0 wq-recv "$n80"
	assert_output body
}

@test "invalid names are refused with 64 and nothing is created" {
	local n81 name
	n81=$(printf 'a%.0s' $(seq 81))
	for name in .. . .hidden _a '' "$n81" $'a\nb' $'a\tb' $'a\001b' $'\x7f' \
		'a b' ' a' 'é' 'caf\xc3\xa9' $'caf\xc3\xa9' 'a*' 'a:b' 'a\b'; do
		run -64 --separate-stderr wq-create "$name"
		assert_err_prefix create
		[ -z "$output" ] || fail "stdout not empty for '$name': $output"
		assert_spool_untouched
	done
}

@test "an invalid name in a list creates nothing at all" {
	run -64 --separate-stderr wq-create good '..'
	assert_spool_untouched
}

@test "invalid names are refused with 64 by every command" {
	run -0 wq-create q
	local name
	for name in .. .hidden '' 'a b' $'a\nb'; do
		run -64 --separate-stderr wq-send "$name" body
		assert_err_prefix send
		run -64 --separate-stderr wq-recv "$name"
		assert_err_prefix recv
		run -64 --separate-stderr wq-stat "$name"
		assert_err_prefix stat
		# A well-formed receipt: the name alone is what is refused.
		run -64 --separate-stderr wq-ack "$name" \
			"80.0000000000000001.1.1.00000000.h,1,110,,1,0000000000000000"
		assert_err_prefix ack
		run -64 --separate-stderr wq-rm "$name"
		assert_err_prefix rm
		run -64 --separate-stderr wq-rm -P "$name"
		assert_err_prefix rm
		run -64 --separate-stderr wq-redrive "$name"
		assert_err_prefix redrive
	done
	# Only q is in the spool, and it is still empty.
	run -0 ls -A "$WQ_DIR"
	assert_output q
	assert_equal "$(tree q)" ""
}

@test "the error line names the refused queue" {
	run -64 --separate-stderr wq-create '.hidden'
	assert_err create .hidden
	run -64 --separate-stderr wq-send 'a b' x
	assert_err send 'a b'
}

@test "a QUEUE with a / is a path to a queue directory" {
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	local q="$BATS_TEST_TMPDIR/elsewhere/jobs"
	run -0 wq-create "$q"
	assert_file_exists "$q/policy"
	assert_dir_exists "$q/new"
	assert_spool_untouched
	run -0 wq-send "$q" hello
	assert_equal "$(nready "$q")" 1
	run -0 wq-stat --json "$q"
	run -0 wq-recv "$q"
	assert_output hello
	assert_equal "$(nready "$q")" 0
	assert_spool_untouched
}

@test "a relative path with / is used as is, not under the spool" {
	cd "$BATS_TEST_TMPDIR"
	mkdir here
	run -0 wq-create ./here/q
	assert_file_exists "$BATS_TEST_TMPDIR/here/q/policy"
	run -0 wq-send ./here/q x
	run -0 wq-recv -L ./here/q
	local receipt=${lines[0]}
	run -0 wq-ack ./here/q "$receipt"
	assert_spool_untouched
}

@test "a path to a directory that is not a queue is no such queue (66)" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	run -66 --separate-stderr wq-send "$BATS_TEST_TMPDIR/plain" x
	assert_err send "$BATS_TEST_TMPDIR/plain"
	run -0 ls -A "$BATS_TEST_TMPDIR/plain"
	assert_output ""
}

@test "a spool name component that exists but is no queue is 66" {
	mkdir -p "$WQ_DIR/notaqueue"
	run -66 --separate-stderr wq-recv notaqueue
	assert_err recv notaqueue
}

@test "only wq-create creates the spool root" {
	run -66 --separate-stderr wq-send q x
	assert_err send q 'wq-create'
	run -66 --separate-stderr wq-recv q
	assert_err recv q
	run -66 --separate-stderr wq-stat q
	assert_err stat q
	run -66 --separate-stderr wq-ack q \
		"80.0000000000000001.1.1.00000000.h,1,110,,1,0123456789abcdef"
	assert_err ack q
	run -66 --separate-stderr wq-rm q
	assert_err rm q
	run -66 --separate-stderr wq-rm -P q
	assert_err rm q
	run -66 --separate-stderr wq-redrive q
	assert_err redrive q 'wq-create'
	assert_file_not_exists "$WQ_DIR"
}
