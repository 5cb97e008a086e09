#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Completions and man pages against the binaries: every long option that a
# command's --help prints must be completed by completions/wq.bash,
# completions/_wq and completions/wq.fish, and documented with .Fl in the
# SYNOPSIS, DESCRIPTION or OPTIONS of its man page; and the bash completion
# must complete queue names from the spool.  wq-serve is checked against its
# --help once it is built, and its completions and man page against each
# other always.

bats_require_minimum_version 1.5.0
load bats-libs

CMDS="wq-create wq-send wq-recv wq-ack wq-stat wq-rm wq-redrive wq-fsck"
TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
COMP="$TOP/completions"

setup() {
	# The binaries of this tree, whether run by make check or by hand.
	if [ -d "$TOP/build" ]; then
		export PATH="$TOP/build:$PATH"
	fi
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	unset WQ_DIR XDG_DATA_HOME
	export LC_ALL=C
	exec </dev/null
}

# help_longopts CMD: the long options that `CMD --help` prints, one per
# line, sorted.  --help must succeed and list at least one option.
help_longopts() {
	local out
	out=$("$1" --help 2>&1) ||
		{ echo "$1 --help exited $?" >&2; return 1; }
	grep -oE -- '(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*' <<<"$out" |
		sed 's/^[^-]*//' | sort -u
}

# bash_longopts CMD: the long options the bash completion offers for
# `CMD --`.
bash_longopts() {
	bash -c '
		source "$1"
		COMP_WORDS=("$2" --)
		COMP_CWORD=1
		_wq_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$COMP/wq.bash" "$1" | sort -u
}

# fish_longopts CMD: the long options the fish completion offers for
# `CMD --`.
fish_longopts() {
	fish --no-config -c 'source $argv[1]; complete -C "$argv[2] --"' \
		"$COMP/wq.fish" "$1" | cut -f1 | grep -- '^--' | sort -u
}

# zsh_longopts CMD: the long options named in the zsh completion for CMD:
# its case branch plus the options common to all commands.
zsh_longopts() {
	{
		sed -n '/^  common=(/,/^  )/p' "$COMP/_wq"
		awk -v c="$1)" '$1 == c { p = 1 } p { print } p && /^ *;;/ { exit }' \
			"$COMP/_wq"
	} | grep -oE -- "(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*" |
		sed 's/^[^-]*//' | sort -u
}

# man_longopts CMD: the long options given with .Fl in the SYNOPSIS,
# DESCRIPTION and OPTIONS of CMD's man page.
man_longopts() {
	awk '/^\.Sh / { s = $2 }
	    s == "SYNOPSIS" || s == "DESCRIPTION" || s == "OPTIONS"' \
		"$TOP/man/$1.1" |
		grep -oE -- 'Fl -[[:alnum:]][[:alnum:]-]*' |
		sed 's/^Fl /-/' | sort -u
}

# missing LIST1 LIST2: the lines of LIST1 that are not in LIST2.
missing() {
	comm -23 <(printf '%s\n' "$1" | sort -u) <(printf '%s\n' "$2" | sort -u)
}

# check_covers WHAT FUNCTION: fail, naming every gap, unless FUNCTION CMD
# lists every long option of `CMD --help`, for each command.
check_covers() {
	local what=$1 fn=$2 cmd want have gap report=
	for cmd in $CMDS; do
		want=$(help_longopts "$cmd") || fail "$cmd --help failed"
		[ -n "$want" ] || fail "$cmd --help lists no long option"
		have=$("$fn" "$cmd")
		gap=$(missing "$want" "$have")
		if [ -n "$gap" ]; then
			report+="$cmd: not in $what:"$'\n'"$gap"$'\n'
		fi
	done
	[ -z "$report" ] || fail "$report"
}

@test "every command prints its long options with --help" {
	local cmd
	for cmd in $CMDS; do
		run -0 "$cmd" --help
		assert_output --partial -- "--dir"
	done
}

@test "the bash completion offers every long option of --help" {
	check_covers completions/wq.bash bash_longopts
}

@test "the zsh completion names every long option of --help" {
	check_covers completions/_wq zsh_longopts
}

@test "the fish completion offers every long option of --help" {
	check_covers completions/wq.fish fish_longopts
}

@test "each man page documents every long option of --help" {
	check_covers "its man page (.Fl in SYNOPSIS or DESCRIPTION)" man_longopts
}

# check_no_extra: fail, naming every one, unless the man page and the
# completions of each command offer only long options of `CMD --help`.
check_no_extra() {
	local cmd fn want gap report=
	for cmd in $CMDS; do
		want=$(help_longopts "$cmd") || fail "$cmd --help failed"
		for fn in man_longopts bash_longopts zsh_longopts fish_longopts; do
			gap=$(missing "$("$fn" "$cmd")" "$want")
			if [ -n "$gap" ]; then
				report+="$cmd: ${fn%_longopts} has options --help lacks:"$'\n'"$gap"$'\n'
			fi
		done
	done
	[ -z "$report" ] || fail "$report"
}

@test "man pages and completions offer no long option that --help lacks" {
	check_no_extra
}

# The long options of wq-serve in its design (serve-design.md), with the
# long forms of -d, -h, -V, -l, -t and -v.
SERVE_LONGOPTS="--dir --help --version --listen --threads --verbose
--tokens --jwt-key --jwt-issuer --jwt-audience --jwt-leeway --tls-cert
--tls-key --max-body --max-header --max-connections --timeout --max-wait
--heartbeat --shutdown-timeout --port-file --hash-token"

@test "wq-serve: its man page and completions offer the same long options" {
	local want fn have report=
	want=$(printf '%s\n' $SERVE_LONGOPTS | sort -u)
	for fn in man_longopts bash_longopts zsh_longopts fish_longopts; do
		have=$("$fn" wq-serve)
		if [ "$have" != "$want" ]; then
			report+="${fn%_longopts}: missing:"$'\n'"$(missing "$want" "$have")"
			report+=$'\n'"extra:"$'\n'"$(missing "$have" "$want")"$'\n'
		fi
	done
	[ -z "$report" ] || fail "$report"
}

@test "wq-serve: --help, its man page and completions list the same long options" {
	command -v wq-serve >/dev/null || skip "wq-serve is not built"
	run -0 wq-serve --help
	assert_output --partial -- "--dir"
	local CMDS=wq-serve
	check_covers completions/wq.bash bash_longopts
	check_covers completions/_wq zsh_longopts
	check_covers completions/wq.fish fish_longopts
	check_covers "its man page (.Fl in SYNOPSIS, DESCRIPTION or OPTIONS)" \
		man_longopts
	check_no_extra
}

# spool DIR: a fake spool with the queues alpha and beta (each holding a
# policy file) and a directory that is not a queue.
spool() {
	mkdir -p "$1/alpha/cur" "$1/beta" "$1/notaqueue"
	: >"$1/alpha/policy"
	: >"$1/beta/policy"
	: >"$1/alpha/cur/80.0006612cf55b3ca2.1f.0.9a8b7c6d.h,1,1795000000000,0123456789abcdef"
	: >"$1/alpha/cur/80.0006612cf55b3ca3.1f.1.9a8b7c6e.h,0,1795000000000,delayed"
}

# bash_complete WORD...: the bash completions for the words, the last being
# the word under the cursor, one per line, sorted.
bash_complete() {
	bash -c '
		source "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_wq_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$COMP/wq.bash" "$@" | sort
}

@test "bash completes queue names of the spool given with -d" {
	local s="$BATS_TEST_TMPDIR/spool"
	spool "$s"
	run -0 bash_complete wq-send -d "$s" ''
	assert_output $'alpha\nbeta'
	run -0 bash_complete wq-send --dir "$s" a
	assert_output alpha
	run -0 bash_complete wq-stat -d "$s" alpha ''
	assert_output $'alpha\nbeta'
}

@test "bash completes queue names of \$WQ_DIR, else of the XDG data directory" {
	spool "$BATS_TEST_TMPDIR/w"
	WQ_DIR="$BATS_TEST_TMPDIR/w" run -0 bash_complete wq-recv ''
	assert_output $'alpha\nbeta'
	spool "$BATS_TEST_TMPDIR/xdg/wq"
	XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" run -0 bash_complete wq-stat ''
	assert_output $'alpha\nbeta'
	spool "$HOME/.local/share/wq"
	run -0 bash_complete wq-create b
	assert_output beta
}

@test "bash completes option arguments and receipts" {
	local s="$BATS_TEST_TMPDIR/spool"
	spool "$s"
	run -0 bash_complete wq-create --sync ''
	assert_output $'always\nbatch\nnone'
	run -0 bash_complete wq-ack -d "$s" alpha ''
	assert_output $'-\n80.0006612cf55b3ca2.1f.0.9a8b7c6d.h,1,1795000000000,0123456789abcdef'
	run -0 bash_complete wq-recv -d "$s" alpha -- ech
	assert_line echo
}

# files DIR: a directory with two key files, a tokens file and a
# subdirectory.
files() {
	mkdir -p "$1/keys"
	: >"$1/keys/a.pem"
	: >"$1/keys/b.pem"
	: >"$1/tokens"
}

@test "bash completes the arguments of wq-serve's options" {
	local f="$BATS_TEST_TMPDIR/f"
	files "$f"
	run -0 bash_complete wq-serve --jwt-key ''
	assert_output $'ES256:\nHS256:\nRS256:'
	run -0 bash_complete wq-serve -v --jwt-key R
	assert_output RS256:
	# bash splits "RS256:FILE" at ":"; only FILE is replaced.
	run -0 bash_complete wq-serve --jwt-key RS256 : "$f/keys/"
	assert_output "$f/keys/a.pem"$'\n'"$f/keys/b.pem"
	run -0 bash_complete wq-serve --jwt-key = ES256 : "$f/keys/b"
	assert_output "$f/keys/b.pem"
	for o in --tokens --tls-cert --tls-key --port-file; do
		run -0 bash_complete wq-serve "$o" "$f/t"
		assert_output "$f/tokens"
	done
	run -0 bash_complete wq-serve -d "$f/"
	assert_output "$f/keys"
	run -0 bash_complete wq-serve -l ''
	assert_output ''
	run -0 bash_complete wq-serve --max-w
	assert_output --max-wait
}

@test "fish completes the algorithm and the file of wq-serve --jwt-key" {
	local f="$BATS_TEST_TMPDIR/f"
	files "$f"
	run -0 fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		"$COMP/wq.fish" "wq-serve --jwt-key "
	assert_line --partial HS256:
	assert_line --partial RS256:
	assert_line --partial ES256:
	run -0 fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		"$COMP/wq.fish" "wq-serve --jwt-key ES256:$f/keys/a"
	assert_output "ES256:$f/keys/a.pem"
	run -0 fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		"$COMP/wq.fish" "wq-serve --tokens $f/to"
	assert_output "$f/tokens"
}
