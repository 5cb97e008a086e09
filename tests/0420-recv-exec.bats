#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-recv QUEUE -- COMMAND: the safe mode.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	OUT="$BATS_TEST_TMPDIR/out"
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
}

@test "COMMAND gets the body on stdin and the WQ_ environment" {
	run -0 wq-send q 'the body'
	local id=$output
	run -0 wq-recv q -- sh -c 'cat > "$D/body"; env | grep "^WQ_" | sort > "$D/env"'
	printf 'the body' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$D/body"
	run -0 cat "$D/env"
	assert_line "WQ_QUEUE=q"
	assert_line "WQ_ID=$id"
	assert_line "WQ_RECEIVE_COUNT=1"
	assert_line --regexp "^WQ_RECEIPT=80\\.$id,1,[0-9]+,,[0-9]+,[0-9a-f]{16}\$"
}

@test "COMMAND arguments are passed as is" {
	run -0 wq-send q x
	run -0 wq-recv q -- sh -c 'printf "%s|" "$@" > "$D/args"' sh 'a b' '' '*'
	run -0 cat "$D/args"
	assert_output 'a b||*|'
}

@test "exit 0 acks the message" {
	run -0 wq-send q x
	run -0 wq-recv q -- true
	assert_equal "$(tree q)" ""
	assert_equal "$(stat_get q total)" 0
}

@test "a non-zero exit releases the message, receive count rises" {
	run -0 wq-send q x
	local id=$output
	run wq-recv q -- sh -c 'cat >/dev/null; exit 3'
	assert_stat q 1 0 0
	assert_ready q "80.$id,1"
	run wq-recv q -- false
	assert_stat q 1 0 0
	run -0 wq-recv q -- sh -c 'echo "$WQ_RECEIVE_COUNT" > "$D/count"'
	run -0 cat "$D/count"
	assert_output 3
	assert_equal "$(stat_get q total)" 0
}

@test "a command killed by a signal releases the message" {
	run -0 wq-send q x
	run wq-recv q -- sh -c 'kill -KILL $$'
	assert_stat q 1 0 0
}

@test "--retry-delay puts a failed message in delayed, then ready" {
	run -0 wq-send q x
	local id=$output
	run wq-recv --retry-delay 2 q -- false
	assert_stat q 0 1 0
	run -0 ls "$WQ_DIR/q/cur"
	assert_output --regexp "^80\\.$id,1,[0-9]+,,[0-9]+,delayed\$"
	# The delayed entry's SIZE is still the size of its file.
	assert_equal "$(cut -d, -f3 <<<"$output")" \
		"$(stat -c %s "$WQ_DIR/q/cur/$output")"
	run -1 wq-recv q
	wait_for 8 stat_is q ready 1
	assert_equal "$(stat_get q delayed)" 0
	run -0 wq-recv --json q
	jq -e '.receive_count == 2' <<<"$output"
}

@test "the lease is extended while a long command runs" {
	run -0 wq-send q long
	bg "$OUT" wq-recv -v 1 q -- sh -c \
		'touch "$D/started"; sleep 3; cat > "$D/body"; touch "$D/done"'
	local pid=$BG_PID t0 tries=0
	wait_for 5 test -e "$D/started"
	t0=$(now_ms)
	# The 1 s lease (plus 1 s skew) runs out long before the command ends;
	# no other consumer may get the message meanwhile.
	until [ -e "$D/done" ]; do
		run -1 wq-recv -L q
		tries=$((tries + 1))
		sleep 0.1
	done
	(($(now_ms) - t0 >= 2500)) || fail "command ended too early"
	((tries > 5)) || fail "only $tries concurrent attempts"
	wait_for 5 dead "$pid"
	wait "$pid" || fail "wq-recv exited $?"
	run -0 cat "$D/body"
	assert_output long
	assert_equal "$(stat_get q total)" 0
}

@test "the message is in flight while the command runs" {
	run -0 wq-send q x
	bg "$OUT" wq-recv q -- sh -c 'touch "$D/started"; until [ -e "$D/go" ]; do sleep 0.05; done'
	wait_for 5 test -e "$D/started"
	assert_stat q 0 0 1
	touch "$D/go"
	wait_for 5 dead "$BG_PID"
	assert_equal "$(stat_get q total)" 0
}

@test "-j 2 runs two commands at once" {
	run -0 wq-send q a b
	# Each job announces itself and waits (up to 5 s) for the other one.
	# With one job at a time the first would time out.
	run -0 wq-recv -n 2 -j 2 q -- sh -c '
		touch "$D/start.$WQ_ID"
		i=0
		while [ "$(ls "$D" | grep -c "^start\.")" -lt 2 ]; do
			i=$((i + 1))
			if [ $i -gt 100 ]; then touch "$D/timeout.$WQ_ID"; break; fi
			sleep 0.05
		done
		cat > "$D/body.$WQ_ID"'
	run -0 ls "$D"
	refute_output --partial timeout
	assert_equal "$(ls "$D" | grep -c '^body\.')" 2
	assert_equal "$(cat "$D"/body.* | sort | tr -d '\n')" ab
	assert_equal "$(stat_get q total)" 0
}

@test "-j 2 never runs more than two commands at once" {
	run -0 wq-send q 1 2 3 4 5
	run -0 wq-recv -n 5 --jobs 2 q -- sh -c '
		mkdir "$D/run.$WQ_ID"
		ls -d "$D"/run.* | wc -l >> "$D/counts"
		sleep 0.2
		rmdir "$D/run.$WQ_ID"'
	run -0 sort -n "$D/counts"
	assert_equal "${#lines[@]}" 5
	((${lines[4]} <= 2)) || fail "${lines[4]} commands ran at once"
	assert_equal "$(stat_get q total)" 0
}

@test "-n N processes N messages, in order" {
	run -0 wq-send q 1 2 3 4 5
	run -0 wq-recv -n 3 q -- sh -c 'cat >> "$D/seen"; echo >> "$D/seen"'
	run -0 cat "$D/seen"
	assert_output $'1\n2\n3'
	assert_stat q 2 0 0
}

@test "without -n one message is processed" {
	run -0 wq-send q 1 2
	run -0 wq-recv q -- sh -c 'cat >> "$D/seen"'
	run -0 cat "$D/seen"
	assert_output 1
	assert_stat q 1 0 0
}

@test "an empty queue exits 1 without running COMMAND" {
	run -1 wq-recv q -- touch "$D/ran"
	assert_file_not_exists "$D/ran"
}

@test "-w in exec mode runs COMMAND for a message that arrives" {
	bg "$OUT" wq-recv -w 10 q -- sh -c 'cat > "$D/body"'
	local pid=$BG_PID
	wait_for 5 sleeping_in "$pid" wq-recv
	run -0 wq-send q arrived
	wait_for 5 dead "$pid"
	wait "$pid"
	run -0 cat "$D/body"
	assert_output arrived
}

@test "-f in exec mode processes messages as they come" {
	bg "$OUT" wq-recv -f q -- sh -c 'cat >> "$D/seen"; echo >> "$D/seen"'
	local pid=$BG_PID
	for m in one two; do
		run -0 wq-send q "$m"
		wait_for 5 grep -qx "$m" "$D/seen"
	done
	alive "$pid" || fail "wq-recv -f exited"
	wait_for 5 stat_is q total 0
}

@test "a lease lost while the command runs is reported once, without a busy loop" {
	send q job >/dev/null
	# The command gives its own lease up, so every extension must fail.
	run -0 --separate-stderr wq-recv -v 1 q -- sh -c \
		'wq-ack "$WQ_QUEUE" "$WQ_RECEIPT"; sleep 2'
	assert_equal "$(grep -c 'cannot extend lease' <<<"$stderr")" 1
	assert_stat q 0 0 0
}

# A stop signal in exec mode (SIGTERM, SIGINT): no more claims, the running
# commands are waited for and their messages settled as usual.  The
# commands below announce themselves in $D/started.ID, which holds their
# pid, and wait for $D/go (at most 10 s, so that nothing lingers if
# wq-recv lets them down).
WAIT_GO='echo $$ > "$D/started.$WQ_ID"; i=0
	while [ ! -e "$D/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done'

# ends_with PID STATUS: PID ends within 5 s, with STATUS.
ends_with() {
	local st=0
	wait_for 5 dead "$1"
	wait "$1" || st=$?
	assert_equal "$st" "$2"
}

# started N: N commands have announced themselves.
started() {
	[ "$(find "$D" -name 'started.*' | wc -l)" -eq "$1" ]
}

# sigint_default COMMAND [ARG...]: run COMMAND with SIGINT at its default
# action, which a shell sets to ignored in a background job (bg).
sigint_default() {
	trap - INT
	exec "$@"
}

# sigint_ignored COMMAND [ARG...]: run COMMAND with SIGINT ignored.
sigint_ignored() {
	trap '' INT
	exec "$@"
}

# ignores PID SIGNUM: PID ignores the signal (SigIgn of /proc/PID/status).
ignores() {
	local mask
	mask=$(awk '$1 == "SigIgn:" { print $2 }' "/proc/$1/status")
	(((0x$mask >> ($2 - 1)) & 1))
}

@test "SIGTERM: the running command finishes and is acked, nothing more is claimed, exit 0" {
	run -0 wq-send q first second
	bg "$OUT" wq-recv -f -j 1 q -- sh -c \
		'cat > "$D/body"; '"$WAIT_GO"'; touch "$D/done"'
	local pid=$BG_PID
	wait_for 5 started 1
	kill -TERM "$pid"
	wait_for 5 grep -qx 'wq-recv: q: stopping; waiting for 1 command' \
		"$OUT.err"
	alive "$pid" || fail "wq-recv did not wait for its command"
	assert_file_not_exists "$D/done"
	touch "$D/go"
	ends_with "$pid" 0
	assert_file_exists "$D/done"
	run -0 cat "$D/body"
	assert_output first
	# The first message acked, the second never claimed.
	assert_stat q 1 0 0
	run -0 wq-recv --peek q
	assert_output second
	run -0 cat "$OUT.err"
	assert_output 'wq-recv: q: stopping; waiting for 1 command'
}

@test "SIGTERM with a slot free: a message that arrives afterwards is not claimed" {
	run -0 wq-send q first
	bg "$OUT" wq-recv -f -j 2 q -- sh -c "$WAIT_GO"
	local pid=$BG_PID
	wait_for 5 started 1
	kill -TERM "$pid"
	wait_for 5 grep -q 'stopping; waiting for 1 command$' "$OUT.err"
	run -0 wq-send q second
	# A consumer still waiting for messages would be woken by the send and
	# would claim it before it sleeps again.
	wait_for 5 sleeping_in "$pid" wq-recv
	assert_stat q 1 0 1
	touch "$D/go"
	ends_with "$pid" 0
	started 1 || fail "a command ran after SIGTERM"
	run -0 wq-recv --peek q
	assert_output second
}

@test "SIGTERM: a command that fails afterwards has its message released, exit 0" {
	run -0 wq-send q x
	bg "$OUT" wq-recv -f q -- sh -c "$WAIT_GO"'; exit 3'
	local pid=$BG_PID
	wait_for 5 started 1
	kill -TERM "$pid"
	wait_for 5 grep -q 'stopping; waiting for 1 command$' "$OUT.err"
	touch "$D/go"
	ends_with "$pid" 0
	assert_stat q 1 0 0
	run -0 cat "$OUT.err"
	assert_line --index 1 --regexp \
		'^wq-recv: q: message [^ ]+: command failed \(status 3\); released$'
}

@test "a second SIGTERM forwards SIGTERM to the commands: their messages are ready at once" {
	run -0 wq-send q a b
	bg "$OUT" wq-recv -f -j 2 q -- sh -c "$WAIT_GO"'; touch "$D/done"'
	local pid=$BG_PID c
	wait_for 5 started 2
	kill -TERM "$pid"
	wait_for 5 grep -qx 'wq-recv: q: stopping; waiting for 2 commands' \
		"$OUT.err"
	assert_stat q 0 0 2
	kill -TERM "$pid"
	ends_with "$pid" 0
	for c in "$D"/started.*; do
		dead "$(cat "$c")" || fail "command $(cat "$c") still runs"
	done
	assert_file_not_exists "$D/done"
	assert_stat q 2 0 0
	run -0 grep -c 'command was killed (status 143); released$' "$OUT.err"
	assert_output 2
}

@test "SIGTERM while idle in -f exits 0 at once, silently" {
	bg "$OUT" wq-recv -f q -- touch "$D/ran"
	local pid=$BG_PID
	wait_for 5 sleeping_in "$pid" wq-recv
	kill -TERM "$pid"
	ends_with "$pid" 0
	assert_equal "$(cat "$OUT.err")" ""
	assert_file_not_exists "$D/ran"
}

@test "SIGTERM while waiting with -w before any message exits 1" {
	bg "$OUT" wq-recv -w 60 q -- touch "$D/ran"
	local pid=$BG_PID
	wait_for 5 sleeping_in "$pid" wq-recv
	kill -TERM "$pid"
	ends_with "$pid" 1
	assert_equal "$(cat "$OUT.err")" ""
}

@test "SIGINT stops exec mode as SIGTERM does" {
	run -0 wq-send q x
	bg "$OUT" sigint_default wq-recv -f q -- sh -c \
		"$WAIT_GO"'; touch "$D/done"'
	local pid=$BG_PID
	wait_for 5 started 1
	kill -INT "$pid"
	wait_for 5 grep -qx 'wq-recv: q: stopping; waiting for 1 command' \
		"$OUT.err"
	touch "$D/go"
	ends_with "$pid" 0
	assert_file_exists "$D/done"
	assert_equal "$(stat_get q total)" 0
}

@test "a signal ignored when wq-recv starts stays ignored, for the command too" {
	run -0 wq-send q x
	bg "$OUT" sigint_ignored wq-recv -f q -- sh -c "$WAIT_GO"
	local pid=$BG_PID
	wait_for 5 started 1
	ignores "$pid" 2 || fail "wq-recv catches SIGINT"
	ignores "$(cat "$D"/started.*)" 2 || fail "the command catches SIGINT"
	! ignores "$pid" 15 || fail "wq-recv ignores SIGTERM"
	touch "$D/go"
}

@test "the command starts with the signal mask and ignored signals wq-recv had" {
	run -0 wq-send q x
	# grep, not a shell: shells change their signal mask as they start.
	run -0 grep -E '^Sig(Blk|Ign):' /proc/self/status
	local want=$output
	run -0 wq-recv q -- grep -E '^Sig(Blk|Ign):' /proc/self/status
	assert_output "$want"
}

@test "pop mode still dies by SIGTERM" {
	bg "$OUT" wq-recv -w 60 q
	local pid=$BG_PID
	wait_for 5 sleeping_in "$pid" wq-recv
	kill -TERM "$pid"
	ends_with "$pid" 143
}
