#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Compression (wq-create --compress auto|always|never): zstd bodies are
# transparent to readers.  Every kind of body round-trips exactly, sent
# every way and received every way; auto compresses bodies from 4 KiB
# that shrink; a compressed body that does not decompress is quarantined,
# never delivered.  See lib/compress.c and lib/write.c.

bats_require_minimum_version 1.5.0
load helpers

# The bodies, made once for the file.
setup_file() {
	local b="$BATS_FILE_TMPDIR/bodies"
	mkdir -p "$b"
	: >"$b/empty"
	printf x >"$b/one"
	# 100 KB of text with newlines, not ending in one (so that it also
	# survives being a BODY argument).
	{ seq 1 30000 | head -c 102399; printf E; } >"$b/text"
	# 100 KB of text on one line, for -l.
	{ seq 1 30000 | tr '\n' ' ' | head -c 102399; printf E; } >"$b/line"
	head -c 102400 /dev/urandom >"$b/random"
	printf 'a\0\0b\0' >"$b/nul"
	head -c 8192 /dev/zero >"$b/zeros"
	{ allbytes; allbytes; } >"$b/allbytes"
}

# The queues sync nothing: these tests are about bodies, not power cuts.
setup() {
	common_setup
	wq-create --sync none --compress auto auto
	wq-create --sync none --compress always always
	wq-create --sync none --compress never never
	D="$BATS_TEST_TMPDIR/d"
	B="$BATS_FILE_TMPDIR/bodies"
	mkdir -p "$D"
}

# bodies_for WAY: the bodies that WAY can send.
bodies_for() {
	case $1 in
	file | stdin) echo empty one text random nul zeros allbytes ;;
	arg) echo empty one text ;;	# no NUL in an argument
	lines) echo empty one line nul zeros ;;	# no newline in a line
	esac
}

# send_way WAY QUEUE FILE: send FILE's bytes as one message, WAY; print
# the id.
send_way() {
	case $1 in
	file) wq-send -f "$3" "$2" ;;
	stdin) cat "$3" | wq-send "$2" ;;	# a pipe: short reads
	arg) wq-send "$2" "$(cat "$3")" </dev/null ;;
	lines) { cat "$3"; echo; } | wq-send -l "$2" ;;
	esac
}

# send_all QUEUE: every body, sent every way, in this order; "ID BODY WAY"
# for each message into $D/sent, in the order sent.
send_all() {
	local q=$1 way body args=() ids
	: >"$D/sent"
	for way in file arg lines stdin; do
		args=()
		for body in $(bodies_for "$way"); do
			case $way in
			file) args+=(-f "$B/$body") ;;
			arg) args+=("$(cat "$B/$body")") ;;
			esac
		done
		case $way in
		file) ids=$(wq-send "${args[@]}" "$q") ;;
		arg) ids=$(wq-send "$q" "${args[@]}" </dev/null) ;;
		lines)
			ids=$(for body in $(bodies_for lines); do
				cat "$B/$body"
				echo
			done | wq-send -l "$q")
			;;
		stdin)
			ids=$(for body in $(bodies_for stdin); do
				cat "$B/$body" | wq-send "$q" || exit
			done)
			;;
		esac || fail "sending $way: wq-send exited $?"
		# shellcheck disable=SC2046  # one body name a line
		paste -d ' ' <(printf '%s\n' "$ids") \
			<(printf '%s\n' $(bodies_for "$way")) |
			sed "s/\$/ $way/" >>"$D/sent"
	done
	if grep -vE "^${ID_RE:1:-1} [a-z]+ [a-z]+\$" "$D/sent" | grep .; then
		fail "bad ids"
	fi
	NSENT=$(wc -l <"$D/sent")
	assert_equal "$NSENT" 22
}

# recv_all QUEUE HOW: receive every message HOW, each body into $D/got/ID.
recv_all() {
	local q=$1 how=$2 id body way n=0 r kind b64
	rm -rf "$D/got"
	mkdir "$D/got"
	case $how in
	pop)
		# Pop prints only the body: the messages come in send order.
		while read -r id body way; do
			wq-recv "$q" >"$D/got/$id" </dev/null ||
				fail "pop of $body sent by $way: status $?"
		done <"$D/sent"
		;;
	lease)
		for ((n = 0; n < NSENT; n++)); do
			wq-recv -L "$q" >"$D/lease" || fail "lease $n: status $?"
			# The receipt on the first line, then the body.
			{
				IFS= read -r r
				cat >"$D/body"
			} <"$D/lease"
			[[ $r =~ $RECEIPT_RE ]] || fail "bad receipt '$r'"
			id=${r#*.}
			id=${id%%,*}
			mv "$D/body" "$D/got/$id"
			echo "$r"
		done >"$D/receipts"
		run -0 wq-ack "$q" - <"$D/receipts"
		;;
	json)
		wq-recv -n 100 --json "$q" >"$D/json" || fail "--json: status $?"
		[ "$(wc -l <"$D/json")" -eq "$NSENT" ] ||
			fail "--json printed $(wc -l <"$D/json") records, not $NSENT"
		jq -r '[.id, if has("body") and has("body_base64") then "both"
			elif has("body") then "body" else "base64" end,
			.body_base64 // (.body | @base64)] | @tsv' "$D/json" |
			while IFS=$'\t' read -r id kind b64; do
				base64 -d <<<"$b64" >"$D/got/$id"
				echo "$id $kind"
			done >"$D/kinds"
		local -A kinds=()
		while read -r id kind; do
			kinds[$id]=$kind
		done <"$D/kinds"
		# Bodies that are not UTF-8 come as body_base64, text as body.
		while read -r id body way; do
			kind=${kinds[$id]-none}
			case $body in
			random | allbytes) [ "$kind" = base64 ] ;;
			nul | zeros) [ "$kind" = body ] || [ "$kind" = base64 ] ;;
			*) [ "$kind" = body ] ;;
			esac || fail "$body sent by $way came as '$kind' in JSON"
		done <"$D/sent"
		;;
	exec)
		wq-recv -n 100 "$q" -- sh -c 'cat >"$0/$WQ_ID"' "$D/got" ||
			fail "exec: status $?"
		;;
	esac
}

# roundtrip QUEUE HOW: every body, sent every way, received HOW, is byte
# for byte what was sent, and nothing is left in the queue.
roundtrip() {
	local q=$1 how=$2 id body way
	send_all "$q"
	recv_all "$q" "$how"
	while read -r id body way; do
		[ -f "$D/got/$id" ] || fail "$body sent by $way: not received by $how"
		cmp -s "$B/$body" "$D/got/$id" ||
			fail "$body sent by $way, received by $how: $(cmp "$B/$body" "$D/got/$id" 2>&1 | head -n 1) ($(wc -c <"$B/$body") bytes sent, $(wc -c <"$D/got/$id") received)"
	done <"$D/sent"
	assert_equal "$(nfiles "$D/got")" "$NSENT"
	assert_stat "$q" 0 0 0
	run -1 wq-recv "$q"
}

# stored QUEUE ID: the path of ID's ready message file.
stored() {
	ready_file "$1" "80.$2,0" || fail "no ready message $2 in $1"
}

# header FILE: the header of a message file, up to its blank line.
header() {
	sed -n '1,/^$/p' "$1"
}

# assert_raw FILE BODY: FILE stores BODY as it is.
assert_raw() {
	local n
	header "$1" >"$D/hdr"
	! grep -q '^encoding ' "$D/hdr" || fail "$1 is encoded: $(cat "$D/hdr")"
	n=$(wc -c <"$D/hdr")
	assert_equal "$(stat -c %s "$1")" $((n + $(wc -c <"$2")))
	tail -c +$((n + 1)) "$1" >"$D/stored"
	run -0 cmp "$2" "$D/stored"
}

# assert_zstd FILE BODY: FILE stores BODY compressed with zstd: the
# header says so and gives the real length, and the stored bytes
# decompress to BODY.
assert_zstd() {
	local n len
	header "$1" >"$D/hdr"
	grep -qx 'encoding zstd' "$D/hdr" || fail "$1 is not zstd: $(cat "$D/hdr")"
	len=$(awk '$1 == "length" { print $2 + 0 }' "$D/hdr")
	assert_equal "$len" "$(wc -c <"$2")"
	n=$(wc -c <"$D/hdr")
	tail -c +$((n + 1)) "$1" >"$D/stored"
	assert_equal "$(awk '$1 == "size" { print $2 + 0 }' "$D/hdr")" "$(wc -c <"$D/stored")"
	if command -v zstd >/dev/null; then
		zstd -q -d -c <"$D/stored" >"$D/unz" || fail "zstd cannot read $1"
		run -0 cmp "$2" "$D/unz"
	fi
}

@test "never: every body round-trips through pop" { roundtrip never pop; }
@test "never: every body round-trips through -L" { roundtrip never lease; }
@test "never: every body round-trips through --json" { roundtrip never json; }
@test "never: every body round-trips through exec stdin" { roundtrip never exec; }
@test "auto: every body round-trips through pop" { roundtrip auto pop; }
@test "auto: every body round-trips through -L" { roundtrip auto lease; }
@test "auto: every body round-trips through --json" { roundtrip auto json; }
@test "auto: every body round-trips through exec stdin" { roundtrip auto exec; }
@test "always: every body round-trips through pop" { roundtrip always pop; }
@test "always: every body round-trips through -L" { roundtrip always lease; }
@test "always: every body round-trips through --json" { roundtrip always json; }
@test "always: every body round-trips through exec stdin" { roundtrip always exec; }

@test "auto: a 100-byte body is stored raw, sent any way" {
	head -c 100 "$B/text" >"$B/small"
	local way id
	for way in arg file stdin; do
		id=$(send_way "$way" auto "$B/small")
		assert_raw "$(stored auto "$id")" "$B/small"
	done
}

@test "auto: a 100 KB text body is stored compressed and smaller, sent any way" {
	local way id f
	for way in arg file stdin lines; do
		if [ "$way" = lines ]; then
			id=$(send_way "$way" auto "$B/line")
			f=$(stored auto "$id")
			assert_zstd "$f" "$B/line"
		else
			id=$(send_way "$way" auto "$B/text")
			f=$(stored auto "$id")
			assert_zstd "$f" "$B/text"
		fi
		(($(stat -c %s "$f") < 102400)) ||
			fail "sent by $way: stored in $(stat -c %s "$f") bytes"
	done
}

@test "auto: random data is stored raw" {
	local way id
	for way in file stdin; do
		id=$(send_way "$way" auto "$B/random")
		assert_raw "$(stored auto "$id")" "$B/random"
	done
}

@test "auto: compresses from 4 KiB" {
	head -c 4095 "$B/text" >"$B/below"
	head -c 4096 "$B/text" >"$B/at"
	local way id
	for way in arg file; do
		id=$(send_way "$way" auto "$B/below")
		assert_raw "$(stored auto "$id")" "$B/below"
		id=$(send_way "$way" auto "$B/at")
		assert_zstd "$(stored auto "$id")" "$B/at"
	done
}

@test "always compresses every body; never compresses none" {
	local body id
	for body in empty one text random nul; do
		id=$(send_way file always "$B/$body")
		assert_zstd "$(stored always "$id")" "$B/$body"
		id=$(send_way file never "$B/$body")
		assert_raw "$(stored never "$id")" "$B/$body"
	done
	id=$(send_way arg always "$B/one")
	assert_zstd "$(stored always "$id")" "$B/one"
}

@test "--peek and wq-stat see compressed messages as they are" {
	local id
	id=$(send_way file always "$B/text")
	run -0 wq-recv --peek always
	assert_equal "$output" "$(cat "$B/text")"
	assert_stat always 1 0 0
	wq-recv always >"$D/out"
	run -0 cmp "$B/text" "$D/out"
}

@test "--compress with an unknown mode is a usage error" {
	run -64 --separate-stderr wq-create --compress zstd q
	assert_err_prefix create
	[ ! -e "$(qdir q)" ]
	run -64 --separate-stderr wq-create -u --compress fast auto
	assert_equal "$(stat_get auto policy | jq -r .compress)" auto
}

@test "changing --compress with -u: messages of either kind stay readable" {
	local a b c
	a=$(send_way file never "$B/text")
	wq-create -u --compress always never
	assert_equal "$(stat_get never policy | jq -r .compress)" always
	b=$(send_way file never "$B/text")
	assert_zstd "$(stored never "$b")" "$B/text"
	wq-create -u --compress never never
	c=$(send_way file never "$B/random")
	assert_raw "$(stored never "$c")" "$B/random"
	run -0 wq-recv -n 3 --json never
	assert_equal "$(jq -r .id <<<"$output" | paste -sd ' ')" "$a $b $c"
	jq -r 'select(.body != null) | .body' <<<"$output" | head -c 102400 >"$D/first"
	run -0 cmp "$B/text" "$D/first"
}

@test "max-size limits the real body, not the compressed one" {
	wq-create --compress always --max-size 50000 small
	run -65 --separate-stderr wq-send -f "$B/text" small
	assert_output ""
	run -65 --separate-stderr wq-send small "$(cat "$B/text")"
	assert_output ""
	assert_stat small 0 0 0
	assert_equal "$(nfiles "$(qdir small)/tmp")" 0
}

# corrupt_body FILE: overwrite bytes of FILE's stored body (the zstd
# magic number and a stretch in the middle), keeping its size.
corrupt_body() {
	local n size
	n=$(header "$1" | wc -c)
	size=$(stat -c %s "$1")
	printf '\0\0\0\0' | dd of="$1" bs=1 seek="$n" conv=notrunc status=none
	head -c 16 /dev/zero | tr '\0' '\377' |
		dd of="$1" bs=1 seek=$(((n + size) / 2)) conv=notrunc status=none
	assert_equal "$(stat -c %s "$1")" "$size"
}

# corrupt_setup: in queue always, a corrupted compressed message, then a
# good one; BAD and GOOD are their ids.
corrupt_setup() {
	BAD=$(send_way file always "$B/text")
	GOOD=$(send always "next message")
	BADFILE=$(stored always "$BAD")
	corrupt_body "$BADFILE"
}

# assert_quarantined: BAD is in corrupt/, nowhere else; the queue is
# empty.
assert_quarantined() {
	local q
	q=$(qdir always)
	[ -d "$q/corrupt" ] || fail "no corrupt/ directory"
	assert_equal "$(find "$q/corrupt" -name "*$BAD*" | wc -l)" 1
	assert_equal "$(find "$q/new" "$q/cur" "$q/tmp" -name "*$BAD*" | wc -l)" 0
	assert_stat always 0 0 0
	run -1 wq-recv always
}

# assert_pop_next: one pop from queue always exits 0 and prints the good
# message (not the corrupted one, in any form).
assert_pop_next() {
	local status=0
	wq-recv always >"$D/out" 2>"$D/err" || status=$?
	[ "$status" -eq 0 ] || fail "wq-recv exited $status: $(cat "$D/err")"
	printf 'next message' >"$D/want"
	cmp -s "$D/want" "$D/out" ||
		fail "delivered $(wc -c <"$D/out") bytes instead of the next message: $(head -c 60 "$D/out" | tr -c '[:print:]' '?')..."
}

@test "a corrupted compressed message is quarantined by pop; the next is delivered" {
	corrupt_setup
	assert_pop_next
	assert_quarantined
}

@test "a corrupted compressed message is quarantined by --json; the next is delivered" {
	corrupt_setup
	run -0 --separate-stderr wq-recv -L -n 5 --json always
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -r .id <<<"$output")" "$GOOD"
	run -0 wq-ack always "$(jq -r .receipt <<<"$output")"
	assert_quarantined
}

@test "a corrupted compressed message is quarantined in exec mode; the command never sees it" {
	corrupt_setup
	run -0 --separate-stderr wq-recv -n 5 always -- \
		sh -c 'cat >>"$0"; echo "|$WQ_ID" >>"$0"' "$D/ran"
	assert_equal "$(cat "$D/ran")" "next message|$GOOD"
	assert_quarantined
}

@test "a compressed body with one flipped byte is detected, not delivered changed" {
	# A body of repeated text compresses to a literal run and matches:
	# the flipped byte is in the literals, which decode without error
	# unless the frame carries a checksum.
	yes 'the quick brown fox jumps over the lazy dog' | head -c 100000 >"$D/fox"
	BAD=$(send_way file always "$D/fox")
	GOOD=$(send always "next message")
	BADFILE=$(stored always "$BAD")
	local n size byte
	n=$(header "$BADFILE" | wc -c)
	size=$(stat -c %s "$BADFILE")
	byte=$(od -An -tu1 -j $((n + 14)) -N 1 "$BADFILE")
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((byte ^ 0x20)))" |
		dd of="$BADFILE" bs=1 seek=$((n + 14)) conv=notrunc status=none
	assert_equal "$(stat -c %s "$BADFILE")" "$size"
	assert_pop_next
	assert_quarantined
}

@test "a plain message with a length line is corrupt: quarantined, never delivered cut short" {
	# Found by fuzz/fuzz-msg: "length" without "encoding zstd" was taken
	# for the body's length, so the body was read 5 bytes long.
	local bad good q
	q=$(qdir never)
	bad=$(send never "hello world")
	good=$(send never "next message")
	sed -i '1a length 5' "$(ready_file never "80.$bad,0")"
	run -0 --separate-stderr wq-recv never
	assert_output "next message"
	assert_equal "$(find "$q/corrupt" -name "*$bad*" | wc -l)" 1
	assert_equal "$(find "$q/new" "$q/cur" -name "*$bad*" -o -name "*$good*" | wc -l)" 0
}
