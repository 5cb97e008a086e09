#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-serve's dashboard (GET /) end to end in a headless Chromium, driven by
# tests/tools/dashboard-check, and its OpenAPI document (GET /openapi.json)
# held against the routes the server answers.
# shellcheck disable=SC2016,SC2154  # jq programs; bats variables

bats_require_minimum_version 1.5.0
load helpers
load serve

CHECK="$BATS_TEST_DIRNAME/tools/dashboard-check"
VALIDATE="$BATS_TEST_DIRNAME/tools/openapi-validate"
CSP="default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"

# Every method and path template that wq-serve routes (serve/route.c), as
# the OpenAPI document must list them: sorted, lower-case methods.
ROUTES='delete /v1/queues/{queue}
delete /v1/queues/{queue}/messages/{receipt}
get /
get /healthz
get /metrics
get /openapi.json
get /v1/queues
get /v1/queues/{queue}
get /v1/queues/{queue}/peek
get /v1/queues/{queue}/stream
post /v1/queues/{queue}/batch
post /v1/queues/{queue}/messages
post /v1/queues/{queue}/messages/{receipt}/extend
post /v1/queues/{queue}/messages/{receipt}/release
post /v1/queues/{queue}/purge
post /v1/queues/{queue}/receive
put /v1/queues/{queue}'

# Methods and paths that wq-serve does not serve, as "METHOD TEMPLATE":
# each is refused with 404 or 405 and absent from the document.
NOT_SERVED='patch /v1/queues/{queue}
get /v1/queues/{queue}/receive
get /v1/queues/{queue}/messages
get /v1/queues/{queue}/batch
delete /v1/queues/{queue}/purge
post /v1/queues/{queue}/peek
put /v1/queues/{queue}/stream
get /v1/queues/{queue}/messages/{receipt}
put /v1/queues/{queue}/messages/{receipt}
get /v1/queues/{queue}/messages/{receipt}/release
delete /v1/queues/{queue}/messages/{receipt}/extend
post /v1/queues/{queue}/messages/{receipt}/renew
post /v1/queues
delete /v1/queues
post /healthz
post /
delete /openapi.json
put /metrics
get /v1/nope
get /v1
get /v2/queues
get /v1/queues/{queue}/nope
get /favicon.ico'

# A receipt of the right shape (RECEIPT_RE) that no lease holds.
FAKE_RECEIPT='80.0006613457487456.543d.00000000.1a624246.vm,1,110,,1795727287727,0123456789abcdef'

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# missing WHAT: skip the test, or fail it under CI, where everything the
# suite needs is installed (.ci/run).
missing() {
	if [ -n "${CI-}" ]; then
		fail "$1 is missing (and \$CI is set)"
	fi
	skip "$1 is missing"
}

need_browser() {
	command -v chromium >/dev/null || missing chromium
	[ -x /usr/bin/chromedriver ] || missing "chromium-driver"
	/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
		missing python3-selenium
}

need_validator() {
	command -v node >/dev/null || missing "node (for openapi-validate)"
	[ -f "${WQ_NPM_PREFIX:-/opt/wq-test-npm}/node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js" ] ||
		missing "the npm package @seriousme/openapi-schema-validator"
}

# dashboard STEP...: run dashboard-check on the page of the test's server;
# its lines are in $output; on failure, show what it said on stderr.
dashboard() {
	run --separate-stderr "$CHECK" "$SERVE_URL/" "$@"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$stderr" >&2
		fail "dashboard-check failed with status $status"
	fi
}

# concrete TEMPLATE: the path with the queue q and the fake receipt.
concrete() {
	local p=${1//\{queue\}/q}
	echo "${p//\{receipt\}/$FAKE_RECEIPT}"
}

# request METHOD PATH: like api, without curl's options; an event stream
# is read for a second, and gives its status all the same.
request() {
	local opt=(-X "$1") max=10
	[ "$1" = HEAD ] && opt=(-I)
	[[ $2 == */stream ]] && max=1
	HTTP_STATUS=$(curl -s -m "$max" -o "$BATS_TEST_TMPDIR/body" \
		-D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' \
		"${opt[@]}" "$SERVE_URL$2") || [[ $2 == */stream ]]
	HTTP_BODY=$(<"$BATS_TEST_TMPDIR/body")
}

# allow_header: the Allow header of the last request.
allow_header() {
	local line
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ ${line,,} == allow:* ]]; then
			line=${line#*:}
			echo "${line# }"
		fi
	done <"$BATS_TEST_TMPDIR/headers"
}

# same_methods LIST LIST: two lists of methods, split on commas and blanks,
# hold the same methods.
same_methods() {
	local a b m
	read -ra a <<<"${1//,/ }"
	read -ra b <<<"${2//,/ }"
	[ "${#a[@]}" -eq "${#b[@]}" ] || return 1
	for m in "${a[@]}"; do
		[[ " ${b[*]} " == *" $m "* ]] || return 1
	done
}

# no_such_route: the last request was refused as a route wq-serve lacks
# (404 "no such route", or 405).
no_such_route() {
	case $HTTP_STATUS in
	405) return 0 ;;
	404) [ "$(jq -r .error <<<"$HTTP_BODY" 2>/dev/null)" = "no such route" ] ;;
	*) return 1 ;;
	esac
}

@test "dashboard: loads clean under the server's CSP, with the counts of wq-stat" {
	need_browser
	wq-create ready delayed leased empty
	wq-create --fifo ordered
	wq-send -q ready a b
	wq-send -q --delay 600 delayed later
	wq-send -q leased x y z
	wq-recv -L leased >/dev/null
	wq-send -q --group g ordered first
	serve_start
	api GET /
	assert_http 200
	assert_equal "$(header Content-Type)" "text/html; charset=utf-8"
	assert_equal "$(header Content-Security-Policy)" "$CSP"
	assert_equal "$(header X-Content-Type-Options)" nosniff
	# The page's own script runs (the table fills) and breaks no rule of
	# the CSP, which is in force: it refuses eval and other origins.
	dashboard table clean csp
	assert_line clean
	assert_line "csp refuses eval and other origins"
	got=$(grep -v -e '^clean$' -e '^csp ' <<<"$output" | LC_ALL=C sort)
	want=$(wq-stat --json | jq -r '.[] |
		"\(.queue) \(.ready) \(.delayed) \(.inflight) \(.total) \(.bytes)"' |
		LC_ALL=C sort)
	assert_equal "$(wc -l <<<"$want")" 5
	assert_equal "$got" "$want"
	# The counts made above, not only wq-stat's view of them.
	assert_line --regexp '^ready 2 0 0 2 [0-9]+$'
	assert_line --regexp '^delayed 0 1 0 1 [0-9]+$'
	assert_line --regexp '^leased 2 0 1 3 [0-9]+$'
	assert_line 'empty 0 0 0 0 0'
}

@test "dashboard: counts follow wq-send and wq-recv live, without a reload" {
	need_browser
	wq-create q
	wq-send -q q a b
	serve_start
	# dashboard-check fails a step if the page was loaded again.
	dashboard \
		'cell q ready 2' 'cell q inflight 0' \
		'run wq-send -q q c d e' \
		'cell q ready 5' \
		'run wq-recv -L q >/dev/null' \
		'cell q ready 4' 'cell q inflight 1' 'cell q total 5'
	assert_line 'q inflight 1'
	assert_stat q 4 0 1
}

@test "dashboard: clicking a queue peeks at its messages, bodies as text" {
	need_browser
	wq-create q
	wq-send -q q plain
	wq-send -q q '<img src=x onerror=alert(1)>'
	wq-send -q q "$(printf 'two\nlines')"
	printf '\377\376' | wq-send -q q
	serve_start
	shot="$BATS_TEST_TMPDIR/peek.png"
	dashboard 'click q' 'peek 4' "screenshot $shot" clean
	msgs=$(grep '^{' <<<"$output")
	peeked=$(jq -r .id <<<"$msgs")
	# The same messages, in the same order, as the CLI and the API show.
	assert_equal "$peeked" "$(wq-recv --peek --json -n 20 q | jq -r .id)"
	api GET /v1/queues/q/peek
	assert_equal "$peeked" "$(jq -r '.messages[].id' <<<"$HTTP_BODY")"
	# Bodies are text: the markup is shown, not made into elements.
	jq -e -s 'map(.body) == ["plain", "<img src=x onerror=alert(1)>",
		"two\nlines", "base64: //4="]' <<<"$msgs"
	jq -e -s 'all(.elements == [])' <<<"$msgs"
	# Peeking claims nothing.
	assert_stat q 4 0 0
	# A PNG of a page with content, not a blank one.
	assert_equal "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" \
		89504e470d0a1a0a
	assert [ "$(stat -c %s "$shot")" -gt 10240 ]
}

@test "dashboard: a message sent from the page is received by wq-recv" {
	need_browser
	wq-create q
	serve_start
	dashboard 'click q' 'send hello from the page' \
		'peek 1' 'cell q ready 1'
	id=$(sed -n 's/^sent //p' <<<"$output")
	[[ $id =~ $ID_RE ]] || fail "no id sent: $output"
	# The page's peek list shows it once sent.
	assert_equal "$(grep '^{' <<<"$output" | jq -r .id)" "$id"
	run -0 wq-recv --json q
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" "hello from the page"
}

@test "dashboard: with --tokens, the 401 shows in #error until a token is entered" {
	need_browser
	(umask 077 && openssl rand -hex 32 >"$BATS_TEST_TMPDIR/token")
	echo "$(wq-serve --hash-token <"$BATS_TEST_TMPDIR/token") *:*" \
		>"$BATS_TEST_TMPDIR/tokens"
	wq-create q
	wq-send -q q one
	serve_start --tokens "$BATS_TEST_TMPDIR/tokens"
	api GET /
	assert_http 200
	api GET /v1/queues
	assert_json_error 401
	missing_msg=$(jq -r .error <<<"$HTTP_BODY")
	api GET /v1/queues -H 'Authorization: Bearer not-a-token-0123456789'
	assert_json_error 401
	unknown_msg=$(jq -r .error <<<"$HTTP_BODY")
	dashboard \
		"error ^queues: $missing_msg — enter a token" \
		'token not-a-token-0123456789' \
		"error ^queues: $unknown_msg — enter a token" \
		"token $(<"$BATS_TEST_TMPDIR/token")" \
		noerror 'cell q ready 1' table
	assert_line "q 1 0 0 1 $(stat_get q bytes)"
}

@test "openapi: GET /openapi.json is the embedded document, valid OpenAPI 3" {
	serve_start
	api GET /openapi.json
	assert_http 200
	assert_equal "$(header Content-Type)" application/json
	cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_DIRNAME/../serve/openapi.json"
	need_validator
	run -0 "$VALIDATE" "$BATS_TEST_TMPDIR/body"
}

@test "openapi: the document lists exactly the routes wq-serve has" {
	serve_start
	api GET /openapi.json
	assert_http 200
	run -0 jq -r '.paths | to_entries[] | .key as $p | .value | keys[] |
		select(. != "parameters" and (startswith("x-") | not)) |
		"\(.) \($p)"' <<<"$HTTP_BODY"
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$ROUTES"
	assert_equal "$(jq -r '.paths | keys | length' <<<"$HTTP_BODY")" 15
}

@test "openapi: every documented operation is served, with a documented status" {
	wq-create q doomed
	wq-send -q q one two
	serve_start
	api GET /openapi.json
	# "METHOD TEMPLATE STATUS,STATUS..." for each operation.
	ops=$(jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] |
		select(.key != "parameters" and (.key | startswith("x-") | not)) |
		"\(.key) \($p) \(.value.responses | keys | join(","))"' <<<"$HTTP_BODY")
	# The routes of serve/route.c, so that each is tried on the server.
	assert_equal "$(cut -d ' ' -f 1,2 <<<"$ops" | LC_ALL=C sort)" "$ROUTES"
	while read -r m t statuses; do
		p=$(concrete "$t")
		# Deleting a queue is tried on one of its own.
		[ "$m $t" = "delete /v1/queues/{queue}" ] && p=/v1/queues/doomed
		request "${m^^}" "$p"
		if no_such_route; then
			fail "${m^^} $p: documented but answered $HTTP_STATUS: $HTTP_BODY"
		fi
		[[ ,$statuses, == *,$HTTP_STATUS,* ]] ||
			fail "${m^^} $p: answered $HTTP_STATUS, not one of its documented $statuses: $HTTP_BODY"
		# "The routes that take GET take HEAD too" (wq-serve(1)); not
		# the stream, where it would claim messages for nobody.
		if [ "$m" = get ] && [[ $t != */stream ]]; then
			get=$HTTP_STATUS
			request HEAD "$p"
			[ "$HTTP_STATUS" = "$get" ] ||
				fail "HEAD $p: answered $HTTP_STATUS, GET $get"
		fi
	done <<<"$ops"
	assert [ ! -e "$(qdir doomed)" ]
}

@test "openapi: what the document does not list is not served" {
	wq-create q
	serve_start
	api GET /openapi.json
	doc=$HTTP_BODY
	run -0 jq -r --arg not "$NOT_SERVED" '. as $d | $not | split("\n")[] |
		split(" ") | select($d.paths[.[1]][.[0]] != null) | join(" ")' \
		<<<"$doc"
	assert_output ""
	# "TEMPLATE METHOD,METHOD..." for each path: what a 405 must allow.
	declare -A methods
	while read -r t ms; do
		methods[$t]=$ms
	done < <(jq -r '.paths | to_entries[] | "\(.key) \(.value | keys |
		map(select(. != "parameters" and (startswith("x-") | not)) |
		ascii_upcase) | join(","))"' <<<"$doc")
	while read -r m t; do
		p=$(concrete "$t")
		request "${m^^}" "$p"
		no_such_route ||
			fail "${m^^} $p: not documented but answered $HTTP_STATUS: $HTTP_BODY"
		if [ "$HTTP_STATUS" = 405 ]; then
			[ -n "${methods[$t]-}" ] ||
				fail "${m^^} $p: 405 for a path the document does not have"
			same_methods "$(allow_header)" "${methods[$t]}" ||
				fail "${m^^} $p: Allow: $(allow_header), documented ${methods[$t]}"
		fi
	done <<<"$NOT_SERVED"
}
