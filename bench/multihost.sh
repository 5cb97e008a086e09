#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/multihost.sh - wq on a spool shared by two hosts, beside the raw
# filesystem floor on the same mount, in the same run (make bench-multihost).
#
# A GlusterFS volume is mounted by two "hosts" (tests/sharedfs/gluster.sh:
# two FUSE clients with their own caches, each in its own network
# namespace; host.sh runs a command as host A or B).  Each round measures,
# with the floor and wq in turn (the order alternates from round to round):
#
#   a2b    one producer on A, one consumer on B; N messages of SIZE bytes,
#          from the common start to the consumer's last message
#   both   a producer and a consumer on each host (N/2 messages each)
#
# The floor is bench/mhfloor.c: create in tmp/ + write SIZE + rename into
# new/; claim by rename into cur/; read; unlink (the floor of
# ../shared/BENCH.md, no sync), its consumer listing new/ afresh and
# polling with wq's backoff (10 ms to 1 s).  wq is `wq-send -q -l` (queue
# created with --sync SYNC, default none, as the floor) and
# `wq-recv -f -l | head -n K`.
#
# Then the wake latency: a consumer waits on B while A sends, WAKES times,
# at random gaps of 0.2-3 s, to three receivers at once: wq-recv -f on B,
# the floor consumer polling with the same backoff, and the floor consumer
# polling every 10 ms (what the network and caches alone cost).  Latency
# runs from the sender's return (on A) to the receiver's output (on B);
# both hosts share this machine's clock.
#
# usage: bench/multihost.sh [-r ROUNDS] [-n N] [-s SIZE] [-w WAKES]
#                           [-S SYNC] [-o OUTDIR] [-k]
#   -r 3  -n 600  -s 100  -w 50  -S none
#   -o    results directory (bench/results/multihost-TIME)
#   -k    use the instance that is already up, and leave it up
# Output: OUTDIR/raw.tsv (round job system config phase n seconds
# ops_per_s us_per_op, the columns of ../shared/peers), ratios.md,
# wake.tsv (every sample), commands.txt, env.txt, logs/.
# The gluster instance: SFS_NS (sfsw), SFS_NET (10.205.0), SFS_ROOT
# (/tmp/sharedfs-wake), names of its own so as not to disturb another
# instance.  Needs root.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/build
KIT=$TOP/tests/sharedfs
: "${SFS_NS:=sfsw}" "${SFS_NET:=10.205.0}" "${SFS_ROOT:=/tmp/sharedfs-wake}"
export SFS_NS SFS_NET SFS_ROOT
export PATH="$BIN:$BIN/bench:$PATH" LC_ALL=C

ROUNDS=3 N=600 SIZE=100 WAKES=50 SYNC=none OUT='' KEEP=''
while getopts r:n:s:w:S:o:k o; do
	case $o in
	r) ROUNDS=$OPTARG ;;
	n) N=$OPTARG ;;
	s) SIZE=$OPTARG ;;
	w) WAKES=$OPTARG ;;
	S) SYNC=$OPTARG ;;
	o) OUT=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '/^# usage/,/^# Output/p' "$0" >&2; exit 64 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "multihost.sh: needs root" >&2; exit 77; }
[ -x "$BIN/bench/mhfloor" ] || { echo "multihost.sh: make build/bench/mhfloor first" >&2; exit 1; }
OUT=${OUT:-$TOP/bench/results/multihost-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT/logs"
L=$OUT/logs
SA=$SFS_ROOT/a/spool SB=$SFS_ROOT/b/spool
RUN=$(date +%s)	# names of this run's queues and floor directories
PIDS=()

log() { printf '%s\n' "$*" >&2; }
on() { "$KIT/host.sh" "$@"; }
now() { echo "$EPOCHREALTIME"; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in "$L"/*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	wait 2>/dev/null || true
	[ -n "$KEEP" ] || "$KIT/gluster.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$KEEP" ]; then
	"$KIT/gluster.sh" up >"$L/gluster-up.log" 2>&1 ||
		{ cat "$L/gluster-up.log" >&2; exit 1; }
fi
on a mkdir -p "$SA"
{
	echo "date: $(date -u +%FT%TZ)"
	echo "git: $(git -C "$TOP" describe --always --dirty 2>/dev/null)"
	echo "kernel: $(uname -r); cpus: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "glusterfs: $(glusterfs --version | head -n 1)"
	findmnt -t fuse.glusterfs | grep -F -e TARGET -e "$SFS_ROOT/"
	echo "args: -r $ROUNDS -n $N -s $SIZE -w $WAKES -S $SYNC"
	echo "SFS_NS=$SFS_NS SFS_NET=$SFS_NET SFS_ROOT=$SFS_ROOT SFS_CACHE=${SFS_CACHE:-default}"
} >"$OUT/env.txt"
printf 'round\tjob\tsystem\tconfig\tphase\tn\tseconds\tops_per_s\tus_per_op\n' >"$OUT/raw.tsv"
: >"$OUT/commands.txt"

# The bodies: N lines of SIZE bytes, for wq-send -l.
INPUT=$L/input
head -c "$SIZE" /dev/zero | tr '\0' m >"$L/line"
echo >>"$L/line"
for _ in $(seq "$N"); do cat "$L/line"; done >"$INPUT"
head -n $((N / 2)) "$INPUT" >"$INPUT.half"

# row ROUND JOB SYSTEM CONFIG PHASE N SECONDS: one row of raw.tsv.  For
# the wake rows SECONDS is the latency of one message (the median, p95 or
# maximum of N samples), and ops_per_s and us_per_op are of that one.
row() {
	awk -v r="$1" -v j="$2" -v s="$3" -v c="$4" -v p="$5" -v n="$6" -v t="$7" \
		'BEGIN { k = p ~ /^wake/ ? 1 : n
			printf "%d\t%s\t%s\t%s\t%s\t%d\t%.6f\t%.0f\t%.3f\n", r, j, s, c, p, n, t, k / t, t * 1e6 / k }' \
		>>"$OUT/raw.tsv"
}

# daemon NAME HOST CMD...: start CMD as HOST in the background, until it
# is stopped: its output in $L/NAME.out, its pid (of CMD itself, not of
# the host.sh wrapper) in $L/NAME.pid.
daemon() {
	local name=$1 h=$2
	shift 2
	echo "$ROUND	$name	host $h: $*" >>"$OUT/commands.txt"
	rm -f "$L/$name.pid"
	# shellcheck disable=SC2016  # expanded by that shell
	on "$h" sh -c 'echo $$ >"$0"; exec "$@"' "$L/$name.pid" "$@" \
		>"$L/$name.out" 2>"$L/$name.err" &
	PIDS+=("$!")
}

# stop NAME...: stop daemons.
stop() {
	local n
	for n in "$@"; do
		[ -s "$L/$n.pid" ] && kill "$(cat "$L/$n.pid")" 2>/dev/null
		rm -f "$L/$n.pid"
	done
	return 0
}

# wait_ready NAME...: the daemons have started and gone to sleep in their
# poll (/proc/PID/syscall: ppoll or nanosleep), so that start-up is not
# timed.
wait_ready() {
	local n p i
	for n in "$@"; do
		for i in $(seq 200); do
			if [ -s "$L/$n.pid" ]; then
				p=$(<"$L/$n.pid")
				case $(cut -d' ' -f1 "/proc/$p/syscall" 2>/dev/null) in
				271 | 35 | 230) break ;;
				esac
			fi
			[ "$i" -lt 200 ] || { log "$n did not start: $(cat "$L/$n.err")"; exit 1; }
			sleep 0.05
		done
	done
}

# lines FILE...: the number of lines in all FILEs.
lines() {
	cat "$@" 2>/dev/null | wc -l
}

# finish T0 TOTAL CONSUMERS PRODUCERS: wait until the consumers (daemons
# printing a line per message) have printed TOTAL lines in all, then stop
# them; the seconds from T0 to then.  A message counts once it is out of
# a consumer (nothing held in a pipe).  The producers must have ended
# without error.
finish() {
	local t0=$1 total=$2 cons=$3 prods=$4 j waited=0 e outs=()
	for j in $cons; do outs+=("$L/$j.out"); done
	until [ "$(lines "${outs[@]}")" -ge "$total" ]; do
		sleep 0.05
		waited=$((waited + 1))
		if [ "$waited" -gt 6000 ]; then
			log "round $ROUND: $cons got $(lines "${outs[@]}") of $total messages in 300 s"
			for j in $cons $prods; do log "  $j stderr: $(head -c 300 "$L/$j.err")"; done
			# shellcheck disable=SC2086
			stop $cons
			exit 1
		fi
	done
	e=$(now)
	# shellcheck disable=SC2086
	stop $cons
	wait
	PIDS=()
	for j in $cons $prods; do
		# a consumer stopped by SIGTERM may say so; nothing else is expected
		if grep -qv '^Terminated$' "$L/$j.err" 2>/dev/null; then
			log "round $ROUND: $j wrote on stderr: $(head -c 500 "$L/$j.err")"
			cp "$L/$j.err" "$L/r$ROUND-$j.err"
		fi
	done
	awk -v a="$t0" -v b="$e" 'BEGIN { printf "%.6f", b - a }'
}

floor_consumer() { # NAME HOST DIR: claims forever, a line each
	daemon "$1" "$2" mhfloor consume "$3" 0 10 1000 -v
}

wq_consumer() { # NAME HOST SPOOL QUEUE: wq-recv -f -l, a line each
	daemon "$1" "$2" wq-recv -d "$3" -f -l "$4"
}

floor_producer() { # NAME HOST DIR COUNT TAG
	echo "$ROUND	$1	host $2: mhfloor produce $3 $4 $SIZE $5" >>"$OUT/commands.txt"
	on "$2" mhfloor produce "$3" "$4" "$SIZE" "$5" >"$L/$1.out" 2>"$L/$1.err" &
	PIDS+=("$!")
}

wq_producer() { # NAME HOST SPOOL QUEUE INPUT
	echo "$ROUND	$1	host $2: wq-send -d $3 -q -l $4 < $5" >>"$OUT/commands.txt"
	# shellcheck disable=SC2016  # expanded by that shell
	on "$2" sh -c 'exec wq-send -d "$0" -q -l "$1" <"$2"' "$3" "$4" "$5" \
		>"$L/$1.out" 2>"$L/$1.err" &
	PIDS+=("$!")
}

floor_a2b() {
	local d=floor-$RUN-r$ROUND-a2b t0 s
	on a mkdir -p "$SA/$d"
	floor_consumer fc.b b "$SB/$d"
	wait_ready fc.b
	t0=$(now)
	floor_producer fp.a a "$SA/$d" "$N" a
	s=$(finish "$t0" "$N" fc.b fp.a)
	row "$ROUND" mh-a2b floor "gluster:none-$SIZE" a2b "$N" "$s"
	echo "$s"
}

wq_a2b() {
	local q=wq-$RUN-r$ROUND-a2b t0 s
	on a wq-create -d "$SA" --sync "$SYNC" "$q"
	wq_consumer wc.b b "$SB" "$q"
	wait_ready wc.b
	t0=$(now)
	wq_producer wp.a a "$SA" "$q" "$INPUT"
	s=$(finish "$t0" "$N" wc.b wp.a)
	row "$ROUND" mh-a2b wq "gluster:$SYNC-$SIZE" a2b "$N" "$s"
	echo "$s"
}

floor_both() {
	local d=floor-$RUN-r$ROUND-both t0 s h=$((N / 2))
	on a mkdir -p "$SA/$d"
	floor_consumer fc.a a "$SA/$d"
	floor_consumer fc.b b "$SB/$d"
	wait_ready fc.a fc.b
	t0=$(now)
	floor_producer fp.a a "$SA/$d" "$h" a
	floor_producer fp.b b "$SB/$d" "$h" b
	s=$(finish "$t0" $((2 * h)) "fc.a fc.b" "fp.a fp.b")
	row "$ROUND" mh-both floor "gluster:none-$SIZE" both $((2 * h)) "$s"
	echo "$s"
}

wq_both() {
	local q=wq-$RUN-r$ROUND-both t0 s h=$((N / 2))
	on a wq-create -d "$SA" --sync "$SYNC" "$q"
	wq_consumer wc.a a "$SA" "$q"
	wq_consumer wc.b b "$SB" "$q"
	wait_ready wc.a wc.b
	t0=$(now)
	wq_producer wp.a a "$SA" "$q" "$INPUT.half"
	wq_producer wp.b b "$SB" "$q" "$INPUT.half"
	s=$(finish "$t0" $((2 * h)) "wc.a wc.b" "wp.a wp.b")
	row "$ROUND" mh-both wq "gluster:$SYNC-$SIZE" both $((2 * h)) "$s"
	echo "$s"
}

declare -A RATIO
for ROUND in $(seq "$ROUNDS"); do
	for mode in a2b both; do
		if [ $((ROUND % 2)) -eq 1 ]; then
			f=$(floor_$mode) || exit 1
			w=$(wq_$mode) || exit 1
		else
			w=$(wq_$mode) || exit 1
			f=$(floor_$mode) || exit 1
		fi
		r=$(awk -v f="$f" -v w="$w" 'BEGIN { printf "%.2f", f / w }')
		RATIO[$mode]="${RATIO[$mode]:-} $r"
		log "round $ROUND $mode: floor $(awk -v n="$N" -v t="$f" 'BEGIN { printf "%.0f", n / t }') msg/s," \
			"wq $(awk -v n="$N" -v t="$w" 'BEGIN { printf "%.0f", n / t }') msg/s, wq/floor $r"
	done
done

# ------------------------------------------------------------ wake latency
QW=wq-$RUN-wake
on a wq-create -d "$SA" --sync "$SYNC" "$QW"
on a mkdir -p "$SA/floor-$RUN-wake-backoff" "$SA/floor-$RUN-wake-10ms"
ROUND=0
echo "0	wake	host b: wq-recv -d $SB -f -l $QW (each line stamped)" >>"$OUT/commands.txt"
{
	# shellcheck disable=SC2016  # expanded by that shell
	on b sh -c 'echo $$ >"$0"; exec "$@"' "$L/wake-wq.pid" \
		wq-recv -d "$SB" -f -l "$QW" 2>"$L/wake-wq.err" |
		while IFS= read -r l; do echo "$l $EPOCHREALTIME"; done >"$L/wake-wq.out"
} &
PIDS+=("$!")
daemon wake-fb b mhfloor consume "$SB/floor-$RUN-wake-backoff" 0 10 1000 -v
daemon wake-f10 b mhfloor consume "$SB/floor-$RUN-wake-10ms" 0 10 10 -v
wait_ready wake-wq wake-fb wake-f10
echo "0	wake	host a: for each of $WAKES: sleep 0.2-3 s; wq-send, mhfloor produce x2 (order rotating), each stamped at its return" >>"$OUT/commands.txt"
# shellcheck disable=SC2016  # expanded by that bash
on a bash -c '
	n=$0 sa=$1 q=$2 run=$3
	one() {
		case $1 in
		wq) wq-send -d "$sa" -q "$q" "w$i" ;;
		fb) mhfloor produce "$sa/floor-$run-wake-backoff" 1 100 "w$i" ;;
		f10) mhfloor produce "$sa/floor-$run-wake-10ms" 1 100 "w$i" ;;
		esac
		echo "$1 w$i $EPOCHREALTIME"
	}
	for i in $(seq "$n"); do
		sleep "$((RANDOM % 28 / 10)).$((2 + RANDOM % 8))"
		case $((i % 3)) in
		0) one wq; one fb; one f10 ;;
		1) one fb; one f10; one wq ;;
		2) one f10; one wq; one fb ;;
		esac
	done' "$WAKES" "$SA" "$QW" "$RUN" >"$L/wake-sent"
sleep 3	# the last message is seen within the bound
{
	awk '$1 == "wq" { print $2, $3 }' "$L/wake-sent" | sort >"$L/s.wq"
	awk '{ print $1, $2 }' "$L/wake-wq.out" | sort >"$L/r.wq"
	awk '$1 == "fb" { print $2, $3 }' "$L/wake-sent" | sort >"$L/s.fb"
	awk '{ sub(/\.0$/, "", $1); print $1, $2 }' "$L/wake-fb.out" | sort >"$L/r.fb"
	awk '$1 == "f10" { print $2, $3 }' "$L/wake-sent" | sort >"$L/s.f10"
	awk '{ sub(/\.0$/, "", $1); print $1, $2 }' "$L/wake-f10.out" | sort >"$L/r.f10"
}
printf 'receiver\tmessage\tsent\treceived\tlatency_ms\n' >"$OUT/wake.tsv"
for k in wq fb f10; do
	join "$L/s.$k" "$L/r.$k" |
		awk -v k="$k" '{ printf "%s\t%s\t%s\t%s\t%.1f\n", k, $1, $2, $3, ($3 - $2) * 1000 }' >>"$OUT/wake.tsv"
done
# stats RECEIVER: "n median p95 max" in ms
stats() {
	awk -F'\t' -v k="$1" '$1 == k { print $5 }' "$OUT/wake.tsv" | sort -n |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "0 - - -"; exit }
			m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.95 + 0.999)]
			printf "%d %.0f %.0f %.0f\n", NR, m, p, v[NR] }'
}
declare -A WK
for k in wq fb f10; do
	WK[$k]=$(stats "$k")
	read -r n m p x <<<"${WK[$k]}"
	case $k in wq) sys=wq cfg="gluster:$SYNC" ;; fb) sys=floor cfg=gluster:backoff ;; f10) sys=floor cfg=gluster:poll10ms ;; esac
	if [ "$n" -gt 0 ]; then
		row 0 mh-wake "$sys" "$cfg" wake-median "$n" "$(awk -v v="$m" 'BEGIN { print v / 1000 }')"
		row 0 mh-wake "$sys" "$cfg" wake-p95 "$n" "$(awk -v v="$p" 'BEGIN { print v / 1000 }')"
		row 0 mh-wake "$sys" "$cfg" wake-max "$n" "$(awk -v v="$x" 'BEGIN { print v / 1000 }')"
	fi
	[ "$n" -eq "$WAKES" ] || log "wake: $k received $n of $WAKES messages"
done

# ------------------------------------------------------------ report
med() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rng() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { a = $1 } END { print a "-" $1 }'; }
tput() { # system phase: median msg/s over rounds
	awk -F'\t' -v s="$1" -v p="$2" '$3 == s && $5 == p { print $8 }' "$OUT/raw.tsv" | med
}
{
	echo "# Two hosts on GlusterFS ($(date -u +%F), $ROUNDS rounds, N=$N, ${SIZE}-byte messages, wq --sync $SYNC)"
	echo
	echo "| mode | floor msg/s | wq msg/s | wq/floor (median, range) |"
	echo "|---|---:|---:|---:|"
	echo "| producer on A, consumer on B | $(tput floor a2b) | $(tput wq a2b) | $(echo "${RATIO[a2b]}" | med) ($(echo "${RATIO[a2b]}" | rng)) |"
	echo "| both hosts produce and consume | $(tput floor both) | $(tput wq both) | $(echo "${RATIO[both]}" | med) ($(echo "${RATIO[both]}" | rng)) |"
	echo
	echo "Wake latency, send on A to output on B ($WAKES sends, 0.2-3 s apart), ms:"
	echo
	echo "| receiver on B | n | median | p95 | max |"
	echo "|---|---:|---:|---:|---:|"
	for k in wq fb f10; do
		read -r n m p x <<<"${WK[$k]}"
		case $k in
		wq) what="wq-recv -f (backoff 10 ms-1 s)" ;;
		fb) what="floor, same backoff" ;;
		f10) what="floor, polling every 10 ms" ;;
		esac
		echo "| $what | $n | $m | $p | $x |"
	done
} >"$OUT/ratios.md"
cat "$OUT/ratios.md"
echo
echo "results: $OUT"
