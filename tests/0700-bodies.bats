#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Bodies with any bytes round-trip exactly, through every mode.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	wq-create q
	IN="$BATS_TEST_TMPDIR/in"
	OUT="$BATS_TEST_TMPDIR/out"
	export D="$BATS_TEST_TMPDIR/d"
	mkdir "$D"
}

@test "every byte 0..255 round-trips through -f and pop" {
	allbytes >"$IN"
	assert_equal "$(wc -c <"$IN")" 256
	run -0 wq-send -f "$IN" q
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "every byte 0..255 round-trips through stdin and pop" {
	{ allbytes; allbytes; } >"$IN"
	run -0 wq-send q <"$IN"
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "a body that is only NULs and newlines round-trips" {
	printf '\0\n\0\0\n\n' >"$IN"
	run -0 wq-send -f "$IN" q
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "a body that looks like a header round-trips" {
	printf 'wq 1\nid x\nsize 999\n\n\nbody\n' >"$IN"
	run -0 wq-send -f "$IN" q
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "an empty body round-trips" {
	: >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-send q ''
	wq-recv q >"$OUT"
	assert_equal "$(wc -c <"$OUT")" 0
	run -0 wq-recv --json q
	jq -e '.body == ""' <<<"$output"
	run -1 wq-recv q
}

@test "an empty body in exec mode gives empty stdin" {
	run -0 wq-send q ''
	run -0 wq-recv q -- sh -c 'cat > "$D/body"'
	assert_file_exists "$D/body"
	assert_equal "$(wc -c <"$D/body")" 0
}

@test "a body of exactly max-size round-trips" {
	head -c 1048576 /dev/urandom >"$IN"
	run -0 wq-send -f "$IN" q
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "a body of exactly max-size round-trips through stdin" {
	head -c 1048576 /dev/urandom >"$IN"
	run -0 bash -c 'cat "$1" | wq-send q' _ "$IN"
	wq-recv q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "every byte round-trips through lease --json body_base64" {
	allbytes >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-recv -L --json q
	jq -e 'has("body") | not' <<<"$output"
	jq -r .body_base64 <<<"$output" | base64 -d >"$OUT"
	run -0 cmp "$IN" "$OUT"
	assert_stat q 0 0 1
}

@test "every byte round-trips through lease mode without --json" {
	allbytes >"$IN"
	run -0 wq-send -f "$IN" q
	wq-recv -L q >"$OUT"
	# The receipt line, then the body exactly.
	tail -c +"$(($(head -n 1 "$OUT" | wc -c) + 1))" "$OUT" >"$OUT.body"
	run -0 cmp "$IN" "$OUT.body"
}

@test "every byte round-trips through exec mode" {
	allbytes >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-recv q -- sh -c 'cat > "$D/body"'
	run -0 cmp "$IN" "$D/body"
}

@test "a max-size binary body round-trips through exec mode" {
	head -c 1048576 /dev/urandom >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-recv q -- sh -c 'cat > "$D/body"'
	run -0 cmp "$IN" "$D/body"
}

@test "exec mode: a command that does not read its stdin still acks" {
	head -c 1048576 /dev/urandom >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-recv q -- true
	assert_equal "$(stat_get q total)" 0
}

@test "-0 streams binary records (every byte but NUL) exactly" {
	# Three records holding bytes 1..255, with newlines inside.
	local rec
	rec=$(allbytes | tr -d '\0' | base64 -w0)
	{
		for _ in 1 2 3; do
			base64 -d <<<"$rec"
			printf '\0'
		done
	} >"$IN"
	run -0 wq-send -0 q <"$IN"
	assert_equal "${#lines[@]}" 3
	wq-recv -n 3 -0 q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "-0 stream with empty records" {
	printf 'a\0\0b\0' >"$IN"
	run -0 wq-send -0 q <"$IN"
	assert_equal "${#lines[@]}" 3
	wq-recv -n 3 -0 q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "-l keeps carriage returns and other bytes inside lines" {
	printf 'a\r\nb\tc\001\n' >"$IN"
	run -0 wq-send -l q <"$IN"
	assert_equal "${#lines[@]}" 2
	wq-recv -n 2 -l q >"$OUT"
	run -0 cmp "$IN" "$OUT"
}

@test "pop --json of a NUL-containing body uses body_base64 or escapes" {
	printf 'a\0b' >"$IN"
	run -0 wq-send -f "$IN" q
	run -0 wq-recv --json q
	if jq -e 'has("body_base64")' <<<"$output" >/dev/null; then
		jq -r .body_base64 <<<"$output" | base64 -d >"$OUT"
	else
		jq -j .body <<<"$output" >"$OUT"
	fi
	run -0 cmp "$IN" "$OUT"
}
