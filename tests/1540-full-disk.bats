#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A full disk for real (SPEC: exit 74, nothing half-done, promise 1): the
# spool on a small tmpfs (by size, or by inodes) or a loop-mounted ext4
# image, filled up by sends.  Sends are refused with 74 and one line, every
# id printed before is there intact, nothing unreported is visible, and
# once space returns everything works again.
#
# The small filesystem is mounted in a private mount namespace, held by a
# process that waits on a FIFO; commands run in it with nsenter.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	if ! unshare -m true 2>/dev/null; then
		[ -z "${CI-}" ] || fail "no mount namespaces in CI"
		skip "no mount namespaces (needs root)"
	fi
	MNT="$BATS_TEST_TMPDIR/mnt"
	S="$MNT/spool"
	PATH="$BATS_TEST_DIRNAME/tools:$PATH"
	mkdir -p "$MNT"
	: >"$BATS_TEST_TMPDIR/ids"
}

teardown() {
	if [ -n "${SERVE_PID-}" ]; then
		kill "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
	if [ -n "${NS_PID-}" ]; then
		exec 8>&-	# the holder reads end of file and ends
		wait "$NS_PID" 2>/dev/null || true
	fi
}

# small_fs MOUNT-ARGS...: mount a filesystem on $MNT in a new mount
# namespace held by a background process; ns CMD... runs in it.
small_fs() {
	local hold="$BATS_TEST_TMPDIR/hold" ready="$BATS_TEST_TMPDIR/ready"
	mkfifo "$hold" "$ready"
	unshare -m --propagation private sh -c '
		mnt=$1; shift
		mount "$@" "$mnt" || exit 99
		echo ready >"$0"
		read -r _ <&8' "$ready" "$MNT" "$@" 8<"$hold" &
	NS_PID=$!
	exec 8>"$hold"
	read -r _ <"$ready"
}

ns() {
	nsenter -t "$NS_PID" -m "$@"
}

# fill QUEUE [SEND-ARGS...]: send self-checking bodies (tests/tools/wq-body)
# in a stream until the disk is full; the ids printed are added to
# $BATS_TEST_TMPDIR/ids.
fill() {
	local q=$1
	shift
	run --separate-stderr sh -c 'ns=$0 spool=$1 ids=$2; shift 2
		wq-body gen 1 100000 |
		nsenter -t "$ns" -m wq-send -d "$spool" -l "$@" >>"$ids"' \
		"$NS_PID" "$S" "$BATS_TEST_TMPDIR/ids" "$@" "$q"
	echo "wq-send exited $status: $stderr"
}

# assert_intact QUEUE: the queue holds exactly the ids printed, bodies
# intact, and nothing is left in tmp/.
assert_intact() {
	local q=$1
	[ -s "$BATS_TEST_TMPDIR/ids" ] || fail "no send succeeded before the disk was full"
	run -0 ns wq-recv -d "$S" -n 1000000 --json "$q"
	printf '%s\n' "${lines[@]}" | jq -r .id | sort >"$BATS_TEST_TMPDIR/got"
	sort "$BATS_TEST_TMPDIR/ids" >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got" ||
		fail "the queue does not hold exactly the ids printed"
	printf '%s\n' "${lines[@]}" | jq -r .body | wq-body check
	[ -z "$(ns find "$S/$q/tmp" -type f)" ] || fail "files left in tmp/"
}

@test "full tmpfs (size=1m): a stream of sends ends with 74, every printed id intact" {
	small_fs -t tmpfs -o size=1m tmpfs
	ns wq-create -d "$S" q
	fill q
	[ "$status" -eq 74 ]
	assert_err send q 'No space left on device'
	assert_intact q
}

@test "full tmpfs, --sync always and one-shot sends: 74, nothing visible from the failed one" {
	small_fs -t tmpfs -o size=1m tmpfs
	ns wq-create -d "$S" --sync always q
	local n=0 body
	body=$(head -c 40000 /dev/zero | tr '\0' x)
	: >"$BATS_TEST_TMPDIR/ids"
	while ns wq-send -d "$S" q "$body" >>"$BATS_TEST_TMPDIR/ids" \
	    2>"$BATS_TEST_TMPDIR/err"; do
		n=$((n + 1))
		[ "$n" -lt 1000 ] || fail "the disk never filled"
	done
	run cat "$BATS_TEST_TMPDIR/err"
	assert_err send q 'No space left on device'
	run -0 ns wq-stat -d "$S" --json q
	[ "$(jq '.[0].ready' <<<"$output")" -eq "$n" ]
	[ -z "$(ns find "$S/q/tmp" -type f)" ] || fail "files left in tmp/"
}

@test "out of inodes (tmpfs nr_inodes): 74, every printed id intact" {
	small_fs -t tmpfs -o size=64m,nr_inodes=200 tmpfs
	ns wq-create -d "$S" q
	# A group whose files take the last inodes cannot make its bucket
	# directories, and is taken back whole: sends before it stay.
	ns wq-send -d "$S" q "$(wq-body gen 900000 1)" "$(wq-body gen 900001 1)" \
		>>"$BATS_TEST_TMPDIR/ids"
	fill q
	[ "$status" -eq 74 ]
	assert_err send q 'No space left on device'
	assert_intact q
}

@test "full ext4 image: 74, every printed id intact, and the filesystem is clean" {
	if ! command -v mkfs.ext4 >/dev/null; then
		[ -z "${CI-}" ] || fail "mkfs.ext4 missing in CI (e2fsprogs)"
		skip "no mkfs.ext4 (e2fsprogs)"
	fi
	local img="$BATS_TEST_TMPDIR/img"
	truncate -s 4M "$img"
	mkfs.ext4 -q "$img"
	small_fs -o loop "$img"
	ns wq-create -d "$S" q
	fill q
	[ "$status" -eq 74 ]
	assert_err send q 'No space left on device'
	assert_intact q
}

@test "on a full disk consumers still claim, release and ack; then sends work again" {
	small_fs -t tmpfs -o size=1m tmpfs
	ns wq-create -d "$S" q
	fill q
	[ "$status" -eq 74 ]
	# A claim and a release are renames: they need no space.
	run -0 ns wq-recv -d "$S" -L --json q
	run -0 ns wq-ack -d "$S" --release q "$(jq -r .receipt <<<"$output")"
	run -0 ns wq-recv -d "$S" -L --json -n 50 q
	run -0 ns wq-ack -d "$S" q $(printf '%s\n' "${lines[@]}" | jq -r .receipt)
	# The space of 50 messages is back.
	run -0 ns wq-send -d "$S" q "after the disk was full"
	local id=$output
	run -0 ns wq-recv -d "$S" -n 1000000 --json q
	[[ $output == *"\"id\":\"$id\""* ]]
	[ "${#lines[@]}" -eq $(($(wc -l <"$BATS_TEST_TMPDIR/ids") - 50 + 1)) ]
}

@test "wq-serve on a full disk: 507 with a JSON error, nothing sent; 201 once space returns" {
	small_fs -t tmpfs -o size=1m tmpfs
	ns wq-create -d "$S" q
	fill q
	[ "$status" -eq 74 ]
	local pf="$BATS_TEST_TMPDIR/port" big="$BATS_TEST_TMPDIR/big"
	# Not through ns, a function: $! must be wq-serve itself.
	nsenter -t "$NS_PID" -m wq-serve -d "$S" -l 127.0.0.1:0 --port-file "$pf" \
		2>"$BATS_TEST_TMPDIR/serve.err" &
	SERVE_PID=$!
	until [ -s "$pf" ]; do
		kill -0 "$SERVE_PID" || fail "wq-serve did not start"
		read -r -t 0.05 <> <(:) || true
	done
	local url="http://127.0.0.1:$(cat "$pf")/v1/queues/q"
	head -c 200000 /dev/zero | tr '\0' y >"$big"
	local before
	before=$(ns wq-stat -d "$S" --json q | jq '.[0].ready')
	run -0 curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' \
		--data-binary @"$big" "$url/messages"
	[ "$output" = 507 ] || fail "answered $output: $(cat "$BATS_TEST_TMPDIR/body")"
	[ "$(jq .status "$BATS_TEST_TMPDIR/body")" = 507 ]
	[[ $(jq -r .error "$BATS_TEST_TMPDIR/body") == *"No space left"* ]]
	[ "$(ns wq-stat -d "$S" --json q | jq '.[0].ready')" -eq "$before" ]
	[ -z "$(ns find "$S/q/tmp" -type f)" ] || fail "files left in tmp/"
	# Make room: receive and acknowledge over HTTP.
	local i r
	for i in $(seq 1 30); do
		r=$(curl -sS -X POST "$url/receive?max=100" |
			jq -r '.messages[].receipt')
		for r in $r; do
			curl -sS -o /dev/null -w '%{http_code}\n' -X DELETE \
				"$url/messages/$r"
		done
	done | sort | uniq -c | grep -q ' 204$'
	run -0 curl -sS -o /dev/null -w '%{http_code}' \
		--data-binary @"$big" "$url/messages"
	[ "$output" = 201 ]
}
