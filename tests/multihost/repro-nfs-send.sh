#!/bin/sh
# SPDX-License-Identifier: MIT
# repro-nfs-send.sh SECONDS - a send that fails on NFS (see README.md,
# "Defects found").  Runs in the qemu NFS guest:
#
#   SFS_GUEST_HOSTROOT=1 SFS_GUEST_CMD='sh /PATH/repro-nfs-send.sh 40' \
#       tests/sharedfs/qemu-nfs.sh run
#
# Three wq-send -l loops on /mnt/a (under strace) and two popping wq-recv
# loops on /mnt/b, one queue.  A send that fails is reported with its
# strace (copied to /mnt/out) and with every call any sender made on the
# name whose rename failed; at the end, the ids reported and delivered are
# compared (lost; delivered though the send failed).  KEEP_STRACE=1 keeps
# all the senders' straces for that comparison.
B=${WQ_BIN:-/work/wt-mh/build}
"$B/wq-create" -d /mnt/a/r -p --sync batch q
end=$(($(date +%s) + ${1:-40}))
for c in 1 2; do
	(while [ "$(date +%s)" -lt $end ]; do
		"$B/wq-recv" -d /mnt/b/r --json -n 50 q >>/tmp/recv.$c 2>>/tmp/recv.err
	done) &
done
for s in 1 2 3; do
	(i=0
	while [ "$(date +%s)" -lt $end ]; do
		i=$((i + 1))
		seq 1 20 | sed "s/^/s$s-r$i-l/" >/tmp/in.$s
		strace -f -o /tmp/st.$s.$i -e trace=%file,%desc,syncfs \
			"$B/wq-send" -d /mnt/a/r -l q </tmp/in.$s >>/tmp/ids 2>/tmp/err.$s.$i
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "sender $s run $i exit $rc: $(cat /tmp/err.$s.$i)"
			cp /tmp/st.$s.$i /mnt/out/
			grep -o 'renameat([0-9]*, "[^"]*", [0-9]*, "[^"]*") = -1 ENOENT' /tmp/st.$s.$i |
				sed 's/renameat([0-9]*, "\([^"]*\)".*/\1/' >>/tmp/failed
		fi
		[ -n "${KEEP_STRACE:-}" ] && cat /tmp/st.$s.$i >>/tmp/st.all
		rm -f /tmp/st.$s.$i
	done) &
done
wait
# a last pop of what is left
"$B/wq-recv" -d /mnt/b/r --json -n 100000 q >>/tmp/recv.1 2>>/tmp/recv.err
echo "recv errors:"
sort /tmp/recv.err | uniq -c | head
touch /tmp/failed
while read -r id; do
	if [ -n "${KEEP_STRACE:-}" ]; then
		echo "calls on $id by any sender:"
		grep -F "$id" /tmp/st.all | grep -v 'renameat(6,' | cut -c1-160
	fi
	echo "id of the failed rename $id: delivered $(cat /tmp/recv.* | grep -c "\"id\":\"$id\"") time(s)"
done </tmp/failed
cat /tmp/recv.* | sed 's/.*"id":"\([^"]*\)".*"body":"\([^"]*\)".*/\1 \2/' | sort >/tmp/got
cut -d' ' -f1 /tmp/got | sort -u >/tmp/gotids
sort -u /tmp/ids >/tmp/sids
echo "ids reported: $(wc -l </tmp/sids), delivered: $(wc -l </tmp/got)"
echo "reported, never delivered (lost):"
comm -23 /tmp/sids /tmp/gotids | head
echo "delivered, never reported (a failed send left them):"
comm -13 /tmp/sids /tmp/gotids | head
"$B/wq-stat" -d /mnt/a/r
