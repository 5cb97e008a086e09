#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Queues shared between users (wq-create --mode 2770 --group G): every
# directory of the queue, also those made later by any user (bucket
# directories, FIFO group trees, lock/, dedup/), gets the mode and the
# group whatever the umask, and message files are readable and writable
# by the group, so that every member can send, receive and ack.  See
# lib/share.c.
#
# Three users, all with umask 077: root; nobody, whose primary group is
# the queue's group (nogroup); and uid 4242, a member of nogroup only as
# a supplementary group.  Needs root (to switch users).

bats_require_minimum_version 1.5.0
load helpers

G=nogroup
OTHER_UID=4242

setup() {
	common_setup
	[ "$(id -u)" -eq 0 ] || skip "switching users needs root"
	command -v setpriv >/dev/null || skip "no setpriv"
	getent group "$G" >/dev/null || skip "no group $G"
	getent passwd nobody >/dev/null || skip "no user nobody"
	D="$BATS_TEST_TMPDIR/d"
	mkdir -p "$D"
	chmod 777 "$D"
	# The spool's root is the administrator's: reachable by everyone.
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
	mkdir -m 755 "$WQ_DIR"
	as_nobody wq-stat --version >/dev/null 2>&1 ||
		skip "the built binaries are not reachable by nobody"
	umask 077
}

# as_member COMMAND [ARG...]: run COMMAND as uid 4242, a member of $G
# through a supplementary group only.
as_member() {
	setpriv --reuid="$OTHER_UID" --regid="$OTHER_UID" --groups="$G" \
		env WQ_DIR="$WQ_DIR" PATH="$PATH" "$@"
}

# as USER COMMAND [ARG...]: USER is root, nobody or member.
as() {
	local who=$1
	shift
	case $who in
	root) "$@" ;;
	nobody) as_nobody "$@" ;;
	member) as_member "$@" ;;
	esac
}

# uid_of USER
uid_of() {
	case $1 in
	root) echo 0 ;;
	nobody) id -u nobody ;;
	member) echo "$OTHER_UID" ;;
	esac
}

# assert_shared QUEUE: every directory of QUEUE has mode 2770 and group
# $G; every message file (not the policy) mode 660 and group $G; the
# policy is readable by the group.
assert_shared() {
	local q bad
	q=$(qdir "$1")
	bad=$(find "$q" -type d ! -path "$q/corrupt*" \
		\( ! -perm 2770 -o ! -group "$G" \) -printf '%m %g %u %p\n')
	[ -z "$bad" ] || fail "directories not 2770 $G:$(printf '\n')$bad"
	bad=$(find "$q" -type f ! -name policy ! -name .swept \
		\( ! -perm 660 -o ! -group "$G" \) -printf '%m %g %u %p\n')
	[ -z "$bad" ] || fail "files not 660 $G:$(printf '\n')$bad"
	[ "$(stat -c %G "$q/policy")" = "$G" ] ||
		fail "policy group $(stat -c %G "$q/policy")"
	(($(stat -c %a "$q/policy" | sed 's/^/0/') & 040)) ||
		fail "policy not readable by the group: $(stat -c %a "$q/policy")"
}

# leaf_of QUEUE ID: the bucket directory that holds ID's ready file.
leaf_of() {
	local f
	f=$(find "$(qdir "$1")/new" -name "80.$2,*" ! -type d)
	[ -n "$f" ] || fail "no ready file of $2"
	dirname "$f"
}

# leaf_now: the leaf bucket a message sent now would go to.
leaf_now() {
	leaf_for "$(now_us)"
}

# past_leaf LEAF: the bucket of now is no longer LEAF (relative to new/).
past_leaf() {
	[ "$(leaf_now)" != "$1" ]
}

@test "wq-create --mode 2770 --group: the queue's directories get the mode and the group" {
	run -0 wq-create --mode 2770 --group "$G" q
	local d
	for d in "" /tmp /new /cur; do
		assert_equal "$(stat -c '%a %G' "$(qdir q)$d")" "2770 $G"
	done
	assert_equal "$(stat_get q policy | jq -r '[.mode, .group] | @tsv')" "2770	$G"
	assert_shared q
	# The others can read the policy.
	run -0 as_nobody wq-stat --json q
	run -0 as_member wq-stat --json q
}

@test "--group with an unknown group or --mode without rwx for the owner is refused" {
	run -64 --separate-stderr wq-create --mode 2770 --group no-such-group-wq q
	assert_err create q 'no-such-group-wq'
	[ ! -e "$(qdir q)" ]
	run -64 --separate-stderr wq-create --mode 0070 q
	[ ! -e "$(qdir q)" ]
	run -64 --separate-stderr wq-create --mode 27a0 q
	[ ! -e "$(qdir q)" ]
}

@test "a message sent by root is received by another user, and the other way round" {
	wq-create --mode 2770 --group "$G" q
	local id
	id=$(send q "from root")
	run -0 --separate-stderr as_nobody wq-recv --json q
	assert_equal "$(jq -r '[.id, .body] | @tsv' <<<"$output")" "$id	from root"
	id=$(as_nobody wq-send q "from nobody" </dev/null)
	run -0 --separate-stderr wq-recv --json q
	assert_equal "$(jq -r '[.id, .body] | @tsv' <<<"$output")" "$id	from nobody"
	id=$(as_member wq-send q "from member" </dev/null)
	run -0 --separate-stderr as_nobody wq-recv --json q
	assert_equal "$(jq -r '[.id, .body] | @tsv' <<<"$output")" "$id	from member"
	# Exec mode as another user.
	send q "for exec" >/dev/null
	run -0 --separate-stderr as_member wq-recv q -- sh -c 'cat >"$0"' "$D/exec"
	assert_equal "$(cat "$D/exec")" "for exec"
	assert_stat q 0 0 0
	assert_shared q
}

@test "bucket directories made by any user serve all: send, receive and ack from each" {
	wq-create --mode 2770 --group "$G" q
	local who ids=() id leaf prev=none
	# Each user sends into a bucket of its own making.
	for who in root nobody member root nobody member; do
		wait_for 2 past_leaf "$prev"
		id=$(as "$who" wq-send q "from $who" </dev/null) ||
			fail "wq-send as $who failed"
		[[ $id =~ $ID_RE ]] || fail "bad id '$id' from $who"
		ids+=("$id")
		leaf=$(leaf_of q "$id")
		prev=${leaf#"$(qdir q)/new/"}
		assert_equal "$(stat -c %u "$leaf")" "$(uid_of "$who")"
	done
	assert_shared q
	# Each leases one message sent by another user; the third acks it.
	local r
	for who in nobody member root; do
		run -0 --separate-stderr as "$who" wq-recv -L --json q
		r=$(jq -r .receipt <<<"$output")
		case $who in
		nobody) run -0 --separate-stderr as_member wq-ack q "$r" ;;
		member) run -0 --separate-stderr wq-ack q "$r" ;;
		root) run -0 --separate-stderr as_nobody wq-ack q "$r" ;;
		esac
	done
	# Extended by one, acked by another.
	run -0 --separate-stderr as_nobody wq-recv -L --json q
	r=$(jq -r .receipt <<<"$output")
	run -0 --separate-stderr as_member wq-ack --extend 60 q "$r"
	run -0 --separate-stderr wq-ack q "$output"
	# Released by one user, received by another in pop mode.
	run -0 --separate-stderr as_member wq-recv -L --json q
	r=$(jq -r .receipt <<<"$output")
	id=$(jq -r .id <<<"$output")
	run -0 --separate-stderr as_nobody wq-ack --release q "$r"
	run -0 --separate-stderr wq-recv -n 10 --json q
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -r "select(.id == \"$id\") | .receive_count" <<<"$output")" 2
	assert_stat q 0 0 0
	run -1 as_member wq-recv q
	assert_shared q
}

@test "a shared FIFO queue: group trees and locks made by one user work for the others" {
	wq-create --fifo --mode 2770 --group "$G" f
	run -0 as_nobody wq-send --group gn f n1 n2
	run -0 as_member wq-send --group gm f m1 m2
	run -0 wq-send --group gr f r1 r2
	assert_equal "$(stat -c %u "$(qdir f)/new/gn")" "$(id -u nobody)"
	assert_equal "$(stat -c %u "$(qdir f)/new/gm")" "$OTHER_UID"
	assert_shared f
	# The member takes one of each group (and makes lock/).
	run -0 --separate-stderr as_member wq-recv -L -n 10 --json f
	printf '%s\n' "$output" >"$D/lease"
	assert_equal "$(jq -r .body "$D/lease" | sort | paste -sd ' ')" "m1 n1 r1"
	assert_shared f
	# nobody acks the member's leases; root releases one.
	run -0 as_nobody wq-ack f "$(jq -r 'select(.body == "n1") | .receipt' "$D/lease")"
	run -0 as_nobody wq-ack f "$(jq -r 'select(.body == "m1") | .receipt' "$D/lease")"
	run -0 wq-ack --release f "$(jq -r 'select(.body == "r1") | .receipt' "$D/lease")"
	run -0 --separate-stderr as_nobody wq-recv -n 10 --json f
	assert_equal "$(jq -r '"\(.group) \(.body) \(.receive_count)"' <<<"$output" |
		sort | paste -sd ' ')" "gm m2 1 gn n2 1 gr r1 2 gr r2 1"
	assert_equal "$(jq -r 'select(.group == "gr") | .body' <<<"$output" | paste -sd ' ')" "r1 r2"
	run -1 as_member wq-recv -n 10 f
	assert_stat f 0 0 0
	assert_shared f
}

@test "a shared queue with dedup and compression: slots and bodies cross users" {
	wq-create --compress always --mode 2770 --group "$G" q
	local id
	id=$(as_nobody wq-send --dedup k q "first" </dev/null)
	run -0 as_member wq-send --dedup k q "second"
	assert_output "$id"
	run -0 wq-send --dedup k q "third"
	assert_output "$id"
	run -0 as_member wq-recv q
	assert_output first
	assert_stat q 0 0 0
	assert_shared q
}

@test "wq-create -u --mode --group shares an existing queue and its messages" {
	wq-create q
	send q before >/dev/null
	run -0 wq-create -u --mode 2770 --group "$G" q
	assert_shared q
	run -0 --separate-stderr as_nobody wq-recv q
	assert_output before
	run -0 as_member wq-send q after
	run -0 --separate-stderr as_nobody wq-recv q
	assert_output after
}

@test "modes are set through descriptors that follow no link, never by name" {
	# By name, a link that a group member put in place of a directory or
	# file just made or looked at would be followed, and the mode given
	# to its target (as root: any file).  That race cannot be timed from
	# here; that no chmod goes by name can be checked.
	command -v strace >/dev/null || skip "no strace"
	local outside=$BATS_TEST_TMPDIR/outside
	echo secret >"$outside"
	chmod 600 "$outside"
	wq-create q
	send q before >/dev/null
	ln -s "$outside" "$(qdir q)/tmp/planted"
	run -0 strace -f -qq -e trace=chmod,fchmodat -o "$D/trace" \
		wq-create -u --mode 2770 --group "$G" q
	assert_shared q
	[ ! -s "$D/trace" ] || fail "chmod by name: $(cat "$D/trace")"
	assert_equal "$(stat -c %a "$outside")" 600
	# A send, which makes bucket directories, as another member.  Here
	# strace is run by setpriv, not through helpers.bash's strace, so
	# LeakSanitizer (which cannot run under ptrace) is turned off here.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	run -0 as_member strace -f -qq -e trace=chmod,fchmodat \
		-o "$D/trace.member" wq-send q after
	[ ! -s "$D/trace.member" ] ||
		fail "chmod by name: $(cat "$D/trace.member")"
	assert_shared q
}
