# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # bats variables; constants used by tests
#
# Common setup for the wq bats suite.  Every test gets its own spool under
# $BATS_TEST_TMPDIR, the freshly built binaries first on PATH, and standard
# input from /dev/null (isatty branches matter), unless a test pipes into a
# command.  Synchronisation is done with wait_for (a polling helper with a
# deadline) or with wq-recv -w, never with bare sleeps.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'

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

# spool_untouched: the spool root does not exist or is empty.
spool_untouched() {
	[ ! -e "$WQ_DIR" ] || [ -z "$(ls -A "$WQ_DIR")" ]
}

# assert_spool_untouched
assert_spool_untouched() {
	spool_untouched || fail "spool changed: $(find "$WQ_DIR" | head -20)"
}

# tree QUEUE: a listing of a queue's message names, to compare states.
tree() {
	(cd "$(qdir "$1")" && find tmp new cur -mindepth 1 | LC_ALL=C sort)
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
# RECEIPT_RE: the lease receipt grammar (PP.ID,COUNT,DEADLINE,NONCE).
RECEIPT_RE='^[0-9a-f]{2}\.[0-9a-f]{16}\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]{8}\.[A-Za-z0-9_-]{1,64},[0-9]+,[0-9]+,[0-9a-f]{16}$'

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
