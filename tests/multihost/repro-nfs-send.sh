#!/bin/sh
# SPDX-License-Identifier: MIT
# repro-nfs-send.sh SECONDS - run in the qemu NFS guest (tests/sharedfs/
# qemu-nfs.sh, SFS_GUEST_HOSTROOT=1): three wq-send -l loops on /mnt/a
# (under strace) and two popping wq-recv loops on /mnt/b, one queue.  A
# send that fails is reported with its strace (in /mnt/out) and whether
# the consumers received the id it failed on.
B=${WQ_BIN:-/work/wt-mh/build}
$B/wq-create -d /mnt/a/r -p --sync batch q
end=$(($(date +%s) + ${1:-40}))
for c in 1 2; do
	(while [ "$(date +%s)" -lt $end ]; do
		$B/wq-recv -d /mnt/b/r --json -n 50 q >>/tmp/recv.$c 2>>/tmp/recv.err
	done) &
done
for s in 1 2 3; do
	(i=0
	while [ "$(date +%s)" -lt $end ]; do
		i=$((i + 1))
		seq 1 20 | sed "s/^/s$s-r$i-l/" >/tmp/in.$s
		strace -f -o /tmp/st.$s.$i -e trace=%file,%desc,syncfs \
			$B/wq-send -d /mnt/a/r -l q </tmp/in.$s >>/tmp/ids 2>/tmp/err.$s.$i
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "sender $s run $i exit $rc: $(cat /tmp/err.$s.$i)"
			cp /tmp/st.$s.$i /mnt/out/
			grep -o 'renameat([0-9]*, "[^"]*", [0-9]*, "[^"]*") = -1 ENOENT' /tmp/st.$s.$i |
				sed 's/renameat([0-9]*, "\([^"]*\)".*/\1/' >>/tmp/failed
		fi
		rm -f /tmp/st.$s.$i
	done) &
done
wait
# a last pop of what is left
$B/wq-recv -d /mnt/b/r --json -n 100000 q >>/tmp/recv.1 2>>/tmp/recv.err
echo "recv errors:"; sort /tmp/recv.err | uniq -c | head
for id in $(cat /tmp/failed 2>/dev/null); do
	echo "id of the failed rename $id: delivered $(cat /tmp/recv.* | grep -c "\"id\":\"$id\"") time(s)"
done
cat /tmp/recv.* | sed 's/.*"id":"\([^"]*\)".*"body":"\([^"]*\)".*/\1 \2/' | sort >/tmp/got
echo "ids reported: $(sort -u /tmp/ids | wc -l), delivered: $(wc -l </tmp/got)"
echo "reported, never delivered (lost):"
cut -d' ' -f1 /tmp/got | sort -u | comm -23 - /dev/null >/dev/null
sort -u /tmp/ids | comm -23 - "$(cut -d' ' -f1 /tmp/got | sort -u >/tmp/gotids; echo /tmp/gotids)" | head
echo "delivered, never reported (a failed send left them):"
comm -13 "$(sort -u /tmp/ids >/tmp/sids; echo /tmp/sids)" /tmp/gotids | while read -r id; do grep "^$id " /tmp/got; done | head -30
$B/wq-stat -d /mnt/a/r
