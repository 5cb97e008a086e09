# SPDX-License-Identifier: MIT
# bash completion for the wq commands: wq-create, wq-send, wq-recv, wq-ack,
# wq-stat, wq-rm, wq-redrive, wq-fsck and wq-serve.  Queue names come from listing
# the spool: -d DIR or --dir DIR on the command line, else $WQ_DIR, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/wq.
# A queue is a directory of the spool that holds a file named "policy".

# _wq_scan SHORTARGS LONGARGS: walk the words before the cursor and set
# _wq_dir (the spool given with -d/--dir, or empty), _wq_npos (how many
# operands precede the cursor), _wq_queue (the first operand) and _wq_cmdpos
# (the index of the word after "--", or 0).  SHORTARGS lists the short
# options that take an argument, LONGARGS the long ones (space separated).
_wq_scan()
{
	local shortargs=$1 longargs=" $2 " i j w c rest
	_wq_dir='' _wq_npos=0 _wq_queue='' _wq_cmdpos=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((_wq_npos > 0)) && [[ $w == -- ]]; then
			_wq_cmdpos=$((i + 1))
			return
		fi
		case $w in
		--)
			;;
		--*=*)
			[[ ${w%%=*} == --dir ]] && _wq_dir=${w#*=}
			;;
		--?*)
			if [[ $longargs == *" $w "* ]]; then
				# bash splits "--dir=x" into "--dir" "=" "x".
				if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
					((i++))
				fi
				((i + 1 < COMP_CWORD)) || return
				((i++))
				[[ $w == --dir ]] && _wq_dir=${COMP_WORDS[i]}
			fi
			;;
		-?*)
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				[[ $shortargs == *"$c"* ]] || continue
				rest=${w:j+1}
				if [[ -z $rest ]]; then
					((i + 1 < COMP_CWORD)) || return
					((i++))
					rest=${COMP_WORDS[i]}
				fi
				[[ $c == d ]] && _wq_dir=$rest
				break
			done
			;;
		*)
			((_wq_npos++ == 0)) && _wq_queue=$w
			;;
		esac
	done
	# A leading ~ is not expanded in COMP_WORDS.
	_wq_dir=${_wq_dir/#\~/$HOME}
}

# _wq_spool: print the spool root.
_wq_spool()
{
	if [[ -n $_wq_dir ]]; then
		printf '%s\n' "$_wq_dir"
	elif [[ -n ${WQ_DIR-} ]]; then
		printf '%s\n' "$WQ_DIR"
	else
		printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/wq"
	fi
}

# _wq_queues: print the names of the queues of the spool, one per line.
_wq_queues()
{
	local root p
	root=$(_wq_spool)
	for p in "$root"/*/policy; do
		[[ -f $p ]] || continue
		p=${p%/policy}
		printf '%s\n' "${p##*/}"
	done
}

# _wq_receipts QUEUE: print the receipts of the leases held in QUEUE.
_wq_receipts()
{
	local q=$1 p
	[[ $q == */* ]] || q=$(_wq_spool)/$q
	for p in "$q"/cur/*; do
		[[ -f $p && $p != *,delayed ]] || continue
		printf '%s\n' "${p##*/}"
	done
}

_wq_reply_words()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# _wq_reply_queue_list CUR: complete the last queue of a comma-separated
# list, such as the subscribers of --fanout.
_wq_reply_queue_list()
{
	local cur=$1 pre=''
	[[ $cur == *,* ]] && pre=${cur%,*},
	compopt -o nospace 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -P "$pre" -W "$(_wq_queues)" -- "${cur##*,}")
}

# _wq_reply_jwt_key CUR: complete the ALG:FILE of --jwt-key: the
# algorithm, then the file after it.  CUR is the whole argument; see
# _wq_complete for when bash split it at ":".
_wq_reply_jwt_key()
{
	local cur=$1
	if [[ $cur == *:* ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "${cur#*:}")
		# Unless bash split the word at ":", the reply replaces it all.
		if [[ $COMP_WORDBREAKS != *:* ]]; then
			COMPREPLY=("${COMPREPLY[@]/#/${cur%%:*}:}")
		fi
	else
		compopt -o nospace 2>/dev/null
		_wq_reply_words 'HS256: RS256: ES256:' "$cur"
	fi
}

_wq_reply_queues()
{
	local cur=$1
	if [[ $cur == */* || $cur == [.~]* ]]; then
		# A path to a queue directory.
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -W "$(_wq_queues)" -- "$cur")
	fi
}

_wq_complete()
{
	local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]-}
	local common='-d --dir -h --help -V --version'
	local opts shortargs longargs
	COMPREPLY=()

	case $cmd in
	wq-create)
		opts="$common -p --parents -u --update --visibility --delay
		    --retention --max-receives --dead-letter --max-size
		    --max-depth --fifo --dedup-window --content-dedup
		    --compress --sync --fanout --clock-skew --mode --group"
		shortargs=d
		longargs='--dir --visibility --delay --retention --max-receives
		    --dead-letter --max-size --max-depth --dedup-window
		    --compress --sync --fanout --clock-skew --mode --group'
		;;
	wq-send)
		opts="$common -0 --null -l --lines -f --file -q --quiet
		    -p --priority --delay --at -a --attr --group --dedup"
		shortargs=dfpa
		longargs='--dir --file --priority --delay --at --attr --group
		    --dedup'
		;;
	wq-recv)
		opts="$common -0 --null -f --follow -l --lines -L --lease
		    -n --count -w --wait -v --visibility -j --jobs --json
		    --peek --retry-delay"
		shortargs=dnwvj
		longargs='--dir --count --wait --visibility --jobs --retry-delay'
		;;
	wq-ack)
		opts="$common --release --delay --extend --dead"
		shortargs=d longargs='--dir --delay --extend'
		;;
	wq-stat)
		opts="$common --json --prom -i --interval -o --output
		    --warn --crit"
		shortargs=dio
		longargs='--dir --interval --output --warn --crit'
		;;
	wq-rm)
		opts="$common -f --force -P --purge -v --verbose"
		shortargs=d longargs='--dir'
		;;
	wq-redrive)
		opts="$common -n --count -q --quiet --to"
		shortargs=dn longargs='--dir --count --to'
		;;
	wq-fsck)
		opts="$common -n --dry-run -q --quiet"
		shortargs=d longargs='--dir'
		;;
	wq-serve)
		opts="$common -l --listen -t --threads -v --verbose --tokens
		    --jwt-key --jwt-issuer --jwt-audience --jwt-leeway
		    --tls-cert --tls-key --max-body --max-header
		    --max-connections --timeout --max-wait --heartbeat
		    --shutdown-timeout --port-file --hash-token"
		shortargs=dlt
		longargs='--dir --listen --threads --tokens --jwt-key
		    --jwt-issuer --jwt-audience --jwt-leeway --tls-cert
		    --tls-key --max-body --max-header --max-connections
		    --timeout --max-wait --heartbeat --shutdown-timeout
		    --port-file'
		;;
	*)
		return 0
		;;
	esac

	# "--jwt-key ALG:FILE": bash splits it at ":" too, into "ALG" ":"
	# "FILE" (and "--jwt-key=ALG:FILE" into five words).  c is the index
	# of that ":", o that of the option.
	local c=$((COMP_CWORD - 1)) o
	if [[ $cmd == wq-serve ]]; then
		[[ $cur == : ]] && c=$COMP_CWORD
		o=$((c - 2))
		((o >= 2)) && [[ ${COMP_WORDS[o]} == = ]] && ((o--))
		if ((o >= 1)) && [[ ${COMP_WORDS[c]} == : &&
		    ${COMP_WORDS[o]} == --jwt-key ]]; then
			((c == COMP_CWORD)) && cur=
			_wq_reply_jwt_key "${COMP_WORDS[c - 1]}:$cur"
			return 0
		fi
	fi

	# "--opt=value": bash splits it at "=".
	if [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]} cur=
	fi

	# shellcheck disable=SC2086 # word splitting of $longargs is wanted
	_wq_scan "$shortargs" "$(printf '%s ' $longargs)"

	# The command run by "wq-recv QUEUE -- COMMAND [ARG...]".
	if ((_wq_cmdpos > 0)); then
		if ((COMP_CWORD == _wq_cmdpos)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			compopt -o default 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return 0
	fi

	# The argument of an option.
	case $prev in
	-d | --dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	--sync)
		[[ $cmd == wq-create ]] && _wq_reply_words 'always batch none' "$cur"
		return 0
		;;
	--compress)
		[[ $cmd == wq-create ]] && _wq_reply_words 'never auto always' "$cur"
		return 0
		;;
	--dead-letter | --to)
		_wq_reply_queues "$cur"
		return 0
		;;
	--fanout)
		if [[ $cur == */* ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		else
			_wq_reply_queue_list "$cur"
		fi
		return 0
		;;
	--group)
		[[ $cmd == wq-create ]] &&
		    mapfile -t COMPREPLY < <(compgen -g -- "$cur")
		return 0
		;;
	-f | --file)
		if [[ $cmd == wq-send ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
		fi
		;;
	-o | --output)
		if [[ $cmd == wq-stat ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
		fi
		;;
	--tokens | --tls-cert | --tls-key | --port-file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	--jwt-key)
		_wq_reply_jwt_key "$cur"
		return 0
		;;
	--visibility | --delay | --extend | --retry-delay | --count | \
	    --wait | --jobs | --interval | --warn | --crit | --retention | \
	    --max-receives | --max-size | --max-depth | --dedup-window | \
	    --clock-skew | --mode | --priority | --at | --attr | --dedup | \
	    --listen | --threads | --jwt-issuer | --jwt-audience | \
	    --jwt-leeway | --max-body | --max-header | --max-connections | \
	    --timeout | --max-wait | --heartbeat | --shutdown-timeout)
		return 0
		;;
	-n)
		[[ $cmd == wq-recv || $cmd == wq-redrive ]] && return 0
		;;
	-w | -v | -j)
		[[ $cmd == wq-recv ]] && return 0
		;;
	-p | -a)
		[[ $cmd == wq-send ]] && return 0
		;;
	-i)
		[[ $cmd == wq-stat ]] && return 0
		;;
	-l | -t)
		[[ $cmd == wq-serve ]] && return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		# shellcheck disable=SC2086 # word splitting of $opts is wanted
		_wq_reply_words "$(printf '%s\n' $opts)" "$cur"
		return 0
	fi

	case $cmd in
	wq-create | wq-stat | wq-rm | wq-fsck)
		_wq_reply_queues "$cur"
		;;
	wq-send | wq-recv | wq-redrive)
		((_wq_npos == 0)) && _wq_reply_queues "$cur"
		((_wq_npos > 0)) && [[ $cmd == wq-recv ]] &&
		    _wq_reply_words '--' "$cur"
		;;
	wq-ack)
		if ((_wq_npos == 0)); then
			_wq_reply_queues "$cur"
		else
			_wq_reply_words "- $(_wq_receipts "$_wq_queue")" "$cur"
		fi
		;;
	esac
	return 0
}

complete -F _wq_complete wq-create wq-send wq-recv wq-ack wq-stat wq-rm \
    wq-redrive wq-fsck wq-serve
