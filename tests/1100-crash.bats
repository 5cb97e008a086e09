#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Crashes (SPEC promise 1): a message reported as sent is never lost and
# never shown torn, whatever process is killed with SIGKILL and when.
#
# Producers, pop consumers and exec consumers run together and are killed
# at random moments and restarted; $RANDOM and the short random pauses
# between kills are the fault injection, not synchronisation.  Bodies come
# from tests/tools/wq-body: each one is a function of the number at its
# start, so a torn body is detected wherever it shows up.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	D="$BATS_TEST_TMPDIR/run"
	mkdir -p "$D/p" "$D/c" "$D/x"
	PATH="$BATS_TEST_DIRNAME/tools:$PATH"
	# Slots for the running processes, by role; NEXT numbers the
	# instances.
	declare -gA PIDS=()
	NEXT=0
	KILLS=0
}

# complete FILE: its complete lines (a process killed while writing may
# leave an incomplete last line, without its newline).
complete() {
	[ -s "$1" ] || return 0
	if [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]; then
		cat "$1"
	else
		sed '$d' "$1"
	fi
}

# start ROLE: start one process of ROLE (prod, pop or exec) in slot ROLE.K.
start() {
	local role=$1 k=$2 n
	NEXT=$((NEXT + 1))
	case $role in
	prod)
		# Instance NEXT sends bodies NEXT*100000 ..; line i of its
		# output is the id of body NEXT*100000+i.
		n=$((NEXT * 100000))
		wq-body gen "$n" 1000 1 2>/dev/null 3>&- |
			wq-send -l q >"$D/p/$n.ids" 2>"$D/p/$n.err" 3>&- &
		;;
	pop)
		wq-recv -f --json -v 2 q >"$D/c/$NEXT.json" \
			2>"$D/c/$NEXT.err" </dev/null 3>&- &
		;;
	exec)
		wq-recv -f -j 2 -v 2 q -- sh -c 'IFS= read -r b || [ -n "$b" ] ||
			exit 1; printf %s "$b" >"$0/$WQ_ID.$$"' "$D/x" \
			>"$D/c/$NEXT.exec" 2>"$D/c/$NEXT.err" </dev/null 3>&- &
		;;
	esac
	PIDS[$role.$k]=$!
	BG_PIDS+=("$!")
}

# The loop below avoids forks where it can (the host may be busy and a fork
# costs milliseconds): no subshells, no grep, no sleep(1).

# running PID: the process exists and is not a zombie.
running() {
	local s
	{ read -r s </proc/"$1"/stat; } 2>/dev/null || return 1
	[[ $s != *") Z "* ]]
}

# ms VAR: store milliseconds since the epoch in VAR.
ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf -v "$1" %d $((t / 1000))
}

# pause MS: fault injection, a pause of MS milliseconds (read -t on a FIFO
# that never gets data, as there is no builtin sleep).
pause() {
	local t
	printf -v t %d.%03d $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$t" <>"$FIFO" || true
}

# keep_running: restart every process that is gone (killed or done).
keep_running() {
	local slot
	for slot in prod.1 prod.2 pop.1 pop.2 exec.1; do
		if [ -z "${PIDS[$slot]-}" ] || ! running "${PIDS[$slot]}"; then
			if [ -n "${PIDS[$slot]-}" ]; then
				wait "${PIDS[$slot]}" 2>/dev/null || true
			fi
			start "${slot%.*}" "${slot#*.}"
		fi
	done
}

# kill_one: SIGKILL a random running process.
kill_one() {
	local slots=("${!PIDS[@]}") slot
	slot=${slots[RANDOM % ${#slots[@]}]}
	if running "${PIDS[$slot]}" && kill -KILL "${PIDS[$slot]}" 2>/dev/null; then
		KILLS=$((KILLS + 1))
	fi
}

@test "wq-recv -n 20 of 20 messages: none is quarantined, all are received" {
	# A claim that finds a good message unreadable moves it to corrupt/,
	# where nobody ever receives it: a lost message.  Several rounds,
	# since what goes wrong may depend on the process's memory layout.
	local i got
	for i in $(seq 1 10); do
		wq-create --sync none "q$i"
		seq 1 20 | wq-send -l "q$i" >/dev/null
		got=$(wq-recv -n 20 -l "q$i" | wc -l)
		[ "$(nfiles "$(qdir "q$i")/corrupt")" -eq 0 ] ||
			fail "round $i: wq-recv -n 20 -l got $got of 20 messages; $(nfiles "$(qdir "q$i")/corrupt") quarantined in corrupt/"
		[ "$got" -eq 20 ] || fail "round $i: got $got of 20 messages"
	done
}

@test "kill -9 producers and consumers at random: nothing sent is lost or torn" {
	# --sync batch: the group commit path, with the most steps to
	# interrupt (a process crash loses nothing under any sync mode).
	wq-create --sync batch q
	local deadline now
	FIFO="$BATS_TEST_TMPDIR/fifo"
	mkfifo "$FIFO"
	ms now
	deadline=$((now + 15000))
	while ((now < deadline)); do
		keep_running
		# Fault injection: a random pause of 0-150 ms, then a kill.
		pause $((RANDOM % 150))
		kill_one
		ms now
	done
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	echo "# kills: $KILLS" >&3

	# Leases of killed consumers expire (visibility 2 s + clock skew);
	# then a last consumer drains the queue.
	wait_for 30 stat_is q inflight 0
	bg "$D/c/final.json" wq-recv -f --json -v 60 q
	wait_for 60 stat_is q total 0
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true

	# Nothing quarantined: every message here was well formed, so a
	# message in corrupt/ is a lost one.
	[ "$(nfiles "$(qdir q)/corrupt")" -eq 0 ] ||
		fail "$(nfiles "$(qdir q)/corrupt") messages in corrupt/, e.g. $(ls "$(qdir q)/corrupt" | head -n 1)"

	# sent: "ID<TAB>N" for every id a producer printed.
	local f n
	for f in "$D"/p/*.ids; do
		n=${f##*/}
		n=${n%.ids}
		complete "$f" | awk -v n="$n" '{ print $0 "\t" n + NR - 1 }'
	done | LC_ALL=C sort >"$D/sent"
	# delivered: "ID<TAB>BODY" for every delivery, pop and exec.
	for f in "$D"/c/*.json; do
		complete "$f" | jq -r '[.id, .body] | @tsv'
	done >"$D/delivered"
	find "$D/x" -type f -print0 |
		xargs -0 -r awk 'FNR == 1 {
			id = FILENAME; sub(/.*\//, "", id); sub(/\.[0-9]+$/, "", id)
			print id "\t" $0 }' >>"$D/delivered"
	echo "# sent (reported): $(wc -l <"$D/sent"), deliveries: $(wc -l <"$D/delivered")" >&3
	[ -s "$D/sent" ] || fail "no producer reported a message"

	# No body ever delivered was torn.
	cut -f 2- "$D/delivered" | wq-body check >"$D/torn" ||
		fail "torn bodies delivered:$(printf '\n')$(head -n 5 "$D/torn")"

	# Every reported id was delivered, with its own body.
	awk -F '\t' 'NR == FNR { split($2, b, ":"); got[$1] = got[$1] " " b[1]; next }
		!($1 in got) { print "lost: " $1 " (body " $2 ")"; next }
		index(got[$1] " ", " " $2 " ") == 0 {
			print "wrong body: " $1 " got" got[$1] ", sent " $2 }' \
		"$D/delivered" "$D/sent" >"$D/lost"
	[ ! -s "$D/lost" ] ||
		fail "$(wc -l <"$D/lost") reported messages lost:$(printf '\n')$(head -n 5 "$D/lost")"

	# The spool is sane: wq-stat works, nothing left in new/ or cur/, and
	# tmp/ holds only plain files of killed producers, none of them a
	# reported message, and head-hint symlinks of killed consumers
	# (.link.*, made in tmp/ and renamed over QUEUE/head).
	run -0 wq-stat q
	assert_stat q 0 0 0
	stat_is q total 0
	[ "$(nready q)" -eq 0 ]
	[ "$(nfiles "$(qdir q)/cur")" -eq 0 ]
	[ -z "$(find "$(qdir q)/tmp" -mindepth 1 ! -type f \
		! \( -type l -name '.link.*' \))" ]
	local left
	left=$(find "$(qdir q)/tmp" -mindepth 1 -printf '%f\n' |
		LC_ALL=C sort | join -t "$(printf '\t')" - "$D/sent")
	[ -z "$left" ] || fail "reported messages still in tmp/: $left"
	echo "# tmp/ leftovers of killed producers: $(nfiles "$(qdir q)/tmp")" >&3
}
