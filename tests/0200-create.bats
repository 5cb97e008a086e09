#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-create: queues, policies, the common options.

bats_require_minimum_version 1.5.0
load helpers

# policy_value QUEUE KEY: the value of KEY in QUEUE/policy.
policy_value() {
	awk -v k="$2" 'NR > 1 && $1 == k { print $2 }' "$(qdir "$1")/policy"
}

@test "the first wq-create creates the spool root" {
	assert_file_not_exists "$WQ_DIR"
	run -0 wq-create q
	assert_output ""
	assert_dir_exists "$WQ_DIR"
}

@test "a queue has policy, tmp/, new/ and cur/" {
	run -0 wq-create q
	assert_dir_exists "$WQ_DIR/q/tmp"
	assert_dir_exists "$WQ_DIR/q/new"
	assert_dir_exists "$WQ_DIR/q/cur"
	assert_file_exists "$WQ_DIR/q/policy"
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/new")" 0
	assert_equal "$(nfiles "$WQ_DIR/q/cur")" 0
}

@test "the policy file starts with wq-format 1 and holds the defaults" {
	run -0 wq-create q
	run -0 head -n 1 "$WQ_DIR/q/policy"
	assert_output "wq-format 1"
	assert_equal "$(policy_value q visibility)" 30
	assert_equal "$(policy_value q sync)" always
	assert_equal "$(policy_value q max-size)" 1048576
	assert_equal "$(policy_value q clock-skew)" 1
	assert_equal "$(policy_value q delay)" 0
	assert_equal "$(policy_value q retention)" 0
	assert_equal "$(policy_value q max-receives)" 0
	assert_equal "$(policy_value q max-depth)" 0
	assert_equal "$(policy_value q fifo)" 0
	assert_equal "$(policy_value q compress)" never
	# Every further line is "key value".
	run -0 awk 'NR > 1 && NF != 2' "$WQ_DIR/q/policy"
	assert_output ""
	# Every key is written, each once; dead-letter, fanout and group only
	# when set.
	run -0 awk 'NR > 1 { print $1 }' "$WQ_DIR/q/policy"
	assert_equal "$(LC_ALL=C sort <<<"$output" | paste -sd ' ')" \
		"clock-skew compress dedup dedup-window delay fifo max-depth max-receives max-size mode retention sync visibility"
}

@test "wq-create creates several queues in one call" {
	run -0 wq-create a b c
	for q in a b c; do
		assert_file_exists "$WQ_DIR/$q/policy"
		assert_dir_exists "$WQ_DIR/$q/new"
	done
}

@test "an existing queue is refused with 73 and left as it was" {
	run -0 wq-create --visibility 45 q
	cp "$WQ_DIR/q/policy" "$BATS_TEST_TMPDIR/before"
	run -73 --separate-stderr wq-create q
	assert_err create q
	run -73 --separate-stderr wq-create --visibility 99 q
	assert_err create q
	run -0 cmp "$BATS_TEST_TMPDIR/before" "$WQ_DIR/q/policy"
}

@test "an existing queue keeps its messages when create fails" {
	run -0 wq-create q
	run -0 wq-send q kept
	run -73 --separate-stderr wq-create q
	assert_stat q 1 0 0
}

@test "-p: no error if the queue exists, policy unchanged" {
	run -0 wq-create --visibility 45 q
	cp "$WQ_DIR/q/policy" "$BATS_TEST_TMPDIR/before"
	run -0 wq-create -p q
	run -0 wq-create --parents q
	run -0 cmp "$BATS_TEST_TMPDIR/before" "$WQ_DIR/q/policy"
}

@test "-p creates queues that do not exist" {
	run -0 wq-create q
	run -0 wq-create -p q r
	assert_file_exists "$WQ_DIR/r/policy"
}

@test "-u changes only the options given" {
	run -0 wq-create --visibility 45 --sync batch q
	run -0 wq-create -u --visibility 99 q
	assert_equal "$(policy_value q visibility)" 99
	assert_equal "$(policy_value q sync)" batch
	run -0 head -n 1 "$WQ_DIR/q/policy"
	assert_output "wq-format 1"
	run -0 wq-create --update --sync none q
	assert_equal "$(policy_value q visibility)" 99
	assert_equal "$(policy_value q sync)" none
	assert_equal "$(policy_value q max-size)" 1048576
}

@test "-u keeps the queue's messages" {
	run -0 wq-create q
	run -0 wq-send q a b
	run -0 wq-create -u --visibility 5 q
	assert_stat q 2 0 0
}

@test "-u policy update is atomic: in tmp/ only a link to the old policy" {
	run -0 wq-create q
	run -0 wq-create -u --visibility 7 q
	# The replaced file stays linked, for readers on other hosts that
	# opened it (NFS would answer them ESTALE): nothing else is left.
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 1
	old=("$WQ_DIR"/q/tmp/.policy.old.*)
	run -0 grep -qx 'visibility 30' "${old[0]}"
	# A later update removes links older than a minute.
	name=${old[0]##*/}
	ms=${name#.policy.old.}
	mv "${old[0]}" "$WQ_DIR/q/tmp/.policy.old.$((${ms%%.*} - 61000)).x"
	run -0 wq-create -u --visibility 8 q
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 1
	run -0 grep -qx 'visibility 7' "$WQ_DIR"/q/tmp/.policy.old.*
}

@test "-u replaces the policy file atomically, by rename" {
	run -0 wq-create q
	run -0 strace -f -qq -o "$BATS_TEST_TMPDIR/trace" \
		-e trace=rename,renameat,renameat2,open,openat,truncate,ftruncate \
		wq-create -u --visibility 7 q
	run -0 grep -E 'rename.*policy"' "$BATS_TEST_TMPDIR/trace"
	# The policy file itself is never opened for writing in place.
	run -1 grep -E 'open.*/q/policy".*(O_WRONLY|O_RDWR)|truncate' "$BATS_TEST_TMPDIR/trace"
	assert_equal "$(policy_value q visibility)" 7
}

@test "--visibility sets the default lease" {
	run -0 wq-create --visibility 120 q
	assert_equal "$(policy_value q visibility)" 120
	run -0 wq-create --visibility=3600 r
	assert_equal "$(policy_value r visibility)" 3600
}

@test "the default lease is used by wq-recv -L" {
	run -0 wq-create --visibility 1000 q
	run -0 wq-send q x
	local before after deadline
	before=$(now_ms)
	run -0 wq-recv -L q
	after=$(now_ms)
	deadline=$(echo "${lines[0]}" | cut -d, -f5)
	((deadline >= before + 1000000 - 1000)) || fail "deadline $deadline too early"
	((deadline <= after + 1000000 + 1000)) || fail "deadline $deadline too late"
}

@test "invalid --visibility values are refused with 64, nothing created" {
	for v in abc -1 '' 1x 1.5 99999999999999999999; do
		run -64 --separate-stderr wq-create --visibility "$v" q
		assert_err_prefix create
		assert_spool_untouched
	done
}

@test "--sync always, batch and none are stored in the policy" {
	for s in always batch none; do
		run -0 wq-create --sync "$s" "q$s"
		assert_equal "$(policy_value "q$s" sync)" "$s"
	done
}

@test "invalid --sync values are refused with 64, nothing created" {
	for s in sometimes ALWAYS '' 1; do
		run -64 --separate-stderr wq-create --sync "$s" q
		assert_err_prefix create
		assert_spool_untouched
	done
}

@test "-u with an invalid value changes nothing" {
	run -0 wq-create q
	cp "$WQ_DIR/q/policy" "$BATS_TEST_TMPDIR/before"
	run -64 --separate-stderr wq-create -u --sync never q
	run -0 cmp "$BATS_TEST_TMPDIR/before" "$WQ_DIR/q/policy"
}

@test "no QUEUE is a usage error (64)" {
	run -64 --separate-stderr wq-create
	assert_spool_untouched
}

@test "-h and --help print usage and exit 0 for every command" {
	for c in create send recv ack stat rm redrive; do
		run -0 "wq-$c" --help
		assert_output --partial "wq-$c"
		assert_output --regexp '[Uu]sage'
		run -0 "wq-$c" -h
		assert_output --regexp '[Uu]sage'
	done
	assert_spool_untouched
}

@test "a bad option is a usage error (64) for every command" {
	for c in create send recv ack stat rm redrive; do
		run -64 --separate-stderr "wq-$c" --no-such-option q
		assert_err_prefix "$c"
		run -64 --separate-stderr "wq-$c" -Y q
	done
	assert_spool_untouched
}

@test "-V and --version print the version for every command" {
	local v
	v=$(sed -n 's/^#define WQ_VERSION[^"]*"\(.*\)"/\1/p' \
		"$BATS_TEST_DIRNAME/../include/wq.h")
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no version in wq.h: '$v'"
	for c in create send recv ack stat rm redrive; do
		run -0 "wq-$c" -V
		assert_output --partial "$v"
		assert_equal "${#lines[@]}" 1
		run -0 "wq-$c" --version
		assert_output --partial "$v"
	done
	assert_spool_untouched
}

@test "a created queue is listed by wq-stat" {
	run -0 wq-create a b
	run -0 wq-stat
	assert_line --regexp '^a[[:space:]]'
	assert_line --regexp '^b[[:space:]]'
}

@test "a queue of an unknown format version is refused, nothing written" {
	run -0 wq-create q
	sed -i '1s/.*/wq-format 2/' "$WQ_DIR/q/policy"
	run --separate-stderr wq-send q body
	[[ $status == 65 || $status == 74 ]] || fail "wq-send exit $status"
	assert_err send q
	assert_equal "$(tree q)" ""
	run --separate-stderr wq-stat q
	[[ $status == 65 || $status == 74 ]] || fail "wq-stat exit $status"
	assert_err stat q
}
