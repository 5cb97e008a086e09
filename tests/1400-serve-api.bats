#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-serve's /v1 API and its pages, driven with curl and jq as a client
# would: queues (create, stat, list, delete, purge), sends (raw bodies,
# options in the query or X-WQ-* headers, batches), receive, ack, release,
# extend and peek, long-polls woken by the CLI, undelivered responses,
# event streams, /metrics, /healthz, the dashboard, the OpenAPI document,
# and a graceful SIGTERM.  Each test has its own spool and its own server
# (serve_start in setup), shared live with the wq commands.

bats_require_minimum_version 1.5.0
load helpers
load serve

setup() {
	common_setup
	wq-create q
	serve_start
	REQS=()
	REQ_N=0
}

teardown() {
	common_teardown
}

# need_promtool: skip without promtool, except in CI, where it must be.
need_promtool() {
	command -v promtool >/dev/null && return 0
	[ -z "${CI-}" ] || fail "promtool is missing in CI (apt-get install prometheus)"
	skip "no promtool (apt-get install prometheus)"
}

# jbody [JQ-OPTION...] FILTER: jq -r on the body of the last api call.
jbody() {
	jq -r "$@" <<<"$HTTP_BODY"
}

# metric_is LINE: GET /metrics has the line LINE exactly.
metric_is() {
	curl -sS "$SERVE_URL/metrics" | grep -Fx "$1" >/dev/null
}

# req [CURL-ARG...] METHOD PATH: add a request to those that
# assert_all_answer makes, all with one curl.
req() {
	local d="$BATS_TEST_TMPDIR/each"
	if [ "$REQ_N" -eq 0 ]; then
		rm -rf "$d" && mkdir "$d"
	else
		REQS+=(--next)
	fi
	REQS+=(-sS -w '%{http_code} %{method} %{url_effective}\n'
		-o "$d/$(printf %04d "$REQ_N")" "${@:1:$#-2}" -X "${@: -2:1}"
		"$SERVE_URL${*: -1}")
	REQ_N=$((REQ_N + 1))
}

# assert_all_answer STATUS: make the requests of req; each answers STATUS
# with a JSON error of that status.
assert_all_answer() {
	local d="$BATS_TEST_TMPDIR/each" n=$REQ_N bad
	curl "${REQS[@]}" >"$d.codes"
	REQS=()
	REQ_N=0
	bad=$(awk -v s="$1" '$1 != s' "$d.codes")
	[ -z "$bad" ] || fail "not $1: $bad"
	[ "$(wc -l <"$d.codes")" -eq "$n" ] || fail "$(cat "$d.codes")"
	jq -es --argjson s "$1" --argjson n "$n" \
		'length == $n and all(.status == $s and (.error | length > 0))' \
		"$d"/* >/dev/null || fail "not all JSON errors $1: $(cat "$d"/*)"
}

# send_http QUEUE BODY [CURL-ARG...]: POST one message; its id in ID.
send_http() {
	local q=$1 body=$2
	shift 2
	api POST "/v1/queues/$q/messages" --data-binary "$body" "$@"
	assert_http 201 || return 1
	ID=$(jbody .id)
	[[ $ID =~ $ID_RE ]] || fail "not an id: $HTTP_BODY"
}

# events_in FILE N: FILE (an event stream) holds N message events or more.
events_in() {
	[ "$(grep -c '^event: message$' "$1")" -ge "$2" ]
}

# less_than A B: the decimal number A is less than B.
less_than() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

# deadline_of RECEIPT: the end of its lease, ms since the epoch.
deadline_of() {
	cut -d, -f5 <<<"$1"
}

# only_queues NAME...: the spool holds exactly these queue directories.
only_queues() {
	assert_equal "$(ls -A "$WQ_DIR" | LC_ALL=C sort | tr '\n' ' ')" "$* "
}

# ---------------------------------------------------------------- queues

@test "PUT creates a queue: 201 with its stat and the policy of the body" {
	api PUT /v1/queues/jobs -H 'Content-Type: application/json' \
		-d '{"visibility":5,"max_receives":2,"dead_letter":"dlq","max_depth":7}'
	assert_http 201
	assert_equal "$(header Content-Type)" application/json
	run -0 jq -e '.queue == "jobs" and .total == 0 and .ready == 0 and
		.policy.visibility == 5 and .policy.max_receives == 2 and
		.policy.dead_letter == "dlq" and .policy.max_depth == 7' <<<"$HTTP_BODY"
	# The queue is real, with that policy, for the commands too.
	assert_equal "$(stat_get jobs policy | jq -cS .)" \
		"$(jbody .policy | jq -cS .)"
	assert_equal "$(stat_get jobs policy | jq .visibility)" 5
}

@test "PUT without a body creates a queue with the policy wq-create gives" {
	api PUT /v1/queues/plain
	assert_http 201
	wq-create cli
	assert_equal "$(jbody .policy | jq -cS .)" \
		"$(stat_get cli policy | jq -cS .)"
}

@test "PUT on an existing queue: 200 and its policy untouched" {
	api PUT /v1/queues/jobs -d '{"visibility":5}'
	assert_http 201
	wq-send -q jobs kept
	api PUT /v1/queues/jobs -d '{"visibility":9,"fifo":true}'
	assert_http 200
	run -0 jq -e '.policy.visibility == 5 and .policy.fifo == false and
		.total == 1' <<<"$HTTP_BODY"
	assert_equal "$(stat_get jobs policy | jq -c '[.visibility, .fifo]')" \
		'[5,false]'
	# An existing queue made by the commands is left as it is too.
	api PUT /v1/queues/q -d '{"visibility":9}'
	assert_http 200
	assert_equal "$(stat_get q policy | jq .visibility)" 30
}

@test "PUT with a bad policy: 400 JSON error and no queue made" {
	local body
	for body in '{"visibility":' '[1]' '"x"' 'null' '{"bogus":1}' \
		'{"visibility":"5"}' '{"visibility":0}' '{"visibility":1.5}' \
		'{"visibility":43201}' '{"max_size":0}' '{"fifo":"yes"}' \
		'{"dedup":"both"}' '{"compress":"often"}' '{"sync":"never"}' \
		'{"dead_letter":"../x"}' '{"max_receives":2}' \
		'{"visibility":5,"visibility":6}'; do
		req -d "$body" PUT /v1/queues/new
	done
	assert_all_answer 400
	run ! wq-stat new
	only_queues q
}

@test "GET of a queue is what wq-stat --json prints for it" {
	wq-send -q q a bb ccc dddd
	wq-recv -L q >/dev/null
	wq-send -q --delay 600 q later
	local t0 t1 a b
	t0=$(date +%s)
	api GET /v1/queues/q
	assert_http 200
	assert_equal "$(header Content-Type)" application/json
	run -0 jq -e '.queue == "q" and .ready == 3 and .inflight == 1 and
		.delayed == 1 and .total == 5' <<<"$HTTP_BODY"
	assert_equal "$(jq -cS 'del(.oldest_age_seconds)' <<<"$HTTP_BODY")" \
		"$(wq-stat --json q | jq -cS '.[0] | del(.oldest_age_seconds)')"
	# The age moves with the clock: the two readings differ by the
	# seconds between them (a slow host, a sanitizer build) and one.
	a=$(jbody .oldest_age_seconds)
	b=$(stat_get q oldest_age_seconds)
	t1=$(date +%s)
	assert [ $((b - a)) -ge -1 ] && assert [ $((b - a)) -le $((t1 - t0 + 1)) ]
}

@test "GET /v1/queues lists every queue as wq-stat --json does" {
	api PUT /v1/queues/a.b -d '{"fifo":true}'
	assert_http 201
	wq-create z-1
	wq-send -q z-1 one two
	api GET /v1/queues
	assert_http 200
	assert_equal "$(jbody '[.queues[].queue] | sort | join(" ")')" "a.b q z-1"
	assert_equal \
		"$(jq -cS '.queues | map(del(.oldest_age_seconds)) | sort_by(.queue)' <<<"$HTTP_BODY")" \
		"$(wq-stat --json | jq -cS 'map(del(.oldest_age_seconds)) | sort_by(.queue)')"
}

@test "HEAD of a queue and of the list: 200 with no body" {
	run -0 curl -sS -I -o /dev/null -w '%{http_code}' "$SERVE_URL/v1/queues/q"
	assert_output 200
	run -0 curl -sS -I -o /dev/null -w '%{http_code}' "$SERVE_URL/v1/queues"
	assert_output 200
	run -0 curl -sS -I -o /dev/null -w '%{http_code}' "$SERVE_URL/v1/queues/none"
	assert_output 404
}

@test "DELETE removes a queue and its messages: 204, then it is gone" {
	wq-send -q q a b
	api DELETE /v1/queues/q
	assert_http 204
	assert_equal "$HTTP_BODY" ""
	run ! wq-stat --json q
	[ ! -e "$WQ_DIR/q" ]
	api GET /v1/queues/q
	assert_json_error 404
	api DELETE /v1/queues/q
	assert_json_error 404
}

@test "purge removes the messages and keeps the queue: {\"removed\":N}" {
	wq-send -q q a b
	wq-send -q --delay 600 q c
	api POST /v1/queues/q/purge
	assert_http 200
	assert_equal "$(jbody -c .)" '{"removed":3}'
	assert_stat q 0 0 0
	assert_equal "$(stat_get q total)" 0
	api POST /v1/queues/q/purge
	assert_http 200
	assert_equal "$(jbody .removed)" 0
	api POST /v1/queues/none/purge
	assert_json_error 404
}

@test "invalid queue names are refused with 400 on every route" {
	local name long
	long=$(printf 'a%.0s' {1..81})
	for name in .x -x _x "$long" 'a%2Fb' 'a%2fb' 'a%00b' 'q%00b' 'a%20b' \
		'a:b' '%C3%A9'; do
		req PUT "/v1/queues/$name"
		req GET "/v1/queues/$name"
		req GET "/v1/queues/$name/peek"
		req GET "/v1/queues/$name/stream"
		req -d x POST "/v1/queues/$name/messages"
		req -d '{"messages":[{"body":"x"}]}' POST "/v1/queues/$name/batch"
		req POST "/v1/queues/$name/receive"
		req POST "/v1/queues/$name/purge"
		req DELETE "/v1/queues/$name"
	done
	# Escaped, a slash or a NUL does not reach another path: q is intact.
	req DELETE /v1/queues/q%00x
	req DELETE /v1/queues/q%2F
	req DELETE /v1/queues/q%2fx
	req POST /v1/queues/q%2Fpurge
	assert_all_answer 400
	only_queues q
	# 80 characters is the longest name.
	api PUT "/v1/queues/${long:1}"
	assert_http 201
}

@test "an unknown queue is 404 on every route" {
	local r
	wq-send -q q m
	r=$(wq-recv -L q | head -n 1)
	req GET /v1/queues/none
	req -d x POST /v1/queues/none/messages
	req -d '{"messages":[{"body":"x"}]}' POST /v1/queues/none/batch
	req POST /v1/queues/none/receive
	req POST '/v1/queues/none/receive?wait=1'
	req GET /v1/queues/none/peek
	req GET /v1/queues/none/stream
	req POST /v1/queues/none/purge
	req DELETE /v1/queues/none
	req DELETE "/v1/queues/none/messages/$r"
	req POST "/v1/queues/none/messages/$r/release"
	req POST "/v1/queues/none/messages/$r/extend?visibility=5"
	assert_all_answer 404
	only_queues q
}

@test "a wrong method is 405 with an Allow header" {
	local r
	wq-send -q q m
	r=$(wq-recv -L q | head -n 1)
	api PATCH /v1/queues/q
	assert_json_error 405
	assert_equal "$(header Allow)" "GET, PUT, DELETE"
	api POST /v1/queues
	assert_json_error 405
	assert_equal "$(header Allow)" GET
	api GET /v1/queues/q/messages
	assert_json_error 405
	assert_equal "$(header Allow)" POST
	api PUT /v1/queues/q/batch
	assert_json_error 405
	assert_equal "$(header Allow)" POST
	api GET /v1/queues/q/receive
	assert_json_error 405
	assert_equal "$(header Allow)" POST
	api GET /v1/queues/q/purge
	assert_json_error 405
	assert_equal "$(header Allow)" POST
	api POST /v1/queues/q/peek
	assert_json_error 405
	assert_equal "$(header Allow)" GET
	api DELETE /v1/queues/q/stream
	assert_json_error 405
	assert_equal "$(header Allow)" GET
	api POST "/v1/queues/q/messages/$r"
	assert_json_error 405
	assert_equal "$(header Allow)" DELETE
	api DELETE "/v1/queues/q/messages/$r/release"
	assert_json_error 405
	assert_equal "$(header Allow)" POST
	api POST /metrics
	assert_json_error 405
	assert_equal "$(header Allow)" GET
	# Nothing was done: the message is still leased.
	assert_stat q 0 0 1
}

@test "an unknown route is 404" {
	local p
	for p in /nope /v2/queues /v1 /v1/queue /v1/queues/q/nope \
		/v1/queues/q/messages/x/y/z /v1/queues/q/peek/more /metrics/x; do
		req GET "$p"
	done
	assert_all_answer 404
	api POST /v1/queues/q/messages/80.x,1,2,,3,0123456789abcdef/dead
	assert_json_error 404
}

# ----------------------------------------------------------------- send

@test "send: a body of every byte value, NUL too, is what wq-recv prints" {
	allbytes >"$BATS_TEST_TMPDIR/all"
	send_http q "@$BATS_TEST_TMPDIR/all" -H 'Content-Type: application/octet-stream'
	wq-recv q >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/all" "$BATS_TEST_TMPDIR/got"
	# And the other way: sent by wq-send, received over HTTP in base64.
	wq-send -q -f "$BATS_TEST_TMPDIR/all" q
	api POST /v1/queues/q/receive
	assert_http 200
	assert_equal "$(jbody '.messages[0].body')" null
	jbody '.messages[0].body_base64' | base64 -d >"$BATS_TEST_TMPDIR/got2"
	cmp "$BATS_TEST_TMPDIR/all" "$BATS_TEST_TMPDIR/got2"
}

@test "send: an empty body and a text body" {
	send_http q ''
	send_http q 'héllo wörld'
	wq-recv -n 2 --json q >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(jq -r .body "$BATS_TEST_TMPDIR/out" | tr '\n' '|')" \
		'|héllo wörld|'
}

@test "send: priority from the query or X-WQ-Priority orders the receive" {
	api POST '/v1/queues/q/messages?priority=-5' --data-binary lo
	assert_http 201
	send_http q hi -H 'X-WQ-Priority: 50'
	send_http q mid
	api POST '/v1/queues/q/receive?max=10'
	assert_http 200
	assert_equal "$(jbody '[.messages[] | "\(.body):\(.priority)"] | join(" ")')" \
		"hi:50 mid:0 lo:-5"
	local p
	for p in 101 -101 abc 1.5 ''; do
		req -d x POST "/v1/queues/q/messages?priority=$p"
	done
	req -d x -H 'X-WQ-Priority: 200' POST /v1/queues/q/messages
	assert_all_answer 400
	assert_equal "$(stat_get q total)" 3
}

@test "send: delay from the query or X-WQ-Delay: delayed, not receivable" {
	api POST '/v1/queues/q/messages?delay=600' -d later
	assert_http 201
	send_http q later2 -H 'X-WQ-Delay: 600'
	assert_stat q 0 2 0
	api POST /v1/queues/q/receive
	assert_http 200
	assert_equal "$(jbody -c .)" '{"messages":[]}'
	run -1 wq-recv q
	api POST '/v1/queues/q/messages?delay=-1' -d x
	assert_json_error 400
	api POST '/v1/queues/q/messages?delay=soon' -d x
	assert_json_error 400
	assert_equal "$(stat_get q total)" 2
}

@test "send: attributes attr.K and X-WQ-Attr-K in the message and in wq-recv --json" {
	api POST '/v1/queues/q/messages?attr.color=red&attr.Shape=round%20one' \
		-H 'X-WQ-Attr-size: big' -d body
	assert_http 201
	api GET /v1/queues/q/peek
	assert_equal "$(jbody -cS '.messages[0].attributes')" \
		'{"Shape":"round one","color":"red","size":"big"}'
	run -0 wq-recv --json q
	assert_equal "$(jq -cS .attributes <<<"$output")" \
		'{"Shape":"round one","color":"red","size":"big"}'
	# A key that is not one: nothing sent.
	api POST '/v1/queues/q/messages?attr.9x=1' -d x
	assert_json_error 400
	api POST /v1/queues/q/messages -H 'X-WQ-Attr-a-b: 1' -d x
	assert_json_error 400
	api POST '/v1/queues/q/messages?attr.k=%01' -d x
	assert_json_error 400
	assert_equal "$(stat_get q total)" 0
}

@test "send: a FIFO queue takes a group and refuses a priority or a delay" {
	api PUT /v1/queues/f -d '{"fifo":true}'
	assert_http 201
	api POST '/v1/queues/f/messages?group=g1' -d one
	assert_http 201
	send_http f two -H 'X-WQ-Group: g2'
	api POST '/v1/queues/f/messages?priority=5&group=g1' -d x
	assert_json_error 400
	api POST '/v1/queues/f/messages?delay=5&group=g1' -d x
	assert_json_error 400
	api POST '/v1/queues/f/messages?group=.bad' -d x
	assert_json_error 400
	assert_equal "$(stat_get f total)" 2
	api POST '/v1/queues/f/receive?max=10'
	assert_equal "$(jbody '[.messages[] | "\(.body):\(.group)"] | sort | join(" ")')" \
		"one:g1 two:g2"
	# A group on a queue that is not FIFO is refused.
	api POST '/v1/queues/q/messages?group=g1' -d x
	assert_json_error 400
	assert_equal "$(stat_get q total)" 0
}

@test "send: the same dedup_id twice is one message, also across wq-send" {
	api POST '/v1/queues/q/messages?dedup_id=k1' -d a
	assert_http 201
	local id1
	id1=$(jbody .id)
	send_http q a -H 'X-WQ-Dedup-Id: k1'
	assert_equal "$ID" "$id1"
	assert_equal "$(stat_get q total)" 1
	run -0 wq-send --dedup k1 q a
	assert_output "$id1"
	wq-send -q --dedup k2 q b
	api POST '/v1/queues/q/messages?dedup_id=k2' -d b
	assert_http 201
	assert_equal "$(stat_get q total)" 2
}

@test "send: a full queue (max-depth) is 503 with Retry-After: 1" {
	api PUT /v1/queues/small -d '{"max_depth":1}'
	send_http small one
	api POST /v1/queues/small/messages -d two
	assert_json_error 503
	assert_equal "$(header Retry-After)" 1
	assert_equal "$(stat_get small total)" 1
	# Room again once it is received and acked.
	wq-recv small >/dev/null
	send_http small three
}

@test "send: a body over the queue's max-size is 413" {
	api PUT /v1/queues/small -d '{"max_size":10}'
	assert_http 201
	send_http small 0123456789
	api POST /v1/queues/small/messages -d 0123456789a
	assert_json_error 413
	assert_equal "$(stat_get small total)" 1
}

@test "batch: text and base64 bodies with options of their own, ids in order" {
	local b64 doc
	b64=$(printf 'a\0b\377' | base64)
	doc=$(jq -nc --arg b "$b64" '{messages: [
		{body: "one"},
		{body_base64: $b, priority: 7},
		{body: "three", attributes: {k: "v", w: "x"}},
		{body: "four", delay: 600},
		{body: "five"}]}')
	api POST /v1/queues/q/batch -H 'Content-Type: application/json' -d "$doc"
	assert_http 201
	assert_equal "$(jbody '.ids | length')" 5
	assert_equal "$(jbody '.ids | unique | length')" 5
	local ids
	mapfile -t ids < <(jbody '.ids[]')
	assert_stat q 4 1 0
	api POST '/v1/queues/q/receive?max=10'
	assert_http 200
	# Each id names the message at its place in the batch.
	local by
	by=$(jq -c 'INDEX(.messages[]; .id)' <<<"$HTTP_BODY")
	assert_equal "$(jq -r --arg i "${ids[0]}" '.[$i].body' <<<"$by")" one
	assert_equal "$(jq -r --arg i "${ids[1]}" '.[$i] | "\(.body_base64) \(.priority)"' <<<"$by")" \
		"$b64 7"
	assert_equal "$(jq -cS --arg i "${ids[2]}" '.[$i] | [.body, .attributes]' <<<"$by")" \
		'["three",{"k":"v","w":"x"}]'
	assert_equal "$(jq -r --arg i "${ids[4]}" '.[$i].body' <<<"$by")" five
	assert_equal "$(jq -r --arg i "${ids[3]}" '.[$i]' <<<"$by")" null
	assert_stat q 0 1 4
	# The priority 7 message came first.
	assert_equal "$(jbody '.messages[0].id')" "${ids[1]}"
}

@test "batch: one bad message sends nothing" {
	local bad
	for bad in '{}' '{"body":1}' '{"body":"x","body_base64":"eA=="}' \
		'{"body_base64":"!!!!"}' '{"body_base64":"eA="}' \
		'{"body":"x","priority":500}' '{"body":"x","priority":"1"}' \
		'{"body":"x","delay":-1}' '{"body":"x","group":"g"}' \
		'{"body":"x","attributes":{"k":1}}' '{"body":"x","attributes":[]}' \
		'{"body":"x","attributes":{"9":"v"}}' '{"body":"x","dedup_id":5}' \
		'"x"' 'null'; do
		req -d "{\"messages\":[{\"body\":\"ok\"},{\"body\":\"ok2\",\"priority\":3},$bad,{\"body\":\"ok3\"}]}" \
			POST /v1/queues/q/batch
	done
	assert_all_answer 400
	assert_equal "$(stat_get q total)" 0
}

@test "batch: a queue full mid-batch is 503; the runs before stay sent" {
	api PUT /v1/queues/small -d '{"max_depth":2}'
	assert_http 201
	# Three runs (the options change at each message): a and b fit, c
	# does not.
	api POST /v1/queues/small/batch \
		-d '{"messages":[{"body":"a"},{"body":"b","priority":5},{"body":"c"}]}'
	assert_json_error 503
	assert_equal "$(header Retry-After)" 1
	# The error lists the ids of what was sent: those of a and b.
	run -0 jq -r '.ids | length' <<<"$HTTP_BODY"
	assert_output 2
	run -0 wq-recv -n 10 --json small
	assert_equal "$(jq -r .id <<<"$output" | LC_ALL=C sort)" \
		"$(jq -r '.ids[]' <<<"$HTTP_BODY" | LC_ALL=C sort)"
	assert_equal "$(jq -r .body <<<"$output" | LC_ALL=C sort | tr '\n' ' ')" "a b "
	# One run that does not fit: never more than max-depth.
	api POST /v1/queues/small/batch \
		-d '{"messages":[{"body":"a"},{"body":"b"},{"body":"c"}]}'
	assert_json_error 503
	assert [ "$(stat_get small total)" -le 2 ]
}

@test "batch: 0 or 1001 messages, malformed JSON, or not the shape: 400" {
	local doc
	for doc in '{"messages":[]}' '{"messages":' '' '[]' '{"messages":{}}' \
		'{"msgs":[{"body":"x"}]}' '{"messages":[{"body":"x"}],"messages":[]}'; do
		req -d "$doc" POST /v1/queues/q/batch
	done
	assert_all_answer 400
	jq -nc '{messages: [range(1001) | {body: "x\(.)"}]}' >"$BATS_TEST_TMPDIR/big"
	api POST /v1/queues/q/batch --data-binary "@$BATS_TEST_TMPDIR/big"
	assert_json_error 400
	assert_equal "$(stat_get q total)" 0
	jq -nc '{messages: [range(1000) | {body: "x\(.)"}]}' >"$BATS_TEST_TMPDIR/big"
	api POST /v1/queues/q/batch --data-binary "@$BATS_TEST_TMPDIR/big"
	assert_http 201
	assert_equal "$(jbody '.ids | length')" 1000
	assert_equal "$(stat_get q total)" 1000
}

# -------------------------------------------- receive, ack, release, peek

@test "receive: max=N returns up to N messages with receipts" {
	wq-send -q q m1 m2 m3
	api POST '/v1/queues/q/receive?max=2'
	assert_http 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbody '[.messages[].body] | join(" ")')" "m1 m2"
	local r
	for r in $(jbody '.messages[].receipt'); do
		[[ $r =~ $RECEIPT_RE ]] || fail "not a receipt: $r"
	done
	run -0 jq -e '.messages | all(.receive_count == 1 and .priority == 0 and
		.group == null and .attributes == {} and (.id | type) == "string" and
		(.sent_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))' <<<"$HTTP_BODY"
	assert_stat q 1 0 2
	api POST '/v1/queues/q/receive?max=5'
	assert_equal "$(jbody '[.messages[].body] | join(" ")')" m3
	api POST /v1/queues/q/receive
	assert_equal "$(jbody -c .)" '{"messages":[]}'
	local p
	for p in max=0 max=101 max=x max= wait=-1 wait=x visibility=43201 \
		visibility=x; do
		req POST "/v1/queues/q/receive?$p"
	done
	assert_all_answer 400
}

@test "receive: visibility=S leases for S seconds" {
	wq-send -q q m
	local before
	before=$(now_ms)
	api POST '/v1/queues/q/receive?visibility=100'
	assert_http 200
	local d
	d=$(deadline_of "$(jbody '.messages[0].receipt')")
	assert [ "$d" -ge $((before + 99000)) ]
	assert [ "$d" -le $(($(now_ms) + 101000)) ]
}

@test "ack: 204, and the same receipt again is 409" {
	wq-send -q q m
	api POST /v1/queues/q/receive
	local r
	r=$(jbody '.messages[0].receipt')
	api DELETE "/v1/queues/q/messages/$r"
	assert_http 204
	assert_equal "$HTTP_BODY" ""
	assert_equal "$(stat_get q total)" 0
	api DELETE "/v1/queues/q/messages/$r"
	assert_json_error 409
	api POST "/v1/queues/q/messages/$r/release"
	assert_json_error 409
	api POST "/v1/queues/q/messages/$r/extend?visibility=5"
	assert_json_error 409
}

@test "release: the message is ready again, its receive_count grows" {
	wq-send -q q m
	api POST /v1/queues/q/receive
	assert_equal "$(jbody '.messages[0].receive_count')" 1
	api POST "/v1/queues/q/messages/$(jbody '.messages[0].receipt')/release"
	assert_http 204
	assert_stat q 1 0 0
	api POST /v1/queues/q/receive
	assert_equal "$(jbody '.messages[0] | "\(.body) \(.receive_count)"')" "m 2"
	# With a delay it is delayed, not ready.
	local r
	r=$(jbody '.messages[0].receipt')
	api POST "/v1/queues/q/messages/$r/release?delay=600"
	assert_http 204
	assert_stat q 0 1 0
	api POST /v1/queues/q/receive
	assert_equal "$(jbody -c .)" '{"messages":[]}'
	api POST "/v1/queues/q/messages/$r/release?delay=x"
	assert_json_error 400
}

@test "extend: 200 with a new receipt for the longer lease; it acks" {
	wq-send -q q m
	api POST '/v1/queues/q/receive?visibility=5'
	local r n
	r=$(jbody '.messages[0].receipt')
	api POST "/v1/queues/q/messages/$r/extend"
	assert_json_error 400
	api POST "/v1/queues/q/messages/$r/extend?visibility=43201"
	assert_json_error 400
	api POST "/v1/queues/q/messages/$r/extend?visibility=soon"
	assert_json_error 400
	api POST "/v1/queues/q/messages/$r/extend?visibility=100"
	assert_http 200
	n=$(jbody .receipt)
	[[ $n =~ $RECEIPT_RE ]] || fail "not a receipt: $HTTP_BODY"
	assert_not_equal "$n" "$r"
	assert [ "$(deadline_of "$n")" -ge $(($(now_ms) + 95000)) ]
	assert_stat q 0 0 1
	api DELETE "/v1/queues/q/messages/$n"
	assert_http 204
	assert_equal "$(stat_get q total)" 0
	# (Before that, the old receipt still held the lease: wq-ack(1) keeps
	# a receipt valid after an extension.  Once acked, neither does.)
	api DELETE "/v1/queues/q/messages/$r"
	assert_json_error 409
}

@test "an invalid receipt is 400 on ack, release and extend" {
	wq-send -q q m
	wq-recv -L q >/dev/null
	local r
	for r in garbage 'x,y' '80.x,1,2,,3' '.x' "$(printf 'z%.0s' {1..300})"; do
		r=/v1/queues/q/messages/$r
		req DELETE "$r"
		req POST "$r/release"
		req POST "$r/extend?visibility=5"
	done
	assert_all_answer 400
	assert_stat q 0 0 1
}

@test "peek: messages with a null receipt, and nothing changes" {
	wq-send -q -a k=v q a b c
	local before
	before=$(tree q)
	api GET '/v1/queues/q/peek?max=2'
	assert_http 200
	assert_equal "$(jbody '[.messages[].body] | join(" ")')" "a b"
	run -0 jq -e '.messages | all(.receipt == null and .receive_count == 0 and
		.attributes == {"k": "v"})' <<<"$HTTP_BODY"
	api GET /v1/queues/q/peek
	assert_equal "$(jbody '.messages | length')" 3
	assert_equal "$(tree q)" "$before"
	assert_stat q 3 0 0
	# The same as wq-recv --peek shows.
	assert_equal "$(jbody -c '.messages[] | del(.receipt)')" \
		"$(wq-recv --peek -n 10 --json q | jq -c 'del(.receipt)')"
	local p
	for p in max=0 max=101 max=x; do
		req GET "/v1/queues/q/peek?$p"
	done
	assert_all_answer 400
	assert_equal "$(tree q)" "$before"
}

@test "CLI and HTTP share messages and receipts" {
	# wq-send, then HTTP receive, then wq-ack of the receipt.
	local id r
	id=$(wq-send q from-cli)
	api POST /v1/queues/q/receive
	assert_equal "$(jbody '.messages[0] | "\(.id) \(.body)"')" "$id from-cli"
	r=$(jbody '.messages[0].receipt')
	run -0 wq-ack q "$r"
	assert_equal "$(stat_get q total)" 0
	# HTTP send, then wq-recv.
	send_http q from-http
	run -0 wq-recv --json q
	assert_equal "$(jq -r '"\(.id) \(.body)"' <<<"$output")" "$ID from-http"
	# wq-recv -L, then HTTP release and ack.
	wq-send -q q again
	r=$(wq-recv -L q | head -n 1)
	api POST "/v1/queues/q/messages/$r/release"
	assert_http 204
	r=$(wq-recv -L q | head -n 1)
	api DELETE "/v1/queues/q/messages/$r"
	assert_http 204
	assert_equal "$(stat_get q total)" 0
}

# ------------------------------------------------------------ long-polls

@test "long-poll: a parked receive is woken by wq-send well before its wait" {
	bg "$BATS_TEST_TMPDIR/lp" curl -sS -X POST -o "$BATS_TEST_TMPDIR/lp.body" \
		-w '%{http_code} %{time_total}\n' "$SERVE_URL/v1/queues/q/receive?wait=10"
	local lp=$BG_PID id code secs
	wait_for 5 metric_is 'wq_serve_long_polls 1'
	id=$(wq-send q hello)
	wait_for 10 dead "$lp"
	read -r code secs <"$BATS_TEST_TMPDIR/lp"
	assert_equal "$code" 200
	less_than "$secs" 5 || fail "the long-poll took $secs s"
	assert_equal "$(jq -r '.messages[0] | "\(.id) \(.body)"' "$BATS_TEST_TMPDIR/lp.body")" \
		"$id hello"
	assert_stat q 0 0 1
	run -0 metric_is 'wq_serve_long_polls 0'
}

@test "long-poll: wait=1 on an empty queue answers no messages after 1 s" {
	local code secs
	run -0 curl -sS -X POST -o "$BATS_TEST_TMPDIR/body" -w '%{http_code} %{time_total}\n' \
		"$SERVE_URL/v1/queues/q/receive?wait=1"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	assert_equal "$(jq -c . "$BATS_TEST_TMPDIR/body")" '{"messages":[]}'
	less_than 0.9 "$secs" || fail "answered after $secs s"
	less_than "$secs" 3 || fail "answered after $secs s"
}

@test "long-poll: wait above --max-wait is 400" {
	api POST '/v1/queues/q/receive?wait=21'
	assert_json_error 400
	serve_stop
	serve_start --max-wait 2
	api POST '/v1/queues/q/receive?wait=3'
	assert_json_error 400
	wq-send -q q m
	api POST '/v1/queues/q/receive?wait=2'
	assert_http 200
	assert_equal "$(jbody '.messages[0].body')" m
}

@test "long-poll: a client that went away holds no message" {
	bg "$BATS_TEST_TMPDIR/lp" curl -sS -X POST -o /dev/null \
		"$SERVE_URL/v1/queues/q/receive?wait=10"
	local lp=$BG_PID
	wait_for 5 metric_is 'wq_serve_long_polls 1'
	kill "$lp"
	wait_for 5 dead "$lp"
	wq-send -q q after
	# The next receive gets it now, not after the 30 s lease of a
	# response nobody read.
	run -0 curl -sS -X POST "$SERVE_URL/v1/queues/q/receive?wait=5"
	assert_equal "$(jq -r '.messages[0].body' <<<"$output")" after
}

@test "a response that did not reach its client releases its leases" {
	# A response larger than the sockets hold for a client that does not
	# read (its receive buffer as it starts, the server's send buffer at
	# its largest), asked for by a client that then closes unread (a
	# reset): the server cannot finish writing, so the leases go back at
	# once.
	local buf n i fd files=()
	buf=$(($(awk '{ print $2 }' /proc/sys/net/ipv4/tcp_rmem) +
		$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem)))
	n=$((buf / 1000000 + 4))
	[ "$n" -le 100 ] || skip "socket buffers of $buf bytes"
	mkfile_size "$BATS_TEST_TMPDIR/mb" 1000000
	for ((i = 0; i < n; i++)); do
		files+=(-f "$BATS_TEST_TMPDIR/mb")
	done
	wq-send -q "${files[@]}" q
	run -0 metric_is 'wq_serve_leases_released_total 0'
	exec {fd}<>"/dev/tcp/127.0.0.1/$SERVE_PORT"
	printf 'POST /v1/queues/q/receive?max=%d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' \
		"$n" >&"$fd"
	wait_for 10 stat_is q inflight "$n"
	# Still writing (this /metrics request is the other one active).
	run -0 metric_is 'wq_serve_requests_active 2'
	exec {fd}>&-
	wait_for 10 metric_is "wq_serve_leases_released_total $n"
	assert_stat q "$n" 0 0
}

# --------------------------------------------------------------- streams

@test "stream: two clients see the same events from CLI and HTTP sends, and the queue empties" {
	local d=$BATS_TEST_TMPDIR s1 s2
	bg "$d/s1" curl -sSN -D "$d/s1.h" "$SERVE_URL/v1/queues/q/stream"
	s1=$BG_PID
	bg "$d/s2" curl -sSN "$SERVE_URL/v1/queues/q/stream"
	s2=$BG_PID
	wait_for 5 metric_is 'wq_serve_stream_clients 2'
	local id1 id2
	id1=$(wq-send q from-cli)
	send_http q from-http
	id2=$ID
	wait_for 5 events_in "$d/s1" 2
	wait_for 5 events_in "$d/s2" 2
	grep -i '^content-type: text/event-stream' "$d/s1.h"
	assert_equal "$(head -n 1 "$d/s1")" "retry: 2000"
	local want="$id1 from-cli null|$id2 from-http null|"
	assert_equal "$(sed -n 's/^data: //p' "$d/s1" |
		jq -r '"\(.id) \(.body) \(.receipt)"' | tr '\n' '|')" "$want"
	assert_equal "$(sed -n 's/^data: //p' "$d/s2" |
		jq -r '"\(.id) \(.body) \(.receipt)"' | tr '\n' '|')" "$want"
	# Each event: its id, its name, its data, then an empty line.
	assert_equal "$(grep -A3 "^id: $id1\$" "$d/s1" | tr '\n' '|' | sed 's/data: [^|]*|/data|/')" \
		"id: $id1|event: message|data||"
	# Broadcast: each message was acked once written to the clients.
	wait_for 5 stat_is q total 0
	kill "$s1" "$s2"
}

@test "stream: a heartbeat comment with --heartbeat 1" {
	serve_stop
	serve_start --heartbeat 1
	bg "$BATS_TEST_TMPDIR/s" curl -sSN "$SERVE_URL/v1/queues/q/stream"
	wait_for 5 grep -qx ': heartbeat' "$BATS_TEST_TMPDIR/s"
	# Its blank line ends it: the events stay well formed.
	run -0 grep -A1 -x ': heartbeat' "$BATS_TEST_TMPDIR/s"
	assert_line -n 1 ''
}

@test "stream: messages stay in the queue once its clients are gone" {
	serve_stop
	serve_start --heartbeat 1
	bg "$BATS_TEST_TMPDIR/s" curl -sSN "$SERVE_URL/v1/queues/q/stream"
	local s=$BG_PID
	wait_for 5 metric_is 'wq_serve_stream_clients 1'
	kill "$s"
	wait_for 5 dead "$s"
	# The heartbeats find it gone.
	wait_for 10 metric_is 'wq_serve_stream_clients 0'
	wq-send -q q kept
	send_http q kept2
	run -0 wq-recv -n 2 -l q
	assert_output $'kept\nkept2'
}

# ----------------------------------------------------------------- pages

@test "/metrics passes promtool and counts the queues" {
	need_promtool
	wq-send -q q a b
	wq-create other
	curl -sS -D "$BATS_TEST_TMPDIR/h" "$SERVE_URL/metrics" >"$BATS_TEST_TMPDIR/m"
	grep -i '^content-type: text/plain' "$BATS_TEST_TMPDIR/h"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/m"
	grep -Fx 'wq_messages_ready{queue="q"} 2' "$BATS_TEST_TMPDIR/m"
	grep -Fx 'wq_messages_ready{queue="other"} 0' "$BATS_TEST_TMPDIR/m"
	# The families of wq-stat --prom, the same (but for the ages, which
	# move with the clock).
	assert_equal "$(grep -v '^wq_oldest_ready_age_seconds{' "$BATS_TEST_TMPDIR/m" |
		grep -v wq_serve_)" \
		"$(wq-stat --prom | grep -v '^wq_oldest_ready_age_seconds{')"
	# And the server's own.
	local f
	for f in 'wq_serve_responses_total{class="2xx"}' wq_serve_requests_active \
		wq_serve_long_polls wq_serve_stream_clients \
		wq_serve_leases_released_total; do
		grep -Eq "^$(sed 's/[{}]/\\&/g' <<<"$f") [0-9]+\$" "$BATS_TEST_TMPDIR/m" ||
			fail "no $f in /metrics"
	done
	grep -Fx '# TYPE wq_serve_leases_released_total counter' "$BATS_TEST_TMPDIR/m"
}

@test "/metrics counts responses by status class" {
	local before after
	api GET /v1/queues/none
	before=$(curl -sS "$SERVE_URL/metrics" |
		sed -n 's/^wq_serve_responses_total{class="4xx"} //p')
	api GET /v1/queues/none
	api GET /nope
	after=$(curl -sS "$SERVE_URL/metrics" |
		sed -n 's/^wq_serve_responses_total{class="4xx"} //p')
	assert_equal "$after" $((before + 2))
}

@test "/healthz is 200 {\"status\":\"ok\"}" {
	api GET /healthz
	assert_http 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbody -c .)" '{"status":"ok"}'
}

@test "/ is the dashboard: HTML with a Content-Security-Policy" {
	api GET /
	assert_http 200
	[[ $(header Content-Type) == text/html* ]] || fail "$(header Content-Type)"
	[[ $(header Content-Security-Policy) == *default-src* ]] ||
		fail "CSP: '$(header Content-Security-Policy)'"
	grep -F '<table id="queues">' "$BATS_TEST_TMPDIR/body"
	# Self-contained: nothing loaded from elsewhere.
	run ! grep -Ei '(src|href)="(https?:)?//' "$BATS_TEST_TMPDIR/body"
	run -0 curl -sS -I -o /dev/null -w '%{http_code}' "$SERVE_URL/"
	assert_output 200
}

@test "/openapi.json is the OpenAPI 3.0.3 document of the routes" {
	api GET /openapi.json
	assert_http 200
	assert_equal "$(header Content-Type)" application/json
	run -0 jq -e '.openapi == "3.0.3"' "$BATS_TEST_TMPDIR/body"
	# The document of the source tree, as embedded.
	cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_DIRNAME/../serve/openapi.json"
	run -0 jq -r --args '$ARGS.positional - (.paths | keys) | .[]' \
		"$BATS_TEST_TMPDIR/body" / /healthz /metrics /openapi.json \
		/v1/queues '/v1/queues/{queue}' '/v1/queues/{queue}/batch' \
		'/v1/queues/{queue}/messages' '/v1/queues/{queue}/messages/{receipt}' \
		'/v1/queues/{queue}/messages/{receipt}/extend' \
		'/v1/queues/{queue}/messages/{receipt}/release' \
		'/v1/queues/{queue}/peek' '/v1/queues/{queue}/purge' \
		'/v1/queues/{queue}/receive' '/v1/queues/{queue}/stream'
	assert_output ""
}

# ------------------------------------------------------------------ stop

@test "SIGTERM: a parked long-poll answers no messages and the server exits 0" {
	bg "$BATS_TEST_TMPDIR/lp" curl -sS -X POST -o "$BATS_TEST_TMPDIR/lp.body" \
		-w '%{http_code} %{time_total}\n' "$SERVE_URL/v1/queues/q/receive?wait=15"
	local lp=$BG_PID code secs
	wait_for 5 metric_is 'wq_serve_long_polls 1'
	serve_stop
	assert_equal "$SERVE_STATUS" 0
	wait_for 5 dead "$lp"
	read -r code secs <"$BATS_TEST_TMPDIR/lp"
	assert_equal "$code" 200
	assert_equal "$(jq -c . "$BATS_TEST_TMPDIR/lp.body")" '{"messages":[]}'
	less_than "$secs" 5 || fail "answered after $secs s"
	# It no longer listens.
	run ! curl -sS -o /dev/null "$SERVE_URL/healthz"
}
