# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # bats variables; constants used by tests
#
# Common setup for the wq bats suite.  Every test gets its own spool under
# $BATS_TEST_TMPDIR, the freshly built binaries first on PATH, and standard
# input from /dev/null (isatty branches matter), unless a test pipes into a
# command.  Synchronisation is done with wait_for (a polling helper with a
# deadline) or with wq-recv -w, never with bare sleeps.

load bats-libs

BUILD_DIR="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build"

common_setup() {
	export WQ_DIR="$BATS_TEST_TMPDIR/spool"
	unset XDG_DATA_HOME
	# Never let a test fall back to the real home directory.
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	export PATH="$BUILD_DIR:$PATH"
	export LC_ALL=C
	exec </dev/null
	if [ ! -x "$BUILD_DIR/wq-send" ]; then
		fail "binaries not built: run make in $(dirname "$BUILD_DIR")"
	fi
	BG_PIDS=()
}

common_teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}

# Files that need more define their own setup/teardown calling these.
setup() {
	common_setup
}

teardown() {
	common_teardown
}

# now_ms: milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# wait_for SECS COMMAND [ARG...]: run COMMAND every 50 ms until it succeeds;
# fail (status 1) once SECS seconds have passed.
wait_for() {
	local secs=$1 deadline
	shift
	deadline=$(($(now_ms) + secs * 1000))
	until "$@"; do
		if (($(now_ms) >= deadline)); then
			echo "wait_for: timed out after ${secs}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# bg OUT COMMAND [ARG...]: start COMMAND in the background with stdout in
# OUT and stderr in OUT.err; its pid is in BG_PID and killed in teardown.
# fd 3 is closed so that bats does not wait for the job.
bg() {
	local out=$1
	shift
	"$@" >"$out" 2>"$out.err" </dev/null 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# alive PID: the process exists and is not a zombie.
alive() {
	[ -e "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"
}

# dead PID
dead() {
	! alive "$1"
}

# sleeping_in PID NAME: PID runs NAME and is blocked (state S), that is, it
# has reached its wait.
sleeping_in() {
	[[ $(readlink "/proc/$1/exe" 2>/dev/null) == */"$2" ]] &&
		grep -q '^State:[[:space:]]*S' "/proc/$1/status" 2>/dev/null
}

# qdir QUEUE: the directory of a queue in the test spool.
qdir() {
	echo "$WQ_DIR/$1"
}

# nfiles DIR: number of entries in DIR (0 if it does not exist).
nfiles() {
	if [ -d "$1" ]; then
		find "$1" -mindepth 1 -maxdepth 1 | wc -l
	else
		echo 0
	fi
}

# queue_path QUEUE: the directory of QUEUE, a name in the test spool or,
# with a /, a path to a queue directory (as the commands take it).
queue_path() {
	case $1 in
	*/*) echo "$1" ;;
	*) qdir "$1" ;;
	esac
}

# Ready messages live in a bucket tree below new/ (see lib/bucket.c):
#
#	new/RR/TTTTTT/TT/TT/TT/T/RR.ID,COUNT,SIZE,GROUP
#
# RR is the rank ("80" for now), the five levels below split the time in
# microseconds at which the message became ready, as 16 hex digits, into
# digits 0-5, 6-7, 8-9, 10-11 and 12.  Empty buckets may linger until a
# consumer prunes them, so tests count and find message files, not
# directory entries.  The name of a message file (lib/name.c) carries its
# receive COUNT, the SIZE in bytes of the whole file (header and body), and
# its FIFO message GROUP, empty on other queues: a plain message is
# 80.ID,0,110, (with the trailing comma).  An entry of cur/ (a lease, or a
# delayed message) adds ,DEADLINE,NONCE: the fields are 1 RR.ID, 2 COUNT,
# 3 SIZE, 4 GROUP, 5 DEADLINE (ms since the epoch) and 6 NONCE (16 hex
# digits, or "delayed").

# TIME_RE: the time levels of a bucket path; LEAF_RE: a leaf bucket path
# relative to new/ (extended regexes, unanchored).
TIME_RE='[0-9a-f]{6}/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]'
LEAF_RE="[0-9a-f]{2}/$TIME_RE"

# nready QUEUE: the number of message files anywhere under new/ (0 if new/
# does not exist).  Anything that is not a directory counts.
nready() {
	local d
	d="$(queue_path "$1")/new"
	if [ -d "$d" ]; then
		find "$d" -mindepth 1 ! -type d | wc -l
	else
		echo 0
	fi
}

# ready_file QUEUE NAME [GROUP]: the path of the ready message file of
# NAME (such as 80.ID,0: rank, id and receive count) under new/, named
# NAME,SIZE,GROUP (GROUP empty if not given); fails unless there is
# exactly one, in a leaf bucket of the right shape whose rank is the rank
# of NAME, and its SIZE is the size of the file.
ready_file() {
	local d found n name size
	d="$(queue_path "$1")/new"
	found=$(find "$d" -mindepth 1 -name "$2,*,${3-}" ! -type d)
	n=$(printf '%s' "$found" | grep -c '^')
	if [ "$n" -ne 1 ]; then
		echo "ready_file: $n files named '$2,SIZE,${3-}' under $d: $found" >&2
		return 1
	fi
	if ! [[ ${found#"$d/"} =~ ^${2%%.*}/$TIME_RE/[^/]+$ ]]; then
		echo "ready_file: '$found' is not in a leaf bucket of $d" >&2
		return 1
	fi
	name=${found##*/}
	if ! [[ $name =~ ^[0-9a-f]{2}\.[^,]+,[0-9]+,([0-9]+),[^,]*$ ]]; then
		echo "ready_file: '$name' is not RR.ID,COUNT,SIZE,GROUP" >&2
		return 1
	fi
	size=$(stat -c %s "$found")
	if [ "${BASH_REMATCH[1]}" != "$size" ]; then
		echo "ready_file: '$name': SIZE is not the file's $size bytes" >&2
		return 1
	fi
	echo "$found"
}

# entry_name FILE RR.ID,COUNT [GROUP]: the new/ name of the message file
# FILE: RR.ID,COUNT,SIZE,GROUP with the size of FILE (for hand-written
# messages).
entry_name() {
	echo "$2,$(stat -c %s "$1"),${3-}"
}

# assert_ready QUEUE NAME [GROUP]: the ready message file of NAME (such as
# 80.ID,0) exists in a leaf, with the right SIZE and GROUP in its name.
assert_ready() {
	local f
	f=$(ready_file "$1" "$2" "${3-}") || fail "no ready message $2 in $1"
	assert_file_exists "$f"
}

# leaf_for US [RANK]: the leaf bucket path, relative to new/, of a message
# that became ready at US microseconds since the epoch (RANK 80 if not
# given).
leaf_for() {
	local t
	t=$(printf '%016x' "$1")
	echo "${2:-80}/${t:0:6}/${t:6:2}/${t:8:2}/${t:10:2}/${t:12:1}"
}

# now_us: microseconds since the epoch.
now_us() {
	echo "${EPOCHREALTIME/[.,]/}"
}

# ready_dir QUEUE [US]: make the leaf bucket of QUEUE for a message ready
# since US microseconds (now if not given) and print its path, for
# hand-written messages.
ready_dir() {
	local d
	d="$(queue_path "$1")/new/$(leaf_for "${2:-$(now_us)}")"
	mkdir -p "$d" && echo "$d"
}

# put_ready QUEUE US FILE RR.ID,COUNT: move the hand-written message FILE
# into the leaf bucket of QUEUE for a message ready since US microseconds,
# under its entry name (entry_name), and print its new path.
put_ready() {
	local d name
	d=$(ready_dir "$1" "$2") || return 1
	name=$(entry_name "$3" "$4") || return 1
	mv "$3" "$d/$name" && echo "$d/$name"
}

# spool_untouched: the spool root does not exist or is empty.
spool_untouched() {
	[ ! -e "$WQ_DIR" ] || [ -z "$(ls -A "$WQ_DIR")" ]
}

# assert_spool_untouched
assert_spool_untouched() {
	spool_untouched || fail "spool changed: $(find "$WQ_DIR" | head -20)"
}

# tree QUEUE: a listing of a queue's message names, to compare states:
# every entry of tmp/ and cur/, and every message file below new/ with its
# bucket path (empty buckets left behind are not part of the state).
tree() {
	(cd "$(qdir "$1")" &&
		{ find tmp cur -mindepth 1; find new -mindepth 1 ! -type d; } |
		LC_ALL=C sort)
}

# stat_get QUEUE FIELD: one field of `wq-stat --json QUEUE`, whether it
# prints one object, one per line, or an array.
stat_get() {
	wq-stat --json "$1" </dev/null |
		jq -rs --arg f "$2" \
			'[.[] | .. | objects | select(has("ready"))][0] | .[$f]'
}

# stat_counts QUEUE: "ready delayed inflight total bytes", to compare a
# queue's state before and after a command.
stat_counts() {
	wq-stat --json "$1" </dev/null |
		jq -rs '[.[] | .. | objects | select(has("ready"))][0]
			| "\(.ready) \(.delayed) \(.inflight) \(.total) \(.bytes)"'
}

# stat_is QUEUE FIELD VALUE
stat_is() {
	[ "$(stat_get "$1" "$2")" = "$3" ]
}

# assert_stat QUEUE READY DELAYED INFLIGHT
assert_stat() {
	local got
	got="$(stat_get "$1" ready) $(stat_get "$1" delayed) $(stat_get "$1" inflight)"
	assert_equal "$got" "$2 $3 $4"
}

# assert_err CMD QUEUE [REGEX]: the failing command printed exactly one
# line on stderr, of the shape `wq-CMD: QUEUE: what happened` (and matching
# REGEX if given).  Uses $stderr after run --separate-stderr, else $output.
assert_err() {
	local cmd=$1 q=$2 re=${3-} err
	if [ -n "${stderr+set}" ]; then
		err=$stderr
	else
		err=$output
	fi
	[[ $err == "wq-$cmd: $q: "?* ]] ||
		fail "stderr is not 'wq-$cmd: $q: ...': '$err'"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "stderr is not one line: '$err'"
	if [ -n "$re" ]; then
		[[ $err =~ $re ]] || fail "stderr '$err' does not match /$re/"
	fi
}

# assert_err_prefix CMD: stderr starts with `wq-CMD: ` (usage errors that
# are not about a queue).
assert_err_prefix() {
	local err
	if [ -n "${stderr+set}" ]; then
		err=$stderr
	else
		err=$output
	fi
	[[ $err == "wq-$1: "?* || $err == *"usage"* || $err == *"Usage"* ]] ||
		fail "stderr does not start with 'wq-$1: ': '$err'"
}

# ID_RE: the message id grammar.
ID_RE='^[0-9a-f]{16}\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]{8}\.[A-Za-z0-9_-]{1,64}$'
# RECEIPT_RE: the lease receipt grammar (RR.ID,COUNT,SIZE,GROUP,DEADLINE,
# NONCE; GROUP empty outside FIFO queues).
RECEIPT_RE='^[0-9a-f]{2}\.[0-9a-f]{16}\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]{8}\.[A-Za-z0-9_-]{1,64},[0-9]+,[0-9]+,([A-Za-z0-9][A-Za-z0-9._-]{0,63})?,[0-9]+,[0-9a-f]{16}$'

# sane_host: the host name as it appears in message ids.
sane_host() {
	hostname | LC_ALL=C tr -c 'A-Za-z0-9-\n' '_' | head -c 64
}

# allbytes: every byte 0..255 once.
allbytes() {
	local fmt
	# shellcheck disable=SC2046
	fmt=$(printf '\\%03o' $(seq 0 255))
	# shellcheck disable=SC2059
	printf "$fmt"
}

# mkfile_size FILE N: a file of N bytes.
mkfile_size() {
	head -c "$2" /dev/zero | tr '\0' x >"$1"
}

# send QUEUE BODY...: send and print the ids.
send() {
	wq-send "$@" </dev/null
}

# lease QUEUE [OPTIONS...]: claim one message with -L --json, print the
# JSON record.
lease_json() {
	wq-recv -L --json "$@" </dev/null
}

# strace ARGS...: strace, with LeakSanitizer off in the traced commands
# (it cannot run under ptrace), so that `make check SANITIZE=1` can trace.
strace() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		command strace "$@"
}

# as_nobody COMMAND [ARG...]: run COMMAND as the user nobody, with this
# test's WQ_DIR and PATH.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env WQ_DIR="$WQ_DIR" PATH="$PATH" "$@"
}

# open_spool_to_nobody MODE: let nobody reach the test spool (chmod -R
# MODE on it, a+x on the directories above), or skip the test where
# nobody still cannot reach it or run the built binaries.
open_spool_to_nobody() {
	local d=$BATS_TEST_TMPDIR
	command -v setpriv >/dev/null || skip "no setpriv"
	while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
	chmod -R "$1" "$WQ_DIR"
	as_nobody test -r "$WQ_DIR/q/policy" ||
		skip "the test directory is not reachable by nobody"
	as_nobody wq-stat --version >/dev/null 2>&1 ||
		skip "the built binaries are not reachable by nobody"
}
