#!/bin/sh
# SPDX-License-Identifier: MIT
# nfs-wake.sh - inside the qemu guest of tests/sharedfs/qemu-nfs.sh (with
# SFS_GUEST_HOSTROOT=1): how long a consumer waiting on one NFS client
# (/mnt/b) takes to see a message sent through the other (/mnt/a).
#
#   nfs-wake.sh N
#
# N times: start `wq-recv -w 60` on /mnt/b, let it reach its longest poll
# interval (1.5-2.4 s idle), send one message through /mnt/a, and measure
# from the start of the send to the consumer's exit (CLOCK_MONOTONIC, via
# /proc/uptime).  The latencies in ms go to /mnt/out/wake.txt, one a line;
# their summary is printed.  No quotes in the guest command line.
set -u
n=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
B=${WQ_BIN:-$here/../../build}
up() { cut -d' ' -f1 /proc/uptime; }
"$B/wq-create" -d /mnt/a/w -p q || exit 2
: >/mnt/out/wake.txt
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	"$B/wq-recv" -d /mnt/b/w -w 60 q >/tmp/got 2>&1 &
	pid=$!
	sleep "1.$(( 5 + i % 10 ))"
	t0=$(up)
	"$B/wq-send" -d /mnt/a/w q "m$i" >/dev/null || echo "send $i failed"
	wait "$pid" || echo "recv $i exit $?"
	t1=$(up)
	grep -qx "m$i" /tmp/got || echo "recv $i got: $(cat /tmp/got)"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d\n", (b - a) * 1000 }' >>/mnt/out/wake.txt
done
sort -n /mnt/out/wake.txt | awk '{ v[NR] = $1 } END {
	printf "nfs-wake: %d sends: median %d ms, p90 %d ms, max %d ms\n",
	    NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'
