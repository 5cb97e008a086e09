#!/bin/bash
# SPDX-License-Identifier: MIT
# check-nfs.sh - `make check-nfs`: tests/multihost/mh.py over the real Linux
# NFS client.  tests/sharedfs/qemu-nfs.sh boots a Debian kernel under qemu
# whose two independent NFS mounts of one nfs-ganesha export, /mnt/a and
# /mnt/b, are the two hosts (tests/multihost/nfs-guest.sh runs them, each
# with its own host name, and the checker).  Scenarios, one guest boot each:
#
#   v4.1        NFSv4.1, the guest clock right
#   v4.1-kill   the same with workload processes SIGKILLed at random and
#               host B killed mid-claim half-way (same boot as v4.1)
#   v4.1-skew+N the guest clock N s ahead of the server's (file times are
#               the server's; ids, deadlines and bucket times the guest's)
#   v4.1-skew-N the guest clock N s behind
#   v3          NFSv3 (no delegations, no open state)
#
# Knobs: MH_NFS_SECONDS (15) per run, MH_NFS_SKEW (90), MH_NFS_ONLY (a
# space-separated subset of: v41 skew+ skew- v3).  The summary lines (sent,
# delivered, duplicates, lost, msg/s per host) are in build/check-nfs.txt
# and printed; the guests' consoles in build/check-nfs.console, the hosts'
# logs in build/check-nfs-logs/; the exit
# status is 1 when any scenario failed.  Needs root; `qemu-nfs.sh install`
# once (packages and a kernel).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qn=$top/tests/sharedfs/qemu-nfs.sh
export SFS_NS=${SFS_NS:-mhnfs}
export SFS_ROOT=${SFS_ROOT:-/tmp/wq-check-nfs}
secs=${MH_NFS_SECONDS:-15}
skew=${MH_NFS_SKEW:-90}
only=${MH_NFS_ONLY:-v41 skew+ skew- v3}
out=$top/build/check-nfs.txt
console=$top/build/check-nfs.console

[ "$(id -u)" -eq 0 ] || { echo "check-nfs: needs root" >&2; exit 2; }
if ! find "$SFS_ROOT/k/boot" -name 'vmlinuz-*' 2>/dev/null | grep -q .; then
	"$qn" install || { echo "check-nfs: qemu-nfs.sh install failed" >&2; exit 2; }
fi
mkdir -p "$top/build"
: >"$out"
: >"$console"
trap '"$qn" down >/dev/null 2>&1' EXIT
"$qn" up || exit 2

g="sh $here/nfs-guest.sh"
failed=0
# boot LABEL ENV... -- GUESTCMD: one guest; its summary lines appended
boot() {
	local label=$1 envs=() t0 rc
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	echo "check-nfs: $label: booting the guest ($*)"
	rm -f "$SFS_ROOT/out/summary.txt"
	t0=$SECONDS
	env "${envs[@]}" SFS_GUEST_HOSTROOT=1 SFS_GUEST_CMD="$*" \
		SFS_GUEST_TIMEOUT=$((secs * 12 + 300)) "$qn" run >>"$console" 2>&1
	rc=$?
	if [ -s "$SFS_ROOT/out/summary.txt" ]; then
		cat "$SFS_ROOT/out/summary.txt" >>"$out"
	else
		echo "$label: mh: FAIL no summary from the guest (qemu-nfs.sh run exit $rc; see $console)" >>"$out"
	fi
	echo "$label: guest run took $((SECONDS - t0)) s" >>"$out"
	# the hosts' logs, for a post-mortem (qemu-nfs.sh down removes out/)
	mkdir -p "$top/build/check-nfs-logs"
	cp "$SFS_ROOT"/out/logs-*.tgz "$top/build/check-nfs-logs/" 2>/dev/null
}

labels=
for s in $only; do
	case $s in
	v41) labels="$labels v4.1 v4.1-kill" ;;
	skew+) labels="$labels v4.1-skew+$skew" ;;
	skew-) labels="$labels v4.1-skew-$skew" ;;
	v3) labels="$labels v3" ;;
	esac
	case $s in
	v41) boot v4.1 -- "$g v4.1 $secs; $g v4.1-kill $secs kill" ;;
	skew+) boot "v4.1-skew+$skew" SFS_GUEST_SKEW="$skew" -- "$g v4.1-skew+$skew $secs" ;;
	skew-) boot "v4.1-skew-$skew" SFS_GUEST_SKEW="-$skew" -- "$g v4.1-skew-$skew $secs" ;;
	v3) boot v3 SFS_NFSVERS=3 -- "$g v3 $secs" ;;
	*) echo "check-nfs: unknown scenario $s" >&2; exit 2 ;;
	esac
done
# every scenario must have passed: one that never reported (a guest that
# hung until its timeout) fails too
for label in $labels; do
	grep -q "^$label: mh: PASS" "$out" ||
		echo "$label: mh: FAIL no verdict (see $console)" >>"$out"
done
grep -q 'mh: FAIL' "$out" && failed=1
echo "=== make check-nfs: $out"
cat "$out"
exit $failed
