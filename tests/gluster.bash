# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# A private GlusterFS volume for one bats file (tests/sharedfs/gluster.sh),
# set up in setup_file and taken down in teardown_file, which loading this
# defines; the file sets SFS_NS, SFS_NET and SFS_ROOT first, so that files
# never share one.
# bats 1.8 fails a file whose setup_file skips, so the reason to skip is
# kept in $BATS_FILE_TMPDIR/skip and gluster_skip (in setup) skips each
# test; in CI, where .ci/run installs everything, it fails instead.

GLUSTER_KIT="$BATS_TEST_DIRNAME/sharedfs"

# Why a volume cannot be had here, or nothing.
gluster_why_not() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces, FUSE mounts)"; return; }
	if ! command -v glusterd >/dev/null || ! command -v glusterfs >/dev/null; then
		echo "glusterd/glusterfs not installed (tests/sharedfs/gluster.sh install)"
		return
	fi
	[ -c /dev/fuse ] || { echo "no /dev/fuse"; return; }
	ip netns add "$SFS_NS-probe" 2>/dev/null ||
		{ echo "cannot create network namespaces (ip netns add)"; return; }
	ip netns del "$SFS_NS-probe"
}

setup_file() {
	local why
	why=$(gluster_why_not)
	if [ -n "$why" ]; then
		echo "$why" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	# From here on teardown_file takes the volume down, even half up.
	: >"$BATS_FILE_TMPDIR/ours"
	if ! "$GLUSTER_KIT/gluster.sh" up >"$BATS_FILE_TMPDIR/up.log" 2>&1; then
		cat "$BATS_FILE_TMPDIR/up.log" >&2
		return 1
	fi
}

teardown_file() {
	if [ -e "$BATS_FILE_TMPDIR/ours" ]; then
		"$GLUSTER_KIT/gluster.sh" down
	fi
}

# In setup: skip (fail in CI) if setup_file found no volume to be had.
gluster_skip() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then
		[ -z "${CI-}" ] || fail "$(cat "$BATS_FILE_TMPDIR/skip") (CI must run it)"
		skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	fi
}
