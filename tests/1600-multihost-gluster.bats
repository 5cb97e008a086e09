#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Two hosts on one spool over a real shared file system (SPEC promises 2
# and 3): a GlusterFS volume (tests/sharedfs/gluster.sh) mounted by two
# FUSE clients with their own caches, each in the network namespace of a
# "host" with its own host name and PIDs (tests/sharedfs/host.sh -m -p).
# On each host tests/multihost/mh.py runs producers, pop, lease and exec
# consumers, logging locally; its checker merges the logs and proves that
# nothing reported was lost or torn, nothing came back after an ack, and no
# id was delivered twice while its lease held.  make check-nfs runs the
# same harness over the Linux NFS client (tests/multihost/README.md).

bats_require_minimum_version 1.5.0
load helpers
load gluster

# A private volume and namespaces: other suites or people may have the
# kit's default ones up.
export SFS_NS=mh16 SFS_NET=10.216.0 SFS_ROOT=/tmp/wq-mh16-gluster
SFS=$BATS_TEST_DIRNAME/sharedfs
# libfaketime (host.sh -s) comes before ASan's runtime in a sanitizer build.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
MH=$BATS_TEST_DIRNAME/multihost/mh.py

setup() {
	gluster_skip
	common_setup
	L=$BATS_TEST_TMPDIR/logs # local: the logs must not be on the shared fs
	mkdir -p "$L"
	[ -d "$SFS_ROOT/a" ] || skip "the GlusterFS volume is not up"
	export WQ_BIN=$BUILD_DIR
}

# use_dyn: the workload runs the dynamically linked commands, the only
# ones whose clock libfaketime (host.sh -s) can skew; make check builds them.
use_dyn() {
	local c
	for c in wq-send wq-recv wq-ack; do
		[ -x "$BUILD_DIR/dyn/$c" ] ||
			fail "build/dyn/$c missing: make build/dyn/$c (host.sh -s cannot skew a static binary)"
	done
	export WQ_BIN=$BUILD_DIR/dyn
}

teardown() {
	common_teardown
}

# start_host H SPOOL SECS [HOSTOPT... --] [RUNOPT...]: mh.py run as host H
# (a or b) on /spool/SPOOL, in the background; its pid (host.sh's, whose
# death kills its whole PID namespace) in PID_H.
start_host() {
	local h=$1 spool=$2 secs=$3 hopts=()
	shift 3
	if [[ " $* " == *" -- "* ]]; then
		while [ "$1" != -- ]; do hopts+=("$1"); shift; done
		shift
	fi
	"$SFS/host.sh" -m /spool -p "${hopts[@]}" "$h" "$MH" run \
		--spool "/spool/$spool" --log "$L/$h" --seconds "$secs" \
		--seed "$RANDOM" "$@" >"$L/$h.out" 2>&1 3>&- &
	printf -v "PID_$h" %s "$!"
	BG_PIDS+=("$!")
}

# wait_host H: host H's run ended well.
wait_host() {
	local pid status=0
	pid=PID_$1
	wait "${!pid}" || status=$?
	cat "$L/$1.out"
	[ "$status" -eq 0 ] || fail "host $1: mh.py run exited $status"
}

# check_spool SPOOL [ARG...]: the checker on host A's mount; its output.
check_spool() {
	run "$MH" check --spool "$SFS_ROOT/a/$1" "${@:2}" "$L/a" "$L/b"
	echo "$output"
}

# assert_clean: the checker passed, and says so in every count.
assert_clean() {
	[ "$status" -eq 0 ] || fail "the checker failed"
	[[ $output == *" lost 0, torn 0, after-ack 0, dup-while-leased 0, lease-broken 0,"* ]]
	[[ $output == *"mh: PASS"* ]]
}

@test "gluster: two hosts sending and receiving at once for 6 s lose nothing and never deliver an id twice while leased" {
	"$MH" setup --spool "$SFS_ROOT/a/s1" --visibility 2 --clock-skew 1
	start_host a s1 6
	start_host b s1 6
	wait_host a
	wait_host b
	check_spool s1
	assert_clean
	# both hosts really worked on the one queue
	[[ $output =~ host\ host-a:.*sent\ [1-9] ]]
	[[ $output =~ host\ host-b:.*delivered\ [1-9] ]]
}

@test "gluster: host B's clock 0.8 s ahead, within the queue's 1 s clock-skew, with leases of 2 s held past half: no id delivered twice while leased" {
	# The lease consumers hold half their messages 1-1.6 s of a 2 s lease
	# and a few past it: B's expiry judged by a clock 0.8 s ahead would
	# hand them out again early but for the clock-skew allowance.
	use_dyn
	"$MH" setup --spool "$SFS_ROOT/a/s2" --visibility 2 --clock-skew 1
	start_host a s2 6
	start_host b s2 6 -s +0.8s --
	wait_host a
	wait_host b
	check_spool s2
	assert_clean
	# the legitimate redeliveries (leases held past their end) happened
	[[ $output =~ duplicates\ [1-9] ]]
}

# b_busy_claiming: host B's last logged step is a claim that has not
# returned (its wq-recv is in the middle of claiming).
b_busy_claiming() {
	[[ $(tail -n 1 "$L/b/events.jsonl" 2>/dev/null) == *'"ev":"claim"'* ]]
}

# b_gone: nothing of host B runs any more but its FUSE client.
b_gone() {
	! ip netns pids "$SFS_NS-b" | xargs -r ps -o comm= -p | grep -qv '^glusterfs$'
}

@test "gluster: host B killed mid-claim, and workload processes killed at random on both: every message is delivered once leases end, none twice while leased" {
	"$MH" setup --spool "$SFS_ROOT/a/s3" --visibility 2 --clock-skew 1
	start_host a s3 8 --kill
	start_host b s3 8 --kill
	# B runs a while, then dies with a claim under way: its leases are
	# left behind for A (and the drain) once they expire.
	wait_for 10 grep -q '"ev":"sent"' "$L/b/events.jsonl"
	wait_for 20 b_busy_claiming
	# shellcheck disable=SC2154 # set by start_host
	kill -KILL "$PID_b"
	wait "$PID_b" || true
	wait_for 20 b_gone
	"$MH" mark --log "$L/b"
	wait_host a
	check_spool s3
	assert_clean
	[[ $output =~ host\ host-a:.*kills\ [1-9] ]]
}

@test "gluster: the checker fails on leases ended early by a clock 1.5 s ahead that the queue does not allow for, an id delivered twice while leased, a lost message and a torn one" {
	# As above with --clock-skew 0 and B 1.5 s ahead: B takes A's leases
	# 0.5 s into 2, while A holds each for 1.3-1.9 s: a window of about a
	# second per lease, wide enough for a slow (sanitizer) build too.
	use_dyn
	"$MH" setup --spool "$SFS_ROOT/a/s4" --visibility 2 --clock-skew 0
	start_host a s4 6 --long-holds --clock-skew 0
	start_host b s4 6 -s +1.5s -- --long-holds --clock-skew 0
	wait_host a
	wait_host b
	check_spool s4
	[ "$status" -eq 1 ]
	# A's leases taken early show as a lease consumer's ack refused, or
	# as the exec worker's (whichever of them B caught holding one).
	[[ $output == *"mh: FAIL lease taken away early: "*" (a:lease"* ||
		$output == *"mh: FAIL exec worker's ack refused"* ]]
	# B's own leases end, by A's clock, 1.5 s later than they should
	[[ $output != *"mh: FAIL lease taken away early: "*" (b:lease"* ]]
	check_spool s4 --sabotage dup
	[ "$status" -eq 1 ]
	[[ $output == *"mh: FAIL delivered twice while leased: "*", then sabotage within "* ]]
	check_spool s4 --sabotage lose
	[ "$status" -eq 1 ]
	[[ $output == *"mh: FAIL lost: "*"(sent sabotage-"* ]]
	check_spool s4 --sabotage tear
	[ "$status" -eq 1 ]
	[[ $output == *"mh: FAIL torn or foreign body: "*": 'sabotage-"* ]]
}
