#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# wq-serve's authentication and scopes (AUTHENTICATION in wq-serve(1)):
# every refusal is a 401 with WWW-Authenticate: Bearer, or a 403, with a
# JSON error, and changes nothing on disk; service tokens and JWTs (HS256,
# RS256, ES256) grant exactly their scopes; open routes, ?access_token=
# for streams only, SIGHUP reloads, --hash-token, and bad credentials
# files at start.

bats_require_minimum_version 1.5.0
load helpers
load serve

JWTMINT="$BUILD_DIR/tools/jwtmint"

# Keys are slow to make (RSA): once for the file, shared read-only.
setup_file() {
	local k="$BATS_FILE_TMPDIR/keys"
	mkdir -p "$k"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$k/rsa.pem" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$k/rsa2.pem" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
		-out "$k/rsa1024.pem" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$k/ec.pem"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$k/ec2.pem"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
		-out "$k/ec384.pem"
	local p
	for p in rsa rsa2 rsa1024 ec ec2 ec384; do
		openssl pkey -in "$k/$p.pem" -pubout -out "$k/$p.pub"
	done
	# HMAC secrets of 64 bytes, with the newline that one may drop.
	openssl rand -hex 32 >"$k/hs.key"
	openssl rand -hex 32 >"$k/hs2.key"
	printf '%s\n' 0123456789abcdef0123456789abcde >"$k/hs-short.key"
}

setup() {
	common_setup
	[ -x "$JWTMINT" ] || fail "run make build/tools/jwtmint first"
	K="$BATS_FILE_TMPDIR/keys"
	NOW=$(date +%s)
	TOKENS="$BATS_TEST_TMPDIR/tokens"
	: >"$TOKENS"
}

teardown() {
	common_teardown
}

# new_token NAME [SCOPE...]: a random service token, in $NAME (the shell
# variable) and listed in $TOKENS with SCOPEs (not listed without).
new_token() {
	local name=$1 tok
	shift
	tok=$(openssl rand -hex 32)
	printf -v "$name" '%s' "$tok"
	if [ $# -gt 0 ]; then
		echo "$(wq-serve --hash-token <<<"$tok") $*" >>"$TOKENS"
	fi
}

# matches N REGEX FILE: FILE has N lines or more that match REGEX.
matches() {
	[ "$(grep -c -E -- "$2" "$3" 2>/dev/null)" -ge "$1" ]
}

# mint ALG KEYFILE CLAIMS: a JWT (see tests/tools/jwtmint.c).
mint() {
	"$JWTMINT" "$@"
}

# The state that refusals must leave alone: the queue orders with one
# message leased for an hour (its receipt in RECEIPT) and one ready.
orders_state() {
	wq-create --visibility 3600 orders
	wq-send orders leased >/dev/null
	RECEIPT=$(wq-recv -L orders | head -n 1)
	[[ $RECEIPT =~ $RECEIPT_RE ]] || fail "no receipt: $RECEIPT"
	wq-send orders ready >/dev/null
	BEFORE_TREE=$(tree orders)
	BEFORE_STAT=$(stat_counts orders)
	# ready, delayed, inflight, total
	[[ $BEFORE_STAT == "1 0 1 2 "* ]] || fail "orders: $BEFORE_STAT"
}

# probes STATUS [CURL-ARG...]: the requests of the array REQS, each
# "METHOD PATH [BODY]" (no blanks in any), must each be refused with
# STATUS and an error object (and a 401 with WWW-Authenticate: Bearer).
# One curl for them all, as curl is slow to start on a busy machine; the
# CURL-ARGs go with every request, PROBE_QUERY (if set) into every query
# string.  The last body is in PROBED.
probes() {
	local s=$1 d="$BATS_TEST_TMPDIR/probes" i code www
	shift
	batch "$@"
	i=0
	while IFS=$'\t' read -r code www; do
		PROBED=$(<"$d/$i")
		[ "$code" = "$s" ] ||
			fail "${REQS[i]}: expected $s, got $code: $PROBED"
		if [ "$s" = 401 ] && [[ $www != Bearer* ]]; then
			fail "${REQS[i]}: 401 without WWW-Authenticate: Bearer ('$www')"
		fi
		i=$((i + 1))
	done <"$d/out"
	[ "$i" -eq "${#REQS[@]}" ] || fail "$i answers to ${#REQS[@]} requests"
	# Error objects whose status is the status.
	(cd "$d" && jq -e -s --argjson s "$s" 'all(type == "object" and
		.status == $s and (.error | type == "string" and length > 0))' \
		[0-9]*) >/dev/null ||
		fail "not JSON errors of status $s: $(cat "$d"/[0-9]*)"
}

# batch [CURL-ARG...]: the requests of REQS in one curl; the status of
# each, with its WWW-Authenticate, a line of $BATS_TEST_TMPDIR/probes/out,
# the body of the Nth in the file N beside it; STATUSES has the statuses
# on one line.
batch() {
	local d="$BATS_TEST_TMPDIR/probes" argv=() i=0 r m p b
	rm -rf "$d"
	mkdir -p "$d"
	for r in "${REQS[@]}"; do
		read -r m p b <<<"$r"
		if [ -n "${PROBE_QUERY-}" ]; then
			[[ $p == *\?* ]] && p+="&" || p+="?"
			p+=$PROBE_QUERY
		fi
		((i == 0)) || argv+=(--next)
		argv+=(-sS -m 10 -X "$m" -o "$d/$i" -w "%{http_code}\t%header{www-authenticate}\n")
		[ -z "$b" ] || argv+=(--data-binary "$b")
		argv+=("$@" "$SERVE_URL$p")
		i=$((i + 1))
	done
	curl "${argv[@]}" >"$d/out" || fail "curl failed"
	STATUSES=
	while IFS=$'\t' read -r r _; do
		STATUSES+="${STATUSES:+ }$r"
	done <"$d/out"
}

# probe STATUS METHOD PATH [CURL-ARG...]: one request, refused so.
probe() {
	local REQS=("$2 $3")
	probes "$1" "${@:4}"
}

# assert_orders_untouched: nothing sent, leased, acked, released,
# extended, purged or deleted since orders_state; no queue created.
assert_orders_untouched() {
	assert_equal "$(tree orders)" "$BEFORE_TREE"
	assert_equal "$(stat_counts orders)" "$BEFORE_STAT"
	[ ! -e "$WQ_DIR/fresh" ] || fail "a refused PUT created a queue"
}

# The routes that change the queue orders (send, batch, receive, ack,
# release, extend, purge, delete, and creating a queue), and those that
# read it.
writes() {
	local m=/v1/queues/orders/messages
	REQS+=("POST $m sneaky"
		'POST /v1/queues/orders/batch {"messages":[{"body":"a"},{"body":"b"}]}'
		"POST /v1/queues/orders/receive?max=10"
		"DELETE $m/$RECEIPT"
		"POST $m/$RECEIPT/release"
		"POST $m/$RECEIPT/extend?visibility=600"
		"POST /v1/queues/orders/purge"
		"DELETE /v1/queues/orders"
		"PUT /v1/queues/fresh")
}
reads() {
	REQS+=("GET /v1/queues/orders" "GET /v1/queues/orders/peek")
	# (with the token in the query, a stream is no refusal)
	[ -n "${PROBE_QUERY-}" ] || REQS+=("GET /v1/queues/orders/stream")
}

# refused_writes STATUS [CURL-ARG...]: every route that changes orders is
# refused with STATUS, and nothing changed.
refused_writes() {
	local REQS=()
	writes
	probes "$@"
	assert_orders_untouched
}

# refused_all STATUS [CURL-ARG...]: every route that reads or changes
# orders, and for 401 the list and /metrics (not refused for want of a
# scope), is refused with STATUS, and nothing changed.
refused_all() {
	local REQS=()
	reads
	[ "$1" != 401 ] || REQS+=("GET /v1/queues" "GET /metrics")
	writes
	probes "$@"
	assert_orders_untouched
}

# refused_some STATUS [CURL-ARG...]: a look, a send, a receive, an ack
# and a queue's deletion are refused with STATUS (the caller checks the
# disk).
refused_some() {
	local REQS=("GET /v1/queues/orders"
		"POST /v1/queues/orders/messages sneaky"
		"POST /v1/queues/orders/receive?max=10"
		"DELETE /v1/queues/orders/messages/$RECEIPT"
		"DELETE /v1/queues/orders")
	probes "$@"
}

# jwt_refused [-a] ALG KEYFILE CLAIMS REASON: a token so minted is refused
# with 401 (refused_some; with -a, refused_all), and the error names
# REASON.
jwt_refused() {
	local how=refused_some tok
	if [ "$1" = -a ]; then
		how=refused_all
		shift
	fi
	tok=$(mint "$1" "$2" "$3")
	$how 401 -H "Authorization: Bearer $tok"
	[[ $PROBED == *"$4"* ]] || fail "error is not about '$4': $PROBED"
}

# A claims object valid for ten minutes with SCOPE (JSON), and EXTRA
# members (a JSON object's insides, such as "\"iss\":\"x\",").
claims() {
	echo "{${2-}\"sub\":\"tester\",\"exp\":$((NOW + 600)),\"scope\":$1}"
}

# send_recv_ack NAME CURL-ARG...: with these curl arguments, a send (of
# "for NAME"), a receive and an ack on orders work, and admin does not.
send_recv_ack() {
	local receipt
	api POST /v1/queues/orders/messages --data-binary "for $1" "${@:2}"
	assert_http 201
	api POST '/v1/queues/orders/receive?max=10' "${@:2}"
	assert_http 200
	receipt=$(jq -r --arg b "for $1" \
		'.messages[] | select(.body == $b) | .receipt' <<<"$HTTP_BODY")
	[[ $receipt =~ $RECEIPT_RE ]] || fail "not received: $HTTP_BODY"
	api DELETE "/v1/queues/orders/messages/$receipt" "${@:2}"
	assert_http 204
	probe 403 DELETE /v1/queues/orders "${@:2}"
}

# --- refusals --------------------------------------------------------

@test "no Authorization header: 401 with WWW-Authenticate: Bearer everywhere, nothing changed" {
	new_token GOOD '*'
	orders_state
	serve_start --tokens "$TOKENS"
	refused_all 401
	[[ $PROBED == *'"missing bearer token"'* ]] || fail "$PROBED"
	# The token works: the refusals were about its absence.
	api GET /v1/queues/orders -H "Authorization: Bearer $GOOD"
	assert_http 200
}

@test "a scheme other than Bearer, or Bearer with nothing: 401, nothing changed" {
	new_token GOOD '*'
	orders_state
	serve_start --tokens "$TOKENS"
	refused_all 401 -H "Authorization: Basic $(printf 'u:%s' "$GOOD" | base64 -w0)"
	refused_some 401 -H "Authorization: Token $GOOD"
	refused_some 401 -H "Authorization: Bearer$GOOD"
	refused_some 401 -H "Authorization: Bearer "
	refused_some 401 -H "Authorization: $GOOD"
	# The scheme is not case-sensitive (RFC 6750), the token is.
	api GET /v1/queues/orders -H "Authorization: bearer $GOOD"
	assert_http 200
	refused_some 401 -H "Authorization: Bearer ${GOOD^^}"
	assert_orders_untouched
}

@test "an unknown service token: 401, nothing changed" {
	new_token GOOD '*'
	new_token STRANGER
	orders_state
	serve_start --tokens "$TOKENS"
	refused_all 401 -H "Authorization: Bearer $STRANGER"
	[[ $PROBED == *'"unknown token"'* ]] || fail "$PROBED"
	# One byte off the real one.
	refused_some 401 -H "Authorization: Bearer ${GOOD%?}x"
	refused_some 401 -H "Authorization: Bearer $GOOD$GOOD"
	# The digest is what the file holds, not a token.
	digest=$(cut -d' ' -f1 "$TOKENS")
	refused_some 401 -H "Authorization: Bearer $digest"
	refused_some 401 -H "Authorization: Bearer ${digest#sha256:}"
	assert_orders_untouched
}

@test "a service token without the verb: 403 with a JSON error, nothing changed" {
	new_token READER 'read:orders'
	new_token SENDER 'send:orders'
	orders_state
	serve_start --tokens "$TOKENS"
	refused_writes 403 -H "Authorization: Bearer $READER"
	# It may read, though: the 403s were about the verbs.
	api GET /v1/queues/orders -H "Authorization: Bearer $READER"
	assert_http 200
	# send only: no receiving, settling or admin.
	probe 403 POST '/v1/queues/orders/receive?max=10' -H "Authorization: Bearer $SENDER"
	probe 403 DELETE "/v1/queues/orders/messages/$RECEIPT" -H "Authorization: Bearer $SENDER"
	probe 403 POST "/v1/queues/orders/messages/$RECEIPT/release" -H "Authorization: Bearer $SENDER"
	probe 403 DELETE /v1/queues/orders -H "Authorization: Bearer $SENDER"
	probe 403 GET /v1/queues/orders/peek -H "Authorization: Bearer $SENDER"
	assert_orders_untouched
}

@test "a service token whose globs miss the queue: 403, nothing changed" {
	new_token OTHER '*:other'
	new_token PREFIX '*:order'
	new_token LONGER '*:orders?' 'admin:orders-*'
	orders_state
	serve_start --tokens "$TOKENS"
	refused_all 403 -H "Authorization: Bearer $OTHER"
	refused_some 403 -H "Authorization: Bearer $PREFIX"
	refused_some 403 -H "Authorization: Bearer $LONGER"
	# A 403 does not tell whether the queue exists.
	probe 403 POST /v1/queues/nosuch/messages --data-binary x -H "Authorization: Bearer $OTHER"
	# They are valid: on their own queues they work.
	api PUT /v1/queues/other -H "Authorization: Bearer $OTHER"
	assert_http 201
	assert_orders_untouched
}

@test "an expired JWT: 401; within --jwt-leeway it passes, with --jwt-leeway 0 it does not" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key"
	jwt_refused -a HS256 "$K/hs.key" \
		"{\"exp\":$((NOW - 3600)),\"scope\":\"*\"}" "expired"
	# 10 s past exp, under the default leeway of 30 s.
	late=$(mint HS256 "$K/hs.key" "{\"exp\":$((NOW - 10)),\"scope\":\"read\"}")
	api GET /v1/queues/orders -H "Authorization: Bearer $late"
	assert_http 200
	serve_stop
	serve_start --jwt-key "HS256:$K/hs.key" --jwt-leeway 0
	probe 401 GET /v1/queues/orders -H "Authorization: Bearer $late"
	assert_orders_untouched
}

@test "a JWT not yet valid (nbf in the future): 401, nothing changed" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key"
	jwt_refused -a HS256 "$K/hs.key" \
		"$(claims '"*"' "\"nbf\":$((NOW + 3600)),")" "not yet valid"
	# nbf in the past is fine.
	tok=$(mint HS256 "$K/hs.key" "$(claims '"read"' "\"nbf\":$((NOW - 60)),")")
	api GET /v1/queues/orders -H "Authorization: Bearer $tok"
	assert_http 200
	assert_orders_untouched
}

@test "a JWT without exp: 401, nothing changed" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key"
	jwt_refused -a HS256 "$K/hs.key" '{"sub":"forever","scope":"*"}' "exp"
	# exp that is no number is no exp either.
	jwt_refused HS256 "$K/hs.key" \
		"{\"exp\":\"$((NOW + 600))\",\"scope\":\"*\"}" "malformed"
	assert_orders_untouched
}

@test "alg none: 401 whatever keys are configured, nothing changed" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key" --jwt-key "RS256:$K/rsa.pub" \
		--jwt-key "ES256:$K/ec.pub"
	jwt_refused -a none - "$(claims '"*"')" "algorithm not accepted"
	# A signature glued onto it does not help either.
	tok="$(mint none - "$(claims '"*"')")$(mint HS256 "$K/hs.key" "$(claims '"*"')" |
		cut -d. -f3)"
	refused_some 401 -H "Authorization: Bearer $tok"
	assert_orders_untouched
}

@test "algorithm confusion: HS256 signed with the RS256 public key is refused" {
	orders_state
	serve_start --jwt-key "RS256:$K/rsa.pub"
	jwt_refused -a HS256-WITH-PUBKEY "$K/rsa.pub" "$(claims '"*"')" \
		"algorithm not accepted"
	# Also when an HS256 key is configured beside it: the PEM is no
	# secret of ours.
	serve_stop
	serve_start --jwt-key "RS256:$K/rsa.pub" --jwt-key "HS256:$K/hs.key"
	jwt_refused HS256-WITH-PUBKEY "$K/rsa.pub" "$(claims '"*"')" \
		"bad signature"
	# The real RS256 token works.
	tok=$(mint RS256 "$K/rsa.pem" "$(claims '"read"')")
	api GET /v1/queues/orders -H "Authorization: Bearer $tok"
	assert_http 200
	assert_orders_untouched
}

@test "a JWT of an algorithm without a key: 401 (RS256 with only HS256, ES256 with only RS256)" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key"
	jwt_refused -a RS256 "$K/rsa.pem" "$(claims '"*"')" "algorithm not accepted"
	jwt_refused ES256 "$K/ec.pem" "$(claims '"*"')" "algorithm not accepted"
	serve_stop
	serve_start --jwt-key "RS256:$K/rsa.pub"
	jwt_refused ES256 "$K/ec.pem" "$(claims '"*"')" "algorithm not accepted"
	jwt_refused HS256 "$K/hs.key" "$(claims '"*"')" "algorithm not accepted"
	assert_orders_untouched
}

@test "a JWT with a wrong signature: 401 (another secret, another key), nothing changed" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key" --jwt-key "RS256:$K/rsa.pub" \
		--jwt-key "ES256:$K/ec.pub"
	jwt_refused -a HS256 "$K/hs2.key" "$(claims '"*"')" "bad signature"
	jwt_refused RS256 "$K/rsa2.pem" "$(claims '"*"')" "bad signature"
	jwt_refused ES256 "$K/ec2.pem" "$(claims '"*"')" "bad signature"
	# A signature cut short, or none at all.
	good=$(mint HS256 "$K/hs.key" "$(claims '"*"')")
	refused_some 401 -H "Authorization: Bearer ${good%?????}"
	refused_some 401 -H "Authorization: Bearer ${good%.*}."
	assert_orders_untouched
}

@test "a JWT whose payload was tampered with: 401, nothing changed" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key" --jwt-key "RS256:$K/rsa.pub"
	how=refused_all
	for alg in "HS256 $K/hs.key" "RS256 $K/rsa.pem"; do
		# shellcheck disable=SC2086
		tok=$(mint $alg "$(claims '"read:orders"')")
		api GET /v1/queues/orders -H "Authorization: Bearer $tok"
		assert_http 200
		# The same header and signature over a payload granting all.
		payload=$(printf '%s' "$(claims '"*"')" | base64 -w0 |
			tr '+/' '-_' | tr -d '=')
		IFS=. read -r h _ s <<<"$tok"
		$how 401 -H "Authorization: Bearer $h.$payload.$s"
		how=refused_some
		# The original payload with one claim changed in place.
		later=$(printf '%s' "$(claims '"read:orders"' | sed "s/$((NOW + 600))/$((NOW + 86400))/")" |
			base64 -w0 | tr '+/' '-_' | tr -d '=')
		refused_some 401 -H "Authorization: Bearer $h.$later.$s"
	done
	assert_orders_untouched
}

@test "wrong iss or aud with --jwt-issuer and --jwt-audience: 401; the right ones pass" {
	orders_state
	serve_start --jwt-key "ES256:$K/ec.pub" --jwt-issuer https://idp.example \
		--jwt-audience wq
	jwt_refused -a ES256 "$K/ec.pem" \
		"$(claims '"*"' '"iss":"https://evil.example","aud":"wq",')" "issuer"
	jwt_refused ES256 "$K/ec.pem" "$(claims '"*"' '"aud":"wq",')" "issuer"
	jwt_refused ES256 "$K/ec.pem" \
		"$(claims '"*"' '"iss":"https://idp.example","aud":"other",')" "audience"
	jwt_refused ES256 "$K/ec.pem" \
		"$(claims '"*"' '"iss":"https://idp.example","aud":["a","b"],')" "audience"
	jwt_refused ES256 "$K/ec.pem" "$(claims '"*"' '"iss":"https://idp.example",')" \
		"audience"
	tok=$(mint ES256 "$K/ec.pem" \
		"$(claims '"send:orders recv:orders"' '"iss":"https://idp.example","aud":["x","wq"],')")
	assert_orders_untouched
	send_recv_ack iss-aud -H "Authorization: Bearer $tok"
}

# --- what is allowed ---------------------------------------------------

@test "a service token works for exactly its verbs and queues" {
	# What follows a word starting with # is a comment: no admin here.
	new_token T 'send:orders' 'recv:orders' 'read:mail-*' '#' 'admin'
	new_token BARE 'read'
	echo '# a comment line, then a blank one' >>"$TOKENS"
	echo >>"$TOKENS"
	wq-create orders mail-a mail-b mailx
	serve_start -v --tokens "$TOKENS"
	send_recv_ack orders -H "Authorization: Bearer $T"
	api GET /v1/queues/mail-a -H "Authorization: Bearer $T"
	assert_http 200
	api GET /v1/queues/mail-b/peek -H "Authorization: Bearer $T"
	assert_http 200
	probe 403 GET /v1/queues/mailx -H "Authorization: Bearer $T"
	probe 403 GET /v1/queues/orders -H "Authorization: Bearer $T"
	probe 403 POST /v1/queues/mail-a/messages --data-binary x -H "Authorization: Bearer $T"
	probe 403 POST /v1/queues/mail-a/receive -H "Authorization: Bearer $T"
	probe 403 PUT /v1/queues/mail-c -H "Authorization: Bearer $T"
	[ ! -e "$WQ_DIR/mail-c" ]
	assert_stat mail-a 0 0 0
	assert_stat orders 0 0 0
	# A bare verb is VERB:*: every queue, that verb only.
	for q in orders mail-a mailx; do
		api GET "/v1/queues/$q" -H "Authorization: Bearer $BARE"
		assert_http 200
	done
	probe 403 POST /v1/queues/orders/messages --data-binary x -H "Authorization: Bearer $BARE"
	# The log names a token by the first eight hex digits of its digest.
	digest=$(printf %s "$T" | sha256sum | cut -c1-8)
	grep -q "POST /v1/queues/orders/messages 201 token $digest" "$SERVE_LOG"
}

@test "HS256, RS256 and ES256 JWTs grant their scope claim, as a string or an array" {
	wq-create orders other
	serve_start -v --jwt-key "HS256:$K/hs.key" --jwt-key "RS256:$K/rsa.pub" \
		--jwt-key "ES256:$K/ec.pub"
	n=0
	for alg in "HS256 $K/hs.key" "RS256 $K/rsa.pem" "ES256 $K/ec.pem"; do
		# shellcheck disable=SC2086
		tok=$(mint $alg "$(claims '"send:orders recv:orders"')")
		send_recv_ack "${alg% *}" -H "Authorization: Bearer $tok"
		for scope in '"send:orders recv:orders"' \
			'["send:orders","recv:orders"]' '"  recv:orders   send:orders "'; do
			# shellcheck disable=SC2086
			tok=$(mint $alg "$(claims "$scope")")
			n=$((n + 1))
			REQS=("POST /v1/queues/orders/messages message-$n"
				"POST /v1/queues/orders/receive?max=10"
				"POST /v1/queues/other/messages x"
				"POST /v1/queues/other/receive"
				"GET /v1/queues/orders"
				"PUT /v1/queues/orders")
			batch -H "Authorization: Bearer $tok"
			assert_equal "$STATUSES" "201 200 403 403 403 403"
			grep -q "\"body\":\"message-$n\"" "$BATS_TEST_TMPDIR/probes/1"
		done
	done
	assert_stat orders 0 0 9
	assert_stat other 0 0 0
	grep -q 'POST /v1/queues/orders/messages 201 jwt sub=tester' "$SERVE_LOG"
}

@test "a JWT without a scope claim is valid but may do nothing: 403, not 401" {
	orders_state
	serve_start --jwt-key "HS256:$K/hs.key"
	tok=$(mint HS256 "$K/hs.key" "{\"exp\":$((NOW + 600))}")
	refused_all 403 -H "Authorization: Bearer $tok"
	api GET /v1/queues -H "Authorization: Bearer $tok"
	assert_http 200
	assert_equal "$(jq -c '.queues' <<<"$HTTP_BODY")" '[]'
}

@test "GET /v1/queues and /metrics show only the queues a read scope matches" {
	wq-create a1 a2 b1
	wq-send a1 x >/dev/null
	wq-send b1 y >/dev/null
	new_token AREADER 'read:a*' 'send:b1'
	new_token NOREAD 'send' 'recv' 'admin:*'
	new_token ALL 'read'
	serve_start --tokens "$TOKENS" --jwt-key "RS256:$K/rsa.pub"
	api GET /v1/queues -H "Authorization: Bearer $AREADER"
	assert_http 200
	assert_equal "$(jq -c '[.queues[].queue] | sort' <<<"$HTTP_BODY")" '["a1","a2"]'
	assert_equal "$(jq -c '.queues[] | select(.queue == "a1") | .ready' \
		<<<"$HTTP_BODY")" 1
	api GET /metrics -H "Authorization: Bearer $AREADER"
	assert_http 200
	grep -q '^wq_messages_ready{queue="a1"} 1$' "$BATS_TEST_TMPDIR/body"
	grep -q '^wq_messages_ready{queue="a2"} 0$' "$BATS_TEST_TMPDIR/body"
	run -1 grep 'queue="b1"' "$BATS_TEST_TMPDIR/body"
	grep -q '^wq_serve_responses_total{class="2xx"}' "$BATS_TEST_TMPDIR/body"
	# No read scope at all: nothing listed, yet not refused.
	api GET /v1/queues -H "Authorization: Bearer $NOREAD"
	assert_http 200
	assert_equal "$(jq -c '.queues' <<<"$HTTP_BODY")" '[]'
	api GET /metrics -H "Authorization: Bearer $NOREAD"
	assert_http 200
	run -1 grep 'queue="' "$BATS_TEST_TMPDIR/body"
	# A JWT with the read scope of one queue.
	tok=$(mint RS256 "$K/rsa.pem" "$(claims '["read:b1"]')")
	api GET /v1/queues -H "Authorization: Bearer $tok"
	assert_equal "$(jq -c '[.queues[].queue]' <<<"$HTTP_BODY")" '["b1"]'
	api GET /metrics -H "Authorization: Bearer $tok"
	grep -q '^wq_messages_ready{queue="b1"} 1$' "$BATS_TEST_TMPDIR/body"
	run -1 grep -E 'queue="a[12]"' "$BATS_TEST_TMPDIR/body"
	# read on every queue: all three.
	api GET /v1/queues -H "Authorization: Bearer $ALL"
	assert_equal "$(jq -c '[.queues[].queue] | sort' <<<"$HTTP_BODY")" '["a1","a2","b1"]'
}

@test "/healthz, /openapi.json and / need no token, even when nobody else gets in" {
	# An empty tokens file lets nobody in (rather than everybody).
	orders_state
	serve_start --tokens "$TOKENS"
	refused_some 401
	api GET /healthz
	assert_http 200
	assert_equal "$(jq -c . <<<"$HTTP_BODY")" '{"status":"ok"}'
	api GET /openapi.json
	assert_http 200
	jq -e '.openapi == "3.0.3" and (.paths | length > 0)' <<<"$HTTP_BODY" >/dev/null
	api GET /
	assert_http 200
	[[ $(header Content-Type) == text/html* ]]
	grep -qi '<html' "$BATS_TEST_TMPDIR/body"
	# A token that is wrong does not matter to them either.
	api GET /healthz -H 'Authorization: Bearer nonsense'
	assert_http 200
	api GET /openapi.json -H 'Authorization: Basic eDp5'
	assert_http 200
	assert_orders_untouched
}

@test "?access_token= authenticates GET .../stream, and no other route" {
	new_token T 'send:orders' 'recv:orders' 'read:orders'
	new_token READER 'read:orders'
	orders_state
	serve_start --tokens "$TOKENS" --jwt-key "HS256:$K/hs.key"
	# Every other route ignores it: as if no token were given.
	PROBE_QUERY="access_token=$T" refused_all 401
	probe 401 POST "/v1/queues/orders/messages?access_token=$T" --data-binary x
	[[ $PROBED == *'"missing bearer token"'* ]] || fail "$PROBED"
	probe 401 GET "/metrics?access_token=$T"
	assert_orders_untouched
	# A stream with an unknown token (x is no hex digit, so the token
	# always differs), or one without recv.
	probe 401 GET "/v1/queues/orders/stream?access_token=${T%?}x"
	probe 403 GET "/v1/queues/orders/stream?access_token=$READER"
	assert_orders_untouched
	# The stream with the token in the query: the ready message, and one
	# sent after it started.
	bg "$BATS_TEST_TMPDIR/stream" curl -sS -N \
		"$SERVE_URL/v1/queues/orders/stream?access_token=$T"
	wait_for 10 grep -q '"body":"ready"' "$BATS_TEST_TMPDIR/stream"
	wq-send orders later >/dev/null
	wait_for 10 grep -q '"body":"later"' "$BATS_TEST_TMPDIR/stream"
	# A JWT in the query works as well.
	tok=$(mint HS256 "$K/hs.key" "$(claims '"recv:orders"')")
	bg "$BATS_TEST_TMPDIR/stream2" curl -sS -N -D "$BATS_TEST_TMPDIR/stream2.h" \
		"$SERVE_URL/v1/queues/orders/stream?access_token=$tok"
	wait_for 10 grep -q '^retry: 2000' "$BATS_TEST_TMPDIR/stream2"
	grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/stream2.h"
}

@test "SIGHUP re-reads the tokens file: an added token works, a removed one gets 401" {
	new_token T1 '*'
	new_token T2 '*'
	new_token T3
	orders_state
	serve_start --tokens "$TOKENS"
	for t in "$T1" "$T2"; do
		api GET /v1/queues/orders -H "Authorization: Bearer $t"
		assert_http 200
	done
	probe 401 GET /v1/queues/orders -H "Authorization: Bearer $T3"
	# The new file: T1 gone, T3 added with fewer rights.
	{
		echo "$(wq-serve --hash-token <<<"$T2") *"
		echo "$(wq-serve --hash-token <<<"$T3") read:orders"
	} >"$TOKENS.new"
	mv "$TOKENS.new" "$TOKENS"
	kill -HUP "$SERVE_PID"
	wait_for 10 grep -q 'credentials reloaded' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $T3"
	assert_http 200
	probe 403 POST /v1/queues/orders/purge -H "Authorization: Bearer $T3"
	refused_some 401 -H "Authorization: Bearer $T1"
	api GET /v1/queues/orders -H "Authorization: Bearer $T2"
	assert_http 200
	assert_orders_untouched
}

@test "SIGHUP with a broken tokens file keeps the old tokens, and says why" {
	new_token T1 'read:orders'
	new_token T2
	orders_state
	serve_start --tokens "$TOKENS"
	cp "$TOKENS" "$TOKENS.good"
	{
		echo "$(wq-serve --hash-token <<<"$T2") *"
		echo "sha256:not-a-hash read"
	} >"$TOKENS"
	kill -HUP "$SERVE_PID"
	wait_for 10 grep -q 'keeping the credentials' "$SERVE_LOG"
	grep -q 'line 2: bad hash' "$SERVE_LOG"
	run -1 grep 'credentials reloaded' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $T1"
	assert_http 200
	probe 401 GET /v1/queues/orders -H "Authorization: Bearer $T2"
	# Gone altogether: the same.
	rm "$TOKENS"
	kill -HUP "$SERVE_PID"
	wait_for 10 matches 2 'keeping the credentials' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $T1"
	assert_http 200
	# Mended: read again.
	echo "$(wq-serve --hash-token <<<"$T2") read:orders" >"$TOKENS"
	kill -HUP "$SERVE_PID"
	wait_for 10 grep -q 'credentials reloaded' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $T2"
	assert_http 200
	probe 401 GET /v1/queues/orders -H "Authorization: Bearer $T1"
	assert_orders_untouched
}

@test "SIGHUP re-reads the JWT keys: a rotated secret, and a bad one kept out" {
	orders_state
	cp "$K/hs.key" "$BATS_TEST_TMPDIR/hs.key"
	serve_start --jwt-key "HS256:$BATS_TEST_TMPDIR/hs.key"
	old=$(mint HS256 "$K/hs.key" "$(claims '"read"')")
	new=$(mint HS256 "$K/hs2.key" "$(claims '"read"')")
	api GET /v1/queues/orders -H "Authorization: Bearer $old"
	assert_http 200
	# A secret too short: refused, the old one kept.
	cp "$K/hs-short.key" "$BATS_TEST_TMPDIR/hs.key"
	kill -HUP "$SERVE_PID"
	wait_for 10 grep -q 'keeping the credentials' "$SERVE_LOG"
	grep -q 'shorter than 32 bytes' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $old"
	assert_http 200
	cp "$K/hs2.key" "$BATS_TEST_TMPDIR/hs.key"
	kill -HUP "$SERVE_PID"
	wait_for 10 grep -q 'credentials reloaded' "$SERVE_LOG"
	api GET /v1/queues/orders -H "Authorization: Bearer $new"
	assert_http 200
	probe 401 GET /v1/queues/orders -H "Authorization: Bearer $old"
}

# --- --hash-token and bad files ----------------------------------------

@test "--hash-token prints sha256:HEX of the token as sha256sum has it" {
	tok=$(openssl rand -hex 32)
	want="sha256:$(printf %s "$tok" | sha256sum | cut -d' ' -f1)"
	run -0 --separate-stderr wq-serve --hash-token <<<"$tok"
	assert_output "$want"
	assert_equal "$stderr" ""
	# Without a newline, the same.
	run -0 wq-serve --hash-token < <(printf %s "$tok")
	assert_output "$want"
	# 16 bytes are enough.
	run -0 wq-serve --hash-token <<<0123456789abcdef
	assert_output "sha256:$(printf %s 0123456789abcdef | sha256sum | cut -d' ' -f1)"
}

@test "--hash-token refuses a token shorter than 16 bytes, or none: exit 65" {
	for input in 0123456789abcde short ''; do
		run -65 --separate-stderr wq-serve --hash-token <<<"$input"
		assert_output ""
		[[ $stderr == "wq-serve: "?* ]] || fail "stderr: '$stderr'"
		assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	done
	run -65 --separate-stderr wq-serve --hash-token </dev/null
	assert_output ""
	[[ $stderr == "wq-serve: "?* ]]
}

# start_refused WHAT ARG...: wq-serve with ARGs exits 78 with one line
# on stderr that names WHAT, without ever listening.
start_refused() {
	local what=$1 pf="$BATS_TEST_TMPDIR/refused.port"
	shift
	rm -f "$pf"
	run -78 --separate-stderr wq-serve -l 127.0.0.1:0 --port-file "$pf" "$@"
	[[ $stderr == "wq-serve: "?* ]] || fail "stderr: '$stderr'"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == *"$what"* ]] || fail "'$stderr' does not name '$what'"
	[ ! -e "$pf" ] || fail "it listened"
}

@test "a bad tokens file at start: exit 78 with one line that says where" {
	t="$BATS_TEST_TMPDIR/t"
	h=$(wq-serve --hash-token <<<0123456789abcdef0123)
	start_refused "$BATS_TEST_TMPDIR/none" --tokens "$BATS_TEST_TMPDIR/none"
	printf '# ok\n\nsha256:0123 read\n' >"$t"
	start_refused 'line 3' --tokens "$t"
	printf '%s\n' "$h" >"$t"
	start_refused 'line 1' --tokens "$t"
	printf '%s write:orders\n' "$h" >"$t"
	start_refused 'line 1' --tokens "$t"
	printf '%s send:\n' "$h" >"$t"
	start_refused 'line 1' --tokens "$t"
	printf '%s read\n# again\n%s send\n' "$h" "$h" >"$t"
	start_refused 'line 3' --tokens "$t"
	printf '%s read\n\0\n' "$h" >"$t"
	start_refused 'line 2' --tokens "$t"
	# A bad tokens file is not saved by good keys.
	printf 'garbage\n' >"$t"
	start_refused 'line 1' --tokens "$t" --jwt-key "HS256:$K/hs.key"
}

@test "a bad --jwt-key at start: exit 78 with one line that names the file" {
	start_refused "$BATS_TEST_TMPDIR/none" --jwt-key "RS256:$BATS_TEST_TMPDIR/none"
	start_refused "$K/ec.pub" --jwt-key "RS256:$K/ec.pub"
	start_refused "$K/rsa.pub" --jwt-key "ES256:$K/rsa.pub"
	start_refused "$K/rsa1024.pub" --jwt-key "RS256:$K/rsa1024.pub"
	start_refused "$K/ec384.pub" --jwt-key "ES256:$K/ec384.pub"
	# A private key is no public key.
	start_refused "$K/rsa.pem" --jwt-key "RS256:$K/rsa.pem"
	start_refused "$K/hs-short.key" --jwt-key "HS256:$K/hs-short.key"
	start_refused "$K/hs.key" --jwt-key "XS256:$K/hs.key"
	start_refused "$K/hs.key" --jwt-key "none:$K/hs.key"
	start_refused "HS256" --jwt-key "HS256"
	# Not PEM, or a PEM header over garbage.
	start_refused "$K/hs.key" --jwt-key "RS256:$K/hs.key"
	{
		echo '-----BEGIN PUBLIC KEY-----'
		echo 'bm90IGEga2V5'
		echo '-----END PUBLIC KEY-----'
	} >"$BATS_TEST_TMPDIR/fake.pub"
	start_refused "$BATS_TEST_TMPDIR/fake.pub" --jwt-key "RS256:$BATS_TEST_TMPDIR/fake.pub"
	# Over 64 KiB.
	head -c 70000 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/big.key"
	start_refused "$BATS_TEST_TMPDIR/big.key" --jwt-key "HS256:$BATS_TEST_TMPDIR/big.key"
	# One bad key among good ones is enough.
	start_refused "$K/ec384.pub" --jwt-key "HS256:$K/hs.key" \
		--jwt-key "ES256:$K/ec384.pub" --jwt-key "RS256:$K/rsa.pub"
}
