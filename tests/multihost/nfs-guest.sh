#!/bin/sh
# SPDX-License-Identifier: MIT
# nfs-guest.sh - inside the qemu guest of tests/sharedfs/qemu-nfs.sh (run
# with SFS_GUEST_HOSTROOT=1, so this machine's root is the guest's chroot):
# two "hosts" on one spool over the guest's two independent NFS clients,
# /mnt/a and /mnt/b, each with its own host name (unshare -u) and its own
# local log directory in the guest's /tmp; then the checker.
#
#   nfs-guest.sh LABEL SECONDS [kill]
#
# kill: both hosts SIGKILL their workload processes at random (mh.py run
# --kill), and host B (its own PID namespace) is killed outright half-way,
# while one of its claims is under way.  The summary lines go to
# /mnt/out/summary.txt, prefixed with LABEL; the exit status is the
# checker's.  No quotes in the guest command line: qemu-nfs.sh pastes it
# into the guest's init between single quotes.
set -u
label=$1 secs=$2 mode=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
mh=$here/mh.py
spool=s-$label
log=/tmp/mh-$label
# mh.py run's options, in "$@"; an emulated guest is slow: a kill every
# 0-2 s, or hardly anything would finish
set --
[ "$mode" = kill ] && set -- --kill --kill-pause 2
mkdir -p "$log"
say() { echo "nfs-guest: $label: $*"; }

python3 "$mh" setup --spool "/mnt/a/$spool" --visibility 2 --clock-skew 1 || exit 2
t0=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -u sh -c 'hostname host-a; exec "$@"' sh python3 "$mh" run \
	--spool "/mnt/a/$spool" --log "$log/a" --seconds "$secs" "$@" \
	>"$log/a.out" 2>&1 &
pa=$!
# shellcheck disable=SC2016
unshare -u -p -f --kill-child sh -c 'hostname host-b; exec "$@"' sh python3 \
	"$mh" run --spool "/mnt/b/$spool" --log "$log/b" --seconds "$secs" \
	"$@" >"$log/b.out" 2>&1 &
pb=$!
if [ "$mode" = kill ]; then
	# half-way, at a moment when B's last logged step is a claim under way
	half=$(awk -v s="$secs" -v t="$t0" 'BEGIN { print t + s / 2 }')
	while awk -v h="$half" '{ exit !($1 < h) }' /proc/uptime; do sleep 0.2; done
	n=0
	until tail -n 1 "$log/b/events.jsonl" 2>/dev/null | grep -q '"ev":"claim"'; do
		n=$((n + 1))
		[ $n -gt 2000 ] && break
		sleep 0.01
	done
	say "killing host B"
	kill -KILL "$pb"
	wait "$pb"
	# the PID namespace dies with its init; wait until B's python is gone,
	# for a minute at most: a process that outlives SIGKILL that long is
	# stuck in the kernel, and what it waits in is the finding
	n=0
	while pgrep -f "mh.py run --spool /mnt/b/$spool" >/dev/null; do
		n=$((n + 1))
		if [ $n -gt 600 ]; then
			say "host B's processes outlived SIGKILL by a minute:"
			ps -eo pid,stat,wchan:32,args | awk 'NR == 1 || $2 ~ /D/ || /mh.py|wq-/'
			echo "$label: mh: FAIL host B's processes outlived SIGKILL" >>/mnt/out/summary.txt
			exit 1
		fi
		sleep 0.1
	done
	python3 "$mh" mark --log "$log/b"
	say "host B killed mid-claim ($([ $n -le 2000 ] && echo yes || echo "no claim seen"))"
else
	wait "$pb" || say "host B exited $?"
fi
wait "$pa" || say "host A exited $?"
cat "$log/a.out" "$log/b.out"
python3 "$mh" check --spool "/mnt/a/$spool" "$log/a" "$log/b" >"$log/check" 2>&1
rc=$?
cat "$log/check"
sed "s/^/$label: /" "$log/check" >>/mnt/out/summary.txt
# the logs, for a post-mortem on the host
tar -C /tmp -czf "/mnt/out/logs-$label.tgz" "mh-$label" 2>/dev/null
say "check exit $rc"
exit $rc
