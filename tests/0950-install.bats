#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# make install with PREFIX and DESTDIR, and a program built against the
# installed libwq through pkg-config.

bats_require_minimum_version 1.5.0
load helpers

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"

@test "make install puts everything under DESTDIR/PREFIX" {
	dest="$BATS_TEST_TMPDIR/dest"
	run -0 make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/wq
	for f in bin/wq-create bin/wq-send bin/wq-recv bin/wq-ack bin/wq-stat \
		bin/wq-rm share/man/man1/wq-rm.1 \
		share/bash-completion/completions/wq-rm \
		bin/wq-redrive share/man/man1/wq-redrive.1 \
		share/bash-completion/completions/wq-redrive \
		bin/wq-fsck share/man/man1/wq-fsck.1 \
		share/bash-completion/completions/wq-fsck \
		bin/wq-serve share/man/man1/wq-serve.1 \
		share/bash-completion/completions/wq-serve \
		lib/systemd/system/wq-serve.service \
		lib/systemd/system/wq-serve.socket \
		lib/systemd/system/wq-recv@.service \
		include/wq.h lib/libwq.a lib/libwq.so lib/libwq.so.0 \
		lib/pkgconfig/libwq.pc share/man/man1/wq-recv.1 \
		share/man/man5/wq.5 share/man/man7/wq.7 \
		share/bash-completion/completions/wq-send \
		share/zsh/site-functions/_wq \
		share/fish/vendor_completions.d/wq.fish; do
		assert_exists "$dest/opt/wq/$f"
	done
	run -0 grep -x 'libdir=/opt/wq/lib' "$dest/opt/wq/lib/pkgconfig/libwq.pc"
	run -0 "$dest/opt/wq/bin/wq-send" --version
	run -0 grep -x 'ExecStart=/opt/wq/bin/wq-serve .*' \
		"$dest/opt/wq/lib/systemd/system/wq-serve.service"
	run -0 grep -x 'ExecStart=/opt/wq/bin/wq-recv .*' \
		"$dest/opt/wq/lib/systemd/system/wq-recv@.service"
}

@test "the systemd units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	local d=$BATS_TEST_TMPDIR/units u
	mkdir "$d"
	# The binaries of this tree, since verify checks that ExecStart exists;
	# the template as an instance of it.
	for u in wq-serve.service wq-serve.socket wq-recv@.service; do
		sed "s|/usr/local/bin/|$BUILD_DIR/|" "$ROOT/contrib/systemd/$u" \
			>"$d/${u/@./@jobs.}"
	done
	run -0 systemd-analyze verify --man=no "$d/wq-serve.service" \
		"$d/wq-serve.socket" "$d/wq-recv@jobs.service"
	assert_output ""
	# It does complain, of a misspelt setting for one.
	sed -i 's/^KillMode=/KilMode=/' "$d/wq-recv@jobs.service"
	run systemd-analyze verify --man=no "$d/wq-recv@jobs.service"
	assert_output --partial "Unknown key 'KilMode'"
}

@test "a C program builds against the installed libwq with pkg-config" {
	dest="$BATS_TEST_TMPDIR/dest"
	make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr
	cat >"$BATS_TEST_TMPDIR/prog.c" <<'C'
#include <stdio.h>
#include <wq.h>

int
main(void)
{
	struct wq_spool *s = wq_spool_open(NULL, 1);
	struct wq_queue *q;
	char id[WQ_ID_MAX];

	if (s == NULL || wq_queue_create(s, "lib", NULL, 0, 0) == -1 ||
	    (q = wq_queue_open(s, "lib")) == NULL ||
	    wq_send(q, "from C", 6, id) == -1)
		return 1;
	puts(id);
	wq_queue_close(q);
	wq_spool_close(s);
	return 0;
}
C
	san=""
	if nm "$dest/usr/lib/libwq.a" 2>/dev/null | grep -q __asan_; then
		san="-fsanitize=address,undefined"
	fi
	export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
	export PKG_CONFIG_SYSROOT_DIR="$dest"
	# shellcheck disable=SC2046,SC2086
	run -0 cc $san -o "$BATS_TEST_TMPDIR/prog" "$BATS_TEST_TMPDIR/prog.c" \
		$(pkg-config --cflags --libs --static libwq) \
		-Wl,-rpath,"$dest/usr/lib"
	run -0 "$BATS_TEST_TMPDIR/prog"
	id=$output
	run -0 wq-recv -L --json lib
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" "from C"
}
