#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-stat as a monitoring tool: --prom (checked by promtool), -o FILE
# replaced atomically, -i SECS rounds, and --warn/--crit thresholds with
# the exit statuses of a monitoring plugin.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
}

teardown() {
	# Give back the write permission some tests take away, so that the
	# test directory can be removed.
	chmod -R u+w "$BATS_TEST_TMPDIR" 2>/dev/null || true
	common_teardown
}

# need_promtool: skip without promtool, except in CI, where it must be.
need_promtool() {
	command -v promtool >/dev/null && return 0
	[ -z "${CI-}" ] || fail "promtool is missing in CI (apt-get install prometheus)"
	skip "no promtool (apt-get install prometheus)"
}

# make_state: 4 messages in q: 2 ready, 1 in flight, 1 delayed.
make_state() {
	wq-send q a bb ccc dddd >/dev/null
	wq-recv -L q >/dev/null
	local r
	r=$(wq-recv -L q | head -n 1)
	wq-ack --release --delay 600 q "$r"
}

# old_message QUEUE SECS: a ready message written by hand in the documented
# format, sent SECS seconds ago.
old_message() {
	local t id body=old
	t=$(($(now_ms) - $2 * 1000))
	id=$(printf '%016x.1.1.00000000.otherhost' $((t * 1000)))
	printf 'wq 1\nid %s\nsent %s\nsize %s\n\n%s' "$id" "$t" ${#body} \
		"$body" >"$(ready_dir "$1" $((t * 1000)))/80.$id,0"
}

# prom_value FILE METRIC QUEUE: the value of one sample.
prom_value() {
	awk -v want="$2{queue=\"$3\"}" '$1 == want { print $2 }' "$1"
}

# json_of QUEUE FILTER: a jq filter applied to the --json record of QUEUE.
json_of() {
	wq-stat --json "$1" | jq -r ".[0] | $2"
}

# inode_changed FILE INODE
inode_changed() {
	[ -e "$1" ] && [ "$(stat -c %i "$1")" != "$2" ]
}

# assert_only_file DIR NAME: DIR holds NAME and nothing else (no
# temporary file left behind).
assert_only_file() {
	assert_equal "$(ls -A "$1")" "$2"
}

@test "--prom passes promtool with several queues, one needing escapes" {
	need_promtool
	local weird="$BATS_TEST_TMPDIR/we\"ird\\q"$'\n'"x"
	local label="$BATS_TEST_TMPDIR/we\\\"ird\\\\q\\nx"
	run -0 wq-create other plain.name-2 "$weird"
	run -0 wq-send other x
	run -0 wq-stat --prom q other plain.name-2 "$weird" q
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/prom"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/prom"
	run -0 grep -Fx "wq_messages_ready{queue=\"$label\"} 0" "$BATS_TEST_TMPDIR/prom"
	run -0 grep -Fx 'wq_messages_ready{queue="other"} 1' "$BATS_TEST_TMPDIR/prom"
	run -0 grep -Fx 'wq_messages_ready{queue="plain.name-2"} 0' "$BATS_TEST_TMPDIR/prom"
	# q was named twice but is shown once.
	run -0 grep -c '^wq_messages_ready{queue="q"}' "$BATS_TEST_TMPDIR/prom"
	assert_output 1
	# Every queue of the spool, without naming them.
	run -0 wq-stat --prom
	run -0 promtool check metrics <<<"$output"
}

@test "--prom names its metrics, each a gauge with HELP and TYPE" {
	need_promtool
	run -0 wq-stat --prom
	run -0 promtool check metrics <<<"$output"
	run -0 wq-stat --prom
	run -0 awk '$1 == "#" && $2 == "TYPE" { print $3, $4 }' <<<"$output"
	assert_output "wq_messages_ready gauge
wq_messages_delayed gauge
wq_messages_inflight gauge
wq_messages gauge
wq_messages_bytes gauge
wq_oldest_ready_age_seconds gauge
wq_policy_visibility_seconds gauge
wq_policy_max_size_bytes gauge
wq_host_clock_offset_seconds gauge"
	run -0 wq-stat --prom
	[ "$(grep -c '^# HELP wq_[a-z_]* [A-Z]' <<<"$output")" -eq 9 ] ||
		fail "not 9 HELP lines: $output"
	# A spool without queues: the HELP and TYPE lines alone.
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -0 wq-stat -d "$BATS_TEST_TMPDIR/empty" --prom
	refute_line --regexp '^wq_'
	run -0 promtool check metrics <<<"$output"
}

@test "--prom values follow sends, leases and releases" {
	need_promtool
	local f="$BATS_TEST_TMPDIR/prom"
	run -0 wq-create --visibility 45 p
	make_state
	wq-stat --prom q p >"$f"
	run -0 promtool check metrics <"$f"
	assert_equal "$(prom_value "$f" wq_messages_ready q)" 2
	assert_equal "$(prom_value "$f" wq_messages_delayed q)" 1
	assert_equal "$(prom_value "$f" wq_messages_inflight q)" 1
	assert_equal "$(prom_value "$f" wq_messages q)" 4
	assert_equal "$(prom_value "$f" wq_messages_bytes q)" "$(json_of q .bytes)"
	assert_equal "$(prom_value "$f" wq_policy_max_size_bytes q)" \
		"$(json_of q .policy.max_size)"
	assert_equal "$(prom_value "$f" wq_policy_visibility_seconds p)" 45
	# No ready message: the age is 0.
	assert_equal "$(prom_value "$f" wq_messages p)" 0
	assert_equal "$(prom_value "$f" wq_oldest_ready_age_seconds p)" 0
	# An hour-old message.
	old_message p 3600
	wq-stat --prom p >"$f"
	local age
	age=$(prom_value "$f" wq_oldest_ready_age_seconds p)
	((age >= 3590 && age <= 3700)) || fail "age $age is not an hour"
	assert_equal "$(prom_value "$f" wq_messages_ready p)" 1
}

@test "-o replaces the file: a new inode, readers keep the old one whole" {
	need_promtool
	local dir="$BATS_TEST_TMPDIR/textfile" f ino
	mkdir "$dir"
	f="$dir/wq.prom"
	run -0 wq-stat --prom -o "$f"
	assert_output ''
	assert_equal "$(prom_value "$f" wq_messages_ready q)" 0
	ino=$(stat -c %i "$f")
	cp "$f" "$BATS_TEST_TMPDIR/before"
	exec 5<"$f"
	run -0 wq-send q x
	run -0 wq-stat --prom -o "$f"
	inode_changed "$f" "$ino" || fail "the file was rewritten in place"
	assert_equal "$(prom_value "$f" wq_messages_ready q)" 1
	run -0 promtool check metrics <"$f"
	# A reader that opened the old file still reads all of it.
	cmp - "$BATS_TEST_TMPDIR/before" <&5 || fail "the old file changed"
	exec 5<&-
	assert_only_file "$dir" wq.prom
}

@test "-o writes a temporary file beside FILE, syncs it, then renames it" {
	local dir="$BATS_TEST_TMPDIR/textfile" trace="$BATS_TEST_TMPDIR/trace"
	mkdir "$dir"
	run -0 strace -qq -o "$trace" -e trace=openat,fsync,rename,renameat,renameat2 \
		wq-stat --json -o "$dir/wq.json"
	# The create, the fsync of its fd, the rename, the fsync of the dir
	# (leaving out what the JSON library opens in between).
	run -0 grep -vF /dev/urandom "$trace"
	run -0 grep -A4 -E "\"$dir/wq\.json\.tmp\.[^\"]+\", [^)]*O_CREAT\|O_EXCL" <<<"$output"
	assert_line -n 1 --regexp '^fsync\('
	assert_line -n 2 --regexp "^rename(at2?)?\(.*\"$dir/wq\.json\.tmp\.[^\"]+\", .*\"$dir/wq\.json\""
	assert_line -n 3 --regexp "^openat\(.*\"$dir\", .*O_DIRECTORY"
	assert_line -n 4 --regexp '^fsync\('
	run -0 jq -e 'type == "array" and .[0].queue == "q"' "$dir/wq.json"
	assert_only_file "$dir" wq.json
}

@test "-o creates FILE with mode 0666 less the umask, in any format" {
	local dir="$BATS_TEST_TMPDIR/textfile"
	mkdir "$dir"
	(umask 027 && wq-stat -o "$dir/table")
	assert_equal "$(stat -c %a "$dir/table")" 640
	run -0 head -n 1 "$dir/table"
	assert_output --regexp '^QUEUE[[:space:]]+READY'
	(umask 022 && wq-stat --json -o "$dir/table")
	assert_equal "$(stat -c %a "$dir/table")" 644
	run -0 jq -e 'type == "array"' "$dir/table"
	assert_only_file "$dir" table
}

@test "-o into a directory it cannot write is 74 and leaves the old file" {
	local dir="$BATS_TEST_TMPDIR/textfile" f
	mkdir "$dir"
	f="$dir/wq.prom"
	run -0 wq-stat --prom -o "$f"
	cp "$f" "$BATS_TEST_TMPDIR/before"
	run -0 wq-send q x
	chmod 555 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		open_spool_to_nobody a+rwX
		run -74 --separate-stderr as_nobody wq-stat --prom -o "$f"
	else
		run -74 --separate-stderr wq-stat --prom -o "$f"
	fi
	assert_err stat "$f" 'Permission denied'
	cmp "$f" "$BATS_TEST_TMPDIR/before" || fail "the old file changed"
	assert_only_file "$dir" wq.prom
}

@test "-o over a directory or in a missing one is 74, with nothing left" {
	local dir="$BATS_TEST_TMPDIR/textfile"
	mkdir -p "$dir/sub"
	run -74 --separate-stderr wq-stat --prom -o "$dir/sub"
	assert_err stat "$dir/sub" 'rename'
	assert_only_file "$dir" sub
	assert_only_file "$dir/sub" ''
	run -74 --separate-stderr wq-stat --prom -o "$dir/nodir/wq.prom"
	assert_err stat "$dir/nodir/wq.prom" 'No such file'
	assert_only_file "$dir" sub
}

@test "-i repeats the table every SECS, an empty line between rounds" {
	local fifo="$BATS_TEST_TMPDIR/out" line rounds=0 n=0 t0=0 t1=0
	local -a got=()
	run -0 wq-send q x
	mkfifo "$fifo"
	timeout 30 wq-stat -i 1 q >"$fifo" 3>&- &
	BG_PIDS+=("$!")
	exec 4<"$fifo"
	# Read until the second round's header; at most 20 lines, each
	# within 10 seconds.
	while ((rounds < 2 && n++ < 20)) && IFS= read -r -t 10 line <&4; do
		got+=("$line")
		if [[ $line == QUEUE* ]]; then
			((++rounds == 1)) && t0=$(now_ms)
			((rounds == 2)) && t1=$(now_ms)
		fi
	done
	exec 4<&-
	((rounds == 2)) || fail "$rounds rounds in: ${got[*]}"
	assert_equal "${#got[@]}" 4
	[[ ${got[1]} =~ ^q[[:space:]]+1[[:space:]] ]] || fail "row: ${got[1]}"
	assert_equal "${got[2]}" ''
	# A second apart, not at once.
	((t1 - t0 >= 800)) || fail "rounds $((t1 - t0)) ms apart"
}

@test "-i with --json prints one array per line" {
	local fifo="$BATS_TEST_TMPDIR/out" line n=0
	local -a got=()
	mkfifo "$fifo"
	timeout 30 wq-stat --json -i 1 >"$fifo" 3>&- &
	BG_PIDS+=("$!")
	exec 4<"$fifo"
	while ((${#got[@]} < 2 && n++ < 5)) && IFS= read -r -t 10 line <&4; do
		got+=("$line")
	done
	exec 4<&-
	assert_equal "${#got[@]}" 2
	for line in "${got[@]}"; do
		run -0 jq -e 'type == "array" and .[0].queue == "q"' <<<"$line"
	done
}

@test "-i with -o rewrites the file every round and cleans up when stopped" {
	need_promtool
	local dir="$BATS_TEST_TMPDIR/textfile" f ino
	mkdir "$dir"
	f="$dir/wq.prom"
	bg "$BATS_TEST_TMPDIR/log" wq-stat --prom -i 1 -o "$f"
	wait_for 10 test -s "$f"
	ino=$(stat -c %i "$f")
	wait_for 10 inode_changed "$f" "$ino"
	run -0 promtool check metrics <"$f"
	kill -TERM "$BG_PID"
	wait_for 10 dead "$BG_PID"
	assert_only_file "$dir" wq.prom
	assert_equal "$(cat "$BATS_TEST_TMPDIR/log" "$BATS_TEST_TMPDIR/log.err")" ''
}

@test "thresholds: OK is 0, with perfdata" {
	make_state
	run -0 --separate-stderr wq-stat --warn 'ready>10' --crit 'ready>100' q
	assert_output --regexp '^WQ OK - 1 queue \| ready_q=2;10;100 delayed_q=1 inflight_q=1 total_q=4 bytes_q=[0-9]+B age_q=[0-9]+s$'
	assert_equal "$stderr" ''
	run -0 wq-create other
	run -0 wq-stat --crit 'total>=100'
	assert_output --regexp '^WQ OK - 2 queues \| ready_other=0 .* total_q=4;;@100: '
}

@test "thresholds: WARNING is 1 and names what broke which threshold" {
	make_state
	run -1 --separate-stderr wq-stat --warn 'ready>1' --crit 'ready>5' q
	assert_output --regexp '^WQ WARNING - q ready=2 \(ready>1\) \| ready_q=2;1;5 delayed_q=1 '
	assert_equal "$stderr" ''
	# Repeated and comma-separated, blanks around the operator.
	old_message q 3600
	run -1 wq-stat --warn 'delayed > 5' --warn 'ready>100, age >= 600' \
		--crit 'age>7200' q
	assert_output --regexp '^WQ WARNING - q age=3[0-9]{3} \(age>=600\) \| '
	assert_output --regexp ' age_q=3[0-9]{3}s;@600:;7200$'
}

@test "thresholds: CRITICAL is 2, and the worst queue wins" {
	make_state
	run -0 wq-create a calm
	run -0 wq-send a x
	run -2 --separate-stderr wq-stat --warn 'ready>=1' --crit 'ready>=2' a calm q
	assert_output --regexp '^WQ CRITICAL - a ready=1 \(ready>=1\), q ready=2 \(ready>=2\) \| ready_a=1;@1:;@2: .* ready_calm=0;@1:;@2: .* ready_q=2;@1:;@2: '
	assert_equal "$stderr" ''
	# CRITICAL beats WARNING on the same field.
	run -2 wq-stat --warn 'inflight=1' --crit 'inflight<=1' q
	assert_output --regexp '^WQ CRITICAL - q inflight=1 \(inflight<=1\) \| .* inflight_q=1;@1:1;@~:1 '
}

@test "thresholds: each operator" {
	make_state
	# ready=2 delayed=1 inflight=1 total=4 bytes>0 age small
	local c expr want
	for c in 'ready>1 1' 'ready>2 0' 'ready>=2 1' 'ready>=3 0' 'ready<3 1' \
		'ready<2 0' 'ready<=2 1' 'ready<=1 0' 'ready=2 1' 'ready=3 0' \
		'delayed=1 1' 'inflight>=1 1' 'total>=4 1' 'total>4 0' \
		'bytes>0 1' 'bytes=0 0' 'age>=3600 0'; do
		expr=${c% *} want=${c#* }
		run "-$want" wq-stat --warn "$expr" q
	done
}

@test "thresholds: a missing queue or spool is UNKNOWN (3), not 66" {
	run -3 --separate-stderr wq-stat --warn 'ready>1' q nope
	assert_output 'WQ UNKNOWN - nope: cannot open queue: No such file or directory'
	assert_equal "$stderr" ''
	# A spool that is not a directory (one that does not exist yet is an
	# empty spool, as for every command).
	: >"$BATS_TEST_TMPDIR/file"
	run -3 --separate-stderr wq-stat -d "$BATS_TEST_TMPDIR/file" --crit 'ready>1'
	assert_output "WQ UNKNOWN - $BATS_TEST_TMPDIR/file: cannot open spool: Not a directory"
	assert_equal "$stderr" ''
	# Without thresholds, as before.
	run -66 --separate-stderr wq-stat q nope
	assert_err stat nope 'wq-create'
}

@test "thresholds: queue names with a newline or | keep the line whole" {
	local p="$BATS_TEST_TMPDIR/a|b"$'\n'"c"
	run -0 wq-create "$p"
	run -0 wq-send "$p" x
	run -1 wq-stat --warn 'ready>0' "$p"
	assert_equal "${#lines[@]}" 1
	assert_output "WQ WARNING - $BATS_TEST_TMPDIR/a_b_c ready=1 (ready>0) | ready_$BATS_TEST_TMPDIR/a_b_c=1;0 delayed_$BATS_TEST_TMPDIR/a_b_c=0 inflight_$BATS_TEST_TMPDIR/a_b_c=0 total_$BATS_TEST_TMPDIR/a_b_c=1 bytes_$BATS_TEST_TMPDIR/a_b_c=$(json_of "$p" .bytes)B age_$BATS_TEST_TMPDIR/a_b_c=0s"
}

@test "a bad EXPR is UNKNOWN (3) with one line on stderr" {
	local e
	for e in 'ready' 'ready>' '>5' 'ready>>5' 'ready=>5' 'ready!=5' \
		'size>5' 'Ready>5' 'ready>-1' 'ready>1.5' 'ready>5x' 'ready>1,' \
		',ready>1' 'ready>99999999999999999999' ''; do
		run -3 --separate-stderr wq-stat --warn "$e" q
		assert_equal "$output" ''
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "'$e': not one line: $stderr"
		[[ $stderr == "wq-stat: invalid threshold"* ]] ||
			fail "'$e': stderr '$stderr'"
		run -3 --separate-stderr wq-stat --crit "ready>1,$e" q
	done
}

@test "with --warn or --crit every usage error is 3, without them 64" {
	run -3 --separate-stderr wq-stat --warn 'ready>1' --bogus q
	assert_err_prefix stat
	run -3 --separate-stderr wq-stat q --warn
	run -3 --separate-stderr wq-stat --crit 'ready>1' --json q
	run -3 --separate-stderr wq-stat --crit 'ready>1' --prom q
	run -3 --separate-stderr wq-stat --warn 'ready>1' -i 1 q
	run -3 --separate-stderr wq-stat --warn 'ready>1' -o "$BATS_TEST_TMPDIR/f" q
	run -3 --separate-stderr wq-stat -d '' --warn 'ready>1' q
	[ ! -e "$BATS_TEST_TMPDIR/f" ] || fail "-o wrote a file"
	run -64 --separate-stderr wq-stat --bogus q
	run -64 --separate-stderr wq-stat --json --prom q
	assert_err_prefix stat
	run -64 --separate-stderr wq-stat -i 0 q
	run -64 --separate-stderr wq-stat -i x q
	run -64 --separate-stderr wq-stat -o '' q
}

@test "--help lists every new option" {
	run -0 wq-stat --help
	local o
	for o in --prom --interval --output --warn --crit -i -o; do
		assert_output --partial -- "$o"
	done
}
