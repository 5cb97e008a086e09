#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Queue limits (--max-size, --max-depth) and message attributes (-a).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	IN="$BATS_TEST_TMPDIR/in"
}

# counts QUEUE: "ready delayed inflight total".
counts() {
	wq-stat --json "$1" </dev/null |
		jq -r '.[0] | "\(.ready) \(.delayed) \(.inflight) \(.total)"'
}

# assert_nothing_sent QUEUE: no message and nothing left in tmp/.
assert_nothing_sent() {
	assert_equal "$(counts "$1")" "0 0 0 0"
	assert_equal "$(nfiles "$(qdir "$1")/tmp")" 0
}

# ---------------------------------------------------------------- max-size

@test "--max-size: a larger BODY argument is exit 65, nothing written" {
	wq-create --max-size 10 small
	run -0 stat_get small policy
	jq -e '.max_size == 10' <<<"$output"
	run -65 --separate-stderr wq-send small 0123456789a
	assert_equal "$output" ""
	assert_err send small 'max-size'
	assert_nothing_sent small
	# wq-create -u raises the limit for later sends.
	wq-create -u --max-size 11 small
	run -0 wq-send -q small 0123456789a
	run -0 wq-recv small
	assert_output 0123456789a
}

@test "--max-size: a larger -f file or standard input is exit 65, nothing written" {
	wq-create --max-size 10 small
	printf 0123456789a >"$IN"
	run -65 --separate-stderr wq-send -f "$IN" small
	assert_equal "$output" ""
	assert_err send small 'max-size'
	assert_nothing_sent small
	run -65 --separate-stderr wq-send small <"$IN"
	assert_equal "$output" ""
	assert_err send small 'max-size'
	assert_nothing_sent small
	run -65 --separate-stderr wq-send -f - small <"$IN"
	assert_err send small
	assert_nothing_sent small
	# From a pipe, where the size is not known in advance.
	run -65 --separate-stderr bash -c 'head -c 100000 /dev/zero | wq-send small'
	assert_err send small
	assert_nothing_sent small
}

@test "--max-size: a larger -l or -0 record is exit 65, nothing written" {
	wq-create --max-size 10 small
	run -65 --separate-stderr bash -c 'echo 0123456789a | wq-send -l small'
	assert_equal "$output" ""
	assert_err send small 'max-size'
	assert_nothing_sent small
	run -65 --separate-stderr bash -c 'printf "0123456789a\0" | wq-send -0 small'
	assert_err send small
	assert_nothing_sent small
	# A record longer than the reading buffer, without a newline.
	run -65 --separate-stderr bash -c 'head -c 200000 /dev/zero | tr "\0" x | wq-send -l small'
	assert_equal "$output" ""
	assert_err send small 'max-size'
	assert_nothing_sent small
}

@test "--max-size: records before a larger one are sent and reported, none after" {
	wq-create --max-size 10 small
	printf 'ok\n0123456789a\nafter\n' >"$IN"
	run -65 --separate-stderr wq-send -l small <"$IN"
	assert_equal "${#lines[@]}" 1
	local id=${lines[0]}
	[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
	assert_err send small
	assert_equal "$(counts small)" "1 0 0 1"
	assert_equal "$(nfiles "$(qdir small)/tmp")" 0
	run -0 wq-recv --json small
	jq -e --arg id "$id" '.id == $id and .body == "ok"' <<<"$output"
}

@test "--max-size: exactly max-size bytes is accepted in every form" {
	wq-create --max-size 10 small
	printf 0123456789 >"$IN"
	wq-send -q small 0123456789
	wq-send -q -f "$IN" small
	wq-send -q small <"$IN"
	run -0 bash -c 'printf "0123456789\nabc\n" | wq-send -l small'
	assert_equal "${#lines[@]}" 2
	run -0 bash -c 'printf "0123456789\0" | wq-send -0 small'
	assert_equal "$(counts small)" "6 0 0 6"
	run -0 wq-recv -n 6 -l small
	assert_output "$(printf '%s\n' 0123456789 0123456789 0123456789 \
		0123456789 abc 0123456789)"
}

@test "--max-size: the default is 1 MiB" {
	mkfile_size "$IN" 1048576
	wq-send -q -f "$IN" q
	mkfile_size "$IN" 1048577
	run -65 --separate-stderr wq-send -f "$IN" q
	assert_err send q 'max-size'
	assert_equal "$(counts q)" "1 0 0 1"
	assert_equal "$(nfiles "$WQ_DIR/q/tmp")" 0
}

# --------------------------------------------------------------- max-depth

@test "--max-depth: sends beyond N are exit 75 with a clear line" {
	wq-create --max-depth 2 d
	run -0 stat_get d policy
	jq -e '.max_depth == 2' <<<"$output"
	wq-send -q d a
	wq-send -q d b
	run -75 --separate-stderr wq-send d c
	assert_equal "$output" ""
	assert_err send d 'full'
	[[ $stderr == *"max-depth 2"* ]] || fail "stderr '$stderr'"
	assert_equal "$(counts d)" "2 0 0 2"
	assert_equal "$(nfiles "$(qdir d)/tmp")" 0
	run -0 wq-recv -n 5 -l d
	assert_output $'a\nb'
}

@test "--max-depth: a stream fills the queue, reports what fit, exit 75" {
	wq-create --max-depth 3 d
	run -75 --separate-stderr bash -c 'seq 1 5 | wq-send -l d'
	assert_equal "${#lines[@]}" 3
	local id
	for id in "${lines[@]}"; do
		[[ $id =~ $ID_RE ]] || fail "bad id '$id'"
	done
	assert_err send d 'full'
	[[ $stderr == *"2 messages not sent"* ]] || fail "stderr '$stderr'"
	assert_equal "$(counts d)" "3 0 0 3"
	assert_equal "$(nfiles "$(qdir d)/tmp")" 0
	run -0 wq-recv -n 5 -l d
	assert_output $'1\n2\n3'
}

@test "--max-depth: after a receive and an ack there is room again" {
	wq-create --max-depth 3 d
	run -75 bash -c 'seq 1 5 | wq-send -l -q d'
	run -0 wq-recv -L --json d
	local r
	r=$(jq -r .receipt <<<"$output")
	# In flight still counts.
	run -75 wq-send d x
	run -0 wq-ack d "$r"
	run -0 wq-send d four
	run -75 wq-send d five
	assert_equal "$(counts d)" "3 0 0 3"
	# An exec-mode ack and a pop make room too.
	run -0 wq-recv d -- true
	run -0 wq-recv d
	assert_output 3
	run -0 wq-send -q d five six
	run -75 wq-send d seven
	run -0 wq-recv -n 5 -l d
	assert_output $'four\nfive\nsix'
}

@test "--max-depth: ready, delayed and in-flight messages all count" {
	wq-create --max-depth 3 d
	wq-send -q --delay 3600 d delayed
	wq-send -q d leased
	wq-send -q d ready
	run -0 wq-recv -L d
	assert_equal "$(counts d)" "1 1 1 3"
	run -75 --separate-stderr wq-send d more
	assert_err send d 'full'
	assert_equal "$(counts d)" "1 1 1 3"
	run -75 wq-send --delay 10 d more
	assert_equal "$(counts d)" "1 1 1 3"
}

# -------------------------------------------------------------- attributes

@test "-a: attributes are stored and shown by --json, -L --json and --peek" {
	run -0 wq-send -a kind=resize -a size=42 q job
	local id=$output
	run -0 wq-recv --peek --json q
	jq -e '.attributes == {"kind": "resize", "size": "42"}' <<<"$output"
	run -0 wq-recv -L --json q
	jq -e --arg id "$id" '.id == $id and
		.attributes == {"kind": "resize", "size": "42"}' <<<"$output"
	run -0 wq-ack --release q "$(jq -r .receipt <<<"$output")"
	run -0 wq-recv --json q
	jq -e '.attributes == {"kind": "resize", "size": "42"} and
		.receive_count == 2' <<<"$output"
	# Without -a: an empty object.
	wq-send -q q plain
	run -0 wq-recv --json q
	jq -e '.attributes == {} and .body == "plain"' <<<"$output"
	# -a applies to every message of the run.
	run -0 bash -c 'printf "a\nb\n" | wq-send -l -a batch=7 q'
	wq-send -q -a batch=8 q c d
	run -0 wq-recv -n 4 --json q
	assert_equal "$(jq -sc '[.[] | [.body, .attributes.batch]]' <<<"$output")" \
		'[["a","7"],["b","7"],["c","8"],["d","8"]]'
}

@test "-a: each attribute is WQ_ATTR_KEY in exec mode" {
	wq-send -q -a kind=resize -a _private=1 -a Mixed_Case9=yes q job
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
	run -0 wq-recv q -- sh -c 'env | grep "^WQ_ATTR_" | sort > "$D/env"'
	run -0 cat "$D/env"
	assert_output "$(printf '%s\n' WQ_ATTR_Mixed_Case9=yes WQ_ATTR__private=1 \
		WQ_ATTR_kind=resize | LC_ALL=C sort)"
	# A message without attributes exports none.
	wq-send -q q plain
	run -0 wq-recv q -- sh -c 'env | grep -c "^WQ_ATTR_" > "$D/n"; true'
	run -0 cat "$D/n"
	assert_output 0
}

@test "exec mode: WQ_ATTR_* and WQ_GROUP of wq-recv's own environment are not passed on" {
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
	wq-send -q -a mine=1 q job
	run -0 env WQ_ATTR_stale=x WQ_GROUP=g WQ_ATTR_mine=old wq-recv q -- \
		sh -c 'env | grep "^WQ_\(ATTR_\|GROUP=\)" | sort > "$D/env"'
	run -0 cat "$D/env"
	assert_output WQ_ATTR_mine=1
}

@test "-a: values with spaces, '=', unicode, empty or longest survive exactly" {
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
	local uni='héllo ✓ 日本語 😀'
	wq-send -q -a 'sp=  two  spaces ' -a 'eq=a=b==c' -a "uni=$uni" \
		-a 'empty=' -a 'quote="\x' q job
	run -0 wq-recv -L --json q
	jq -e --arg uni "$uni" '.attributes == {"sp": "  two  spaces ",
		"eq": "a=b==c", "uni": $uni, "empty": "", "quote": "\"\\x"}' \
		<<<"$output"
	run -0 wq-ack --release q "$(jq -r .receipt <<<"$output")"
	run -0 env LC_ALL=C.UTF-8 wq-recv q -- sh -c \
		'printf "%s|%s|%s|%s|%s" "$WQ_ATTR_sp" "$WQ_ATTR_eq" \
			"$WQ_ATTR_uni" "$WQ_ATTR_empty" "$WQ_ATTR_quote" > "$D/vals"'
	printf '%s|%s|%s|%s|%s' '  two  spaces ' 'a=b==c' "$uni" '' '"\x' \
		>"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$D/vals"
	# The longest key (64 bytes) and value (1024 bytes).
	local key val
	key=$(printf 'k%.0s' $(seq 64))
	val=$(printf 'v%.0s' $(seq 1024))
	wq-send -q -a "$key=$val" q job
	run -0 wq-recv --json q
	jq -e --arg k "$key" --arg v "$val" '.attributes == {($k): $v}' \
		<<<"$output"
}

@test "-a: an invalid key is exit 65 and nothing is sent" {
	local a
	for a in 1k=v 9=v a-b=v 'a b=v' 'a.b=v' 'é=v' \
		"$(printf 'k%.0s' $(seq 65))=v"; do
		run -65 --separate-stderr wq-send -a "$a" q body
		assert_equal "$output" ""
		assert_err send q 'invalid key'
		# It is the attribute that is bad, not the queue.
		[[ $stderr != *corrupt* ]] || fail "-a '$a': stderr '$stderr'"
	done
	assert_nothing_sent q
}

@test "-a: an empty key is exit 65 and nothing is sent" {
	run -65 --separate-stderr wq-send -a =v q body
	assert_equal "$output" ""
	assert_nothing_sent q
}

@test "-a: an argument without '=' is exit 64 and nothing is sent" {
	local a
	for a in noeq ''; do
		run -64 --separate-stderr wq-send -a "$a" q body
		assert_equal "$output" ""
		assert_err_prefix send
		[[ $stderr == *KEY=VALUE* ]] || fail "-a '$a': stderr '$stderr'"
	done
	assert_nothing_sent q
}

@test "-a: an invalid value is exit 65 and nothing is sent" {
	local v
	for v in "$(printf 'a\tb')" "$(printf 'a\nb')" "$(printf 'a\rb')" \
		"$(printf 'a\033[0mb')" "$(printf 'a\177b')" \
		"$(printf '\377\376')" "$(printf 'caf\303')" \
		"$(printf '\300\200')" "$(printf 'v%.0s' $(seq 1025))"; do
		run -65 --separate-stderr wq-send -a "k=$v" q body
		assert_equal "$output" ""
		assert_err send q 'invalid value'
	done
	assert_nothing_sent q
}

@test "-a: one bad attribute among good ones sends nothing, for any input" {
	run -65 wq-send -a good=1 -a 'bad key=2' q a b c
	run -65 wq-send -a good=1 -a "bad=$(printf '\001')" q a b c
	run -65 --separate-stderr bash -c 'seq 1 3 | wq-send -l -a good=1 -a 1bad=2 q'
	assert_equal "$output" ""
	run -65 --separate-stderr bash -c 'echo body | wq-send -a good=1 -a 1bad=2 q'
	assert_equal "$output" ""
	assert_nothing_sent q
}

@test "-a: more attributes than a message can hold are refused, not cut" {
	local args=() k
	for k in $(seq 1 70); do
		args+=(-a "k$k=$k")
	done
	run --separate-stderr wq-send "${args[@]}" q job
	if ((status == 0)); then
		run -0 wq-recv --json q
		jq -e '.attributes | length == 70' <<<"$output" ||
			fail "sent 70 attributes, got back $(jq '.attributes | length' <<<"$output")"
		jq -e '.attributes.k70 == "70"' <<<"$output"
	else
		assert_equal "$status" 65
		assert_err send q 'attributes'
		assert_nothing_sent q
	fi
}

@test "-a: attributes that do not fit in a header are exit 65" {
	local args=() k val
	val=$(printf 'v%.0s' $(seq 1000))
	for k in 1 2 3 4 5 6 7 8 9 10; do
		args+=(-a "k$k=$val")
	done
	run -65 --separate-stderr wq-send "${args[@]}" q job
	assert_err send q 'too many attributes'
	assert_nothing_sent q
}
