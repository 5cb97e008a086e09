#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Hostile spools: symbolic links (out of the spool, to directories,
# dangling, loops), hard links to outside files, FIFOs, character devices,
# unreadable files, files of other owners and hostile names, planted in
# every directory of a spool (wq.5).  Every command must not hang, not
# follow a link out of the spool, not deliver a non-regular file, not
# crash, fail with one clear line where it fails, and keep serving the
# good messages around the bad entry.  Invalid queue names are tested in
# 0100-names.bats and 1400-serve-api.bats; only what they lack is here.

bats_require_minimum_version 1.5.0
load helpers
load serve

# A planted entry that some command opened would block on OUTSIDE/fifo
# (a symbolic link to it) or on a planted FIFO: every command runs under
# a timeout, and a timeout fails the test.
T=20

setup() {
	common_setup
	OUTSIDE="$BATS_TEST_TMPDIR/outside"
	mkdir -p "$OUTSIDE/dir"
	echo secret >"$OUTSIDE/file"
	echo hard >"$OUTSIDE/hard"
	echo inner >"$OUTSIDE/dir/inner"
	mkfifo "$OUTSIDE/fifo"
	SNAP="$BATS_TEST_TMPDIR/outside.snap"
	snapshot >"$SNAP"
}

teardown() {
	common_teardown
}

# snapshot: everything about OUTSIDE a command could change.
snapshot() {
	(cd "$OUTSIDE" && find . -printf '%p %y %s %m %U %T@\n' | LC_ALL=C sort &&
		cat file hard dir/inner)
}

assert_outside_untouched() {
	diff -u "$SNAP" <(snapshot) || fail "the outside of the spool changed"
}

# ENTRY: a valid entry name sorting before every real message, of a
# message nobody sent; host part KIND.
entry() {
	echo "80.0000000000000001.1.00000000.00000000.$1,0,106,${2-}"
}
lease_entry() {
	echo "80.0000000000000001.1.00000000.00000000.$1,1,106,${2-},1,0123456789abcdef"
}

# plant DIR NAMEFN [GROUP]: plant every kind of hostile entry in DIR, each
# under the name NAMEFN KIND [GROUP] prints (entry, lease_entry or
# plain), and the hostile names.
plain() {
	echo "x-$1"
}
plant() {
	local d=$1 name=$2 g=${3-} long
	ln -s "$OUTSIDE/file" "$d/$($name lnfile "$g")"
	ln -s "$OUTSIDE/dir" "$d/$($name lndir "$g")"
	ln -s "$OUTSIDE/fifo" "$d/$($name lnfifo "$g")"
	ln -s "$OUTSIDE/none" "$d/$($name lndangling "$g")"
	ln -s "$($name lnloop "$g")" "$d/$($name lnloop "$g")"
	ln "$OUTSIDE/hard" "$d/$($name hard "$g")"
	mkfifo "$d/$($name fifo "$g")"
	mknod "$d/$($name chr "$g")" c 1 3
	mknod "$d/$($name chrnodev "$g")" c 250 250
	mkdir "$d/$($name dir "$g")"
	echo 'wq 1' >"$d/$($name torn "$g")"
	echo x >"$d/$($name nobody "$g")"
	chown 65534:65534 "$d/$($name nobody "$g")"
	: >"$d/$($name mode000 "$g")"
	chmod 000 "$d/$($name mode000 "$g")"
	long=$(printf 'L%.0s' {1..255})
	: >"$d/$long"
	: >"$d/"$'new\nline'
	: >"$d/"$'ctl\001\033[31m'
	: >"$d/..."
	ln -s .. "$d/$($name lnparent "$g")"
}

# run_t ARGS...: run with the timeout, stderr apart; a timeout or a crash
# fails the test; so does a failure that is not one line `wq-CMD: `.
run_t() {
	run --separate-stderr timeout "$T" "$@"
	if ((status == 124 || status >= 126)); then
		fail "$*: status $status (hung or crashed): $stderr"
	fi
	if ((status > 1)) && [[ $1 == wq-* ]]; then
		[[ $stderr == "$1: "?* ]] || fail "$*: stderr '$stderr'"
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] ||
			fail "$*: stderr is not one line: '$stderr'"
	fi
}

# every_command Q [FIFO]: every command on the queue Q, which holds the
# messages good1..good3 and planted entries; the good ones are all served.
every_command() {
	local q=$1 fifo=${2-} receipt
	run_t wq-stat
	run_t wq-stat "$q"
	run_t wq-stat --json "$q"
	run_t wq-stat --prom
	run_t wq-recv --peek "$q"
	run_t wq-send ${fifo:+--group g} "$q" good4
	assert_equal "$status" 0
	# pop: every good message, around the bad entries
	run_t wq-recv -n 50 "$q"
	assert_equal "$status" 0
	[[ $output == *good1*good2*good3*good4* ]] ||
		fail "pop did not serve the good messages: '$output' / $stderr"
	[[ $output != *secret* && $output != *hard* && $output != *inner* ]] ||
		fail "an outside file was delivered: '$output'"
	# lease and ack
	run_t wq-send ${fifo:+--group g} "$q" good5
	run_t wq-recv -L --json "$q"
	assert_equal "$status" 0
	receipt=$(jq -r .receipt <<<"$output")
	assert_equal "$(jq -r .body <<<"$output")" good5
	run_t wq-ack "$q" "$receipt"
	assert_equal "$status" 0
	# exec
	run_t wq-send ${fifo:+--group g} "$q" good6
	run_t wq-recv -n 50 "$q" -- cat
	assert_equal "$status" 0
	assert_equal "$output" good6
	# HTTP
	run_t wq-send ${fifo:+--group g} "$q" good7
	serve_start
	api GET /v1/queues
	assert_http 200
	api POST "/v1/queues/$q/receive?max=10"
	assert_http 200
	jq -e '[.messages[].body] == ["good7"]' <<<"$HTTP_BODY" >/dev/null ||
		fail "HTTP receive: $HTTP_BODY"
	receipt=$(jq -r '.messages[0].receipt' <<<"$HTTP_BODY")
	api DELETE "/v1/queues/$q/messages/$receipt"
	assert_http 204
	serve_stop
	# a redrive out of this queue into another, and a purge
	run_t wq-create -p other
	run_t wq-send ${fifo:+--group g} "$q" good8
	run_t wq-redrive --to other "$q"
	[ "$status" -le 1 ] || fail "redrive: $status $stderr"
	run_t wq-recv -n 5 other
	assert_output good8
	run_t wq-rm -P "$q"
	assert_equal "$status" 0
	run_t wq-stat --json "$q"
	assert_equal "$status" 0
	assert_outside_untouched
}

# good_queue Q [OPTIONS]: a queue with good1..good3.
good_queue() {
	local q=$1
	shift
	wq-create "$@" "$q"
	if [[ " $* " == *" --fifo "* ]]; then
		wq-send --group g "$q" good1 good2 good3 >/dev/null
	else
		wq-send "$q" good1 good2 good3 >/dev/null
	fi
}

leaf_of_q() {
	dirname "$(find "$(qdir "$1")/new" -type f | head -n 1)"
}

@test "planted in the spool root: listed, counted and served around" {
	good_queue q
	plant "$WQ_DIR" plain
	ln -s "$(qdir q)" "$WQ_DIR/qlink"
	every_command q
	# A link to a queue is no queue: not listed, not changed through.
	run_t wq-stat --json
	refute_output --partial qlink
	run_t wq-create -u --visibility 99 qlink
	assert_equal "$status" 73
	grep -qx 'visibility 30' "$(qdir q)/policy"
	assert_link_exists "$WQ_DIR/qlink"
	run_t wq-rm q
	assert_equal "$status" 0
}

@test "planted in a queue directory" {
	good_queue q
	plant "$(qdir q)" plain
	every_command q
}

@test "planted in tmp/ (and swept without following)" {
	good_queue q
	plant "$(qdir q)/tmp" plain
	# Old enough for the sweep of tmp/: links are removed, not followed.
	find "$(qdir q)/tmp" -mindepth 1 -exec touch -h -d '3 days ago' {} +
	snapshot >"$SNAP"	# the hard link's file was touched with it
	every_command q
	assert_file_exists "$OUTSIDE/file"
}

@test "planted in new/ and in a rank directory" {
	good_queue q
	plant "$(qdir q)/new" plain
	plant "$(qdir q)/new/80" plain
	ln -s "$OUTSIDE/dir" "$(qdir q)/new/7f"
	ln -s "$OUTSIDE/dir" "$(qdir q)/new/80/000000"
	every_command q
}

@test "planted in a leaf bucket with entry names: quarantined, never delivered" {
	good_queue q
	local leaf
	leaf=$(leaf_of_q q)
	plant "$leaf" entry
	plant "$(dirname "$leaf")" plain
	every_command q
	# The entries that were no messages are in corrupt/, links as links.
	local c
	c=$(qdir q)/corrupt
	for k in lnfile lndir lnfifo lndangling lnloop fifo chr chrnodev dir torn mode000 nobody hard lnparent; do
		compgen -G "$c/80.0000000000000001.1.00000000.00000000.$k,*" >/dev/null ||
			fail "$k not in corrupt/: $(ls "$c")"
	done
	assert_link_exists "$(echo "$c"/*lnfile,*)"
	[ -p "$(echo "$c"/*.fifo,*)" ] || fail "the FIFO is not in corrupt/"
}

@test "planted in cur/ as expired leases and delays: promoted, then quarantined" {
	good_queue q
	plant "$(qdir q)/cur" lease_entry
	every_command q
	[ "$(nfiles "$(qdir q)/corrupt")" -ge 14 ] ||
		fail "corrupt/: $(ls "$(qdir q)/corrupt")"
}

@test "planted in cur/ as valid leases: acks and releases act on the name only" {
	good_queue q
	local far=$(($(now_ms) + 3600000)) r
	r="80.0000000000000001.1.00000000.00000000.lnk,1,106,,$far,0123456789abcdef"
	ln -s "$OUTSIDE/fifo" "$(qdir q)/cur/$r"
	run_t wq-ack --extend 60 q "$r"
	run_t wq-ack --release q "$r"
	assert_equal "$status" 0
	run_t wq-recv -n 50 q
	assert_equal "$status" 0
	assert_output --partial good3
	assert_link_exists "$(qdir q)"/corrupt/*lnk,*
	r="80.0000000000000001.1.00000000.00000000.fi,1,106,,$far,0123456789abcdef"
	mkfifo "$(qdir q)/cur/$r"
	run_t wq-ack q "$r"
	assert_equal "$status" 0
	assert_outside_untouched
}

@test "planted in corrupt/" {
	good_queue q
	mkdir "$(qdir q)/corrupt"
	plant "$(qdir q)/corrupt" lease_entry
	every_command q
}

@test "FIFO queue: planted in new/, a group's tree and lock/" {
	good_queue q --fifo
	local leaf
	leaf=$(leaf_of_q q)
	plant "$(qdir q)/new" plain
	plant "$leaf" entry g
	mkdir -p "$(qdir q)/lock"
	plant "$(qdir q)/lock" plain
	# Group locks that are no symbolic links are garbage, so stale.
	mkfifo "$(qdir q)/lock/g"
	every_command q fifo
}

@test "FIFO queue: a FIFO, a directory or a file as a group's lock" {
	local k
	for k in fifo dir file link; do
		good_queue "q$k" --fifo
		mkdir -p "$(qdir "q$k")/lock"
		case $k in
		fifo) mkfifo "$(qdir "q$k")/lock/g" ;;
		dir) mkdir "$(qdir "q$k")/lock/g" ;;
		file) echo 99999999999999,0123456789abcdef >"$(qdir "q$k")/lock/g" ;;
		link) ln -s "$OUTSIDE/fifo" "$(qdir "q$k")/lock/g" ;;
		esac
		run_t wq-recv -n 3 "q$k"
		assert_equal "$status" 0
		assert_output good1good2good3
	done
	assert_outside_untouched
}

@test "dedup/: planted slots and a FIFO as .swept" {
	good_queue q --dedup-window 60
	run_t wq-send --dedup first q x
	mkfifo "$(qdir q)/dedup/.swept.fifo"
	rm -f "$(qdir q)/dedup/.swept"
	mkfifo "$(qdir q)/dedup/.swept"
	touch -h -d '1 hour ago' "$(qdir q)/dedup/.swept"
	plant "$(qdir q)/dedup" plain
	# The slot of the dedup id "k": a FIFO, then a link outside.
	local key
	key=$(printf 'id\nk' | sha256sum | cut -d' ' -f1)
	mkfifo "$(qdir q)/dedup/$key"
	run_t wq-send --dedup k q k1
	assert_equal "$status" 0
	run_t wq-send --dedup k q k2
	assert_equal "$status" 0
	every_command q
}

@test "a policy that is a FIFO, a link, a directory or a device: 65, never a hang" {
	local k
	for k in fifo link dir chr; do
		wq-create "q$k"
		rm "$(qdir "q$k")/policy"
		case $k in
		fifo) mkfifo "$(qdir "q$k")/policy" ;;
		link) ln -s "$OUTSIDE/fifo" "$(qdir "q$k")/policy" ;;
		dir) mkdir "$(qdir "q$k")/policy" ;;
		chr) mknod "$(qdir "q$k")/policy" c 1 3 ;;
		esac
		for cmd in "wq-stat q$k" "wq-send q$k x" "wq-recv q$k" \
			"wq-recv -L q$k" "wq-recv q$k -- cat" "wq-redrive q$k" \
			"wq-create -u --visibility 5 q$k"; do
			# shellcheck disable=SC2086
			run_t $cmd
			((status > 1)) || fail "$cmd: status $status"
		done
		run_t wq-stat --json
		assert_equal "$status" 0
	done
	assert_outside_untouched
}

@test "tmp/, new/ or cur/ as a link to a directory outside: refused, nothing followed" {
	local d
	for d in tmp new cur; do
		good_queue "q$d"
		mv "$(qdir "q$d")/$d" "$BATS_TEST_TMPDIR/real-$d"
		ln -s "$OUTSIDE/dir" "$(qdir "q$d")/$d"
		run_t wq-send "q$d" x
		assert_equal "$status" 65
		run_t wq-recv "q$d"
		assert_equal "$status" 65
		run_t wq-stat "q$d"
		assert_equal "$status" 65
	done
	assert_outside_untouched
}

@test "an unreadable message: the consumer as another user fails with 77, then serves the rest" {
	good_queue q
	local leaf
	leaf=$(leaf_of_q q)
	printf 'wq 1\nsize 6\n\nsecret' >"$leaf/$(entry r)"
	mv "$leaf/$(entry r)" "$leaf/80.0000000000000001.1.00000000.00000000.r,0,$(stat -c %s "$leaf/$(entry r)"),"
	open_spool_to_nobody u+rwX,go+rwX
	chmod 600 "$leaf"/*.r,*
	run --separate-stderr timeout "$T" setpriv --reuid=65534 --regid=65534 \
		--clear-groups env WQ_DIR="$WQ_DIR" PATH="$PATH" wq-recv -n 10 q
	assert_equal "$status" 77
	assert_err recv q 'ermission denied'
	refute_output --partial secret
	# The entry is held for a lease; the good messages are served.
	run --separate-stderr timeout "$T" setpriv --reuid=65534 --regid=65534 \
		--clear-groups env WQ_DIR="$WQ_DIR" PATH="$PATH" wq-recv -n 10 q
	assert_equal "$status" 0
	assert_output good1good2good3
}

@test "queue names with control characters and traversal: refused on the command line" {
	run -0 wq-create q
	local name cmd
	for name in $'a\001b' $'a\tb' $'\x7f' $'a\rb' $'q\e[31m' '..' '.'; do
		for cmd in wq-create wq-send wq-recv wq-stat wq-rm wq-redrive; do
			run -64 --separate-stderr "$cmd" "$name"
			assert_err_prefix "${cmd#wq-}"
			[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] ||
				fail "$cmd: not one line: $stderr"
		done
	done
	run -0 ls -A "$WQ_DIR"
	assert_output q
}

@test "queue names with control characters and traversal: refused over HTTP" {
	run -0 wq-create q
	run -0 wq-send q kept
	serve_start
	local name
	for name in '%2e%2e' '%2E%2E' '..' '%01' 'a%0ab' 'a%0db' 'a%7f' 'a%09b' \
		'%2e%2e%2fq' '..%2fq' 'a%1bb'; do
		HTTP_STATUS=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' \
			-X POST "$SERVE_URL/v1/queues/$name/receive")
		[[ $HTTP_STATUS == 400 || $HTTP_STATUS == 404 ]] ||
			fail "$name: HTTP $HTTP_STATUS"
		HTTP_STATUS=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' \
			-X PUT "$SERVE_URL/v1/queues/$name")
		[[ $HTTP_STATUS == 400 || $HTTP_STATUS == 404 ]] ||
			fail "PUT $name: HTTP $HTTP_STATUS"
	done
	run -0 ls -A "$WQ_DIR"
	assert_output q
	assert_stat q 1 0 0
}
