#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Injected I/O faults: tests/tools/fault-sweep fails each file-system call
# of a command in turn (strace -e inject, EIO, every third call of each
# kind and the last, to keep make check short; ENOSPC for real is
# tests/1540-full-disk.bats) and checks what the SPEC promises of a failure: exit 74
# with one line `wq-CMD: QUEUE: ...`, no visible message that was not
# reported, a lease left as it was, and a spool from which a follow-up
# receives every expected body exactly once.  This is the short set; the
# long one (every scenario, EIO ENOSPC EDQUOT ESTALE) is
#
#	tests/tools/fault-sweep --errnos EIO,ENOSPC,EDQUOT,ESTALE --all
#
# See tests/faults.md.

bats_require_minimum_version 1.5.0
load helpers

SWEEP="$BATS_TEST_DIRNAME/tools/fault-sweep"

setup() {
	common_setup
	# A sanitizer's runtime makes file-system calls of its own (it reads
	# /proc/self/maps at start), which the injection would fail: the
	# sweep runs on the normal build (make check without SANITIZE).
	[ -z "${WQ_SANITIZED-}" ] ||
		skip "a sanitizer build: its runtime's own calls would be faulted"
	command -v python3 >/dev/null || skip "no python3"
	command -v strace >/dev/null || skip "no strace"
	if ! strace -f -qq -o /dev/null -e inject=getpid:error=EIO:when=1 \
	    true 2>/dev/null; then
		[ -z "${CI-}" ] || fail "strace cannot inject faults in CI"
		skip "strace cannot inject faults here"
	fi
	export TMPDIR="$BATS_TEST_TMPDIR"
}

# sweep SCENARIO...: no defect in any run of the SCENARIOs.
sweep() {
	local args=() s
	for s in "$@"; do
		args+=(-s "$s")
	done
	run --separate-stderr "$SWEEP" --errnos EIO --sample 3 "${args[@]}"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ] || fail "$(printf '%s\n' "$stderr" | head -n 60)"
	[[ ${lines[-1]} == "fault-sweep: "*", 0 defects" ]] ||
		fail "no summary: $output"
}

@test "faults: wq-send of one message, --sync always" {
	sweep send-always
}

@test "faults: wq-send -l, --sync always and batch" {
	sweep send-stream-always send-stream-batch
}

@test "faults: wq-send to a topic (fan-out)" {
	sweep fanout-send
}

@test "faults: wq-recv pop, lease, FIFO" {
	sweep recv-pop recv-lease recv-fifo
}

@test "faults: a claim that dead-letters (--max-receives)" {
	sweep recv-dead-letter
}

@test "faults: wq-ack, --release, --release --delay" {
	sweep ack release release-delay
}

@test "faults: wq-ack, --release --delay, --extend in a FIFO queue" {
	sweep ack-fifo release-fifo-delay extend-fifo
}

@test "faults: wq-ack --dead, wq-redrive" {
	sweep dead redrive
}
