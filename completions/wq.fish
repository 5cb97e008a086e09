# SPDX-License-Identifier: MIT
# fish completion for the wq commands: wq-create, wq-send, wq-recv, wq-ack,
# wq-stat, wq-rm, wq-redrive, wq-fsck and wq-serve.  Queue names come from listing
# the spool: -d DIR or --dir DIR on the command line, else $WQ_DIR, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/wq.
# A queue is a directory of the spool that holds a file named "policy".

# Print the spool root.
function __wq_spool
    set -l tokens (commandline -opc)
    set -l dir
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l w $tokens[$i]
        switch $w
            case -- --
                break
            case -d --dir
                set i (math $i + 1)
                test $i -le $n; and set dir $tokens[$i]
            case '--dir=*'
                set dir (string replace -- --dir= '' $w)
            case '-d?*'
                set dir (string sub -s 3 -- $w)
        end
        set i (math $i + 1)
    end
    if test -n "$dir"
        string replace -r -- '^~' $HOME $dir
    else if set -q WQ_DIR[1]; and test -n "$WQ_DIR"
        echo $WQ_DIR
    else if set -q XDG_DATA_HOME[1]; and test -n "$XDG_DATA_HOME"
        echo $XDG_DATA_HOME/wq
    else
        echo $HOME/.local/share/wq
    end
end

# Print the queues of the spool.
function __wq_queues
    set -l root (__wq_spool)
    for p in $root/*/policy
        test -f $p; and string replace -r -- '.*/([^/]+)/policy$' '$1' $p
    end
end

# Print the queues of the spool, each after the comma-separated queues
# already typed in the current token: the subscribers of --fanout.
function __wq_queue_list
    set -l cur (commandline -ct)
    set -l pre (string replace -r -- '^--fanout=' '' $cur)
    set pre (string replace -r -- '[^,]*$' '' $pre)
    for q in (__wq_queues)
        echo $pre$q
    end
end

# Print the operands before the cursor, skipping options and their
# arguments; "--" after the queue of wq-recv is printed too.
function __wq_operands
    set -l tokens (commandline -opc)
    set -l cmd (string replace -r -- '.*/' '' $tokens[1])
    set -e tokens[1]
    set -l argopts -d --dir --visibility --sync --delay --extend
    switch $cmd
        case wq-create
            set -a argopts --retention --max-receives --dead-letter --max-size --max-depth --dedup-window --compress --fanout --clock-skew --mode --group
        case wq-send
            set -a argopts -f --file -p --priority --at -a --attr --group --dedup
        case wq-redrive
            set -a argopts -n --count --to
        case wq-recv
            set -a argopts -n --count -w --wait -v --visibility -j --jobs --retry-delay
        case wq-stat
            set -a argopts -i --interval -o --output --warn --crit
        case wq-serve
            set -a argopts -l --listen -t --threads --tokens --jwt-key --jwt-issuer --jwt-audience --jwt-leeway --tls-cert --tls-key --max-body --max-header --max-connections --timeout --max-wait --heartbeat --shutdown-timeout --port-file
    end
    set -l skip 0
    set -l seen 0
    for w in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        if test $seen -gt 0; and test "$w" = --
            printf "%s\n" --
            continue
        end
        if contains -- $w $argopts
            set skip 1
        else if string match -q -- '-?*' $w
            continue
        else
            set seen (math $seen + 1)
            echo $w
        end
    end
end

# Print the candidates for the ALG:FILE of --jwt-key: the algorithms, then
# the files after the algorithm typed.
function __wq_jwt_key
    set -l cur (string replace -r -- '^--jwt-key=' '' (commandline -ct))
    if string match -q -- '*:*' $cur
        set -l alg (string replace -r -- ':.*' '' $cur)
        for f in (__fish_complete_path (string replace -r -- '^[^:]*:' '' $cur))
            echo $alg:$f
        end
    else
        printf '%s\n' HS256: RS256: ES256:
    end
end

function __wq_no_operand
    test (count (__wq_operands)) -eq 0
end

# True after "wq-recv QUEUE --": the word is the command to run.
function __wq_command_word
    set -l ops (__wq_operands)
    test (count $ops) -eq 2; and test "$ops[2]" = --
end

# True after "wq-recv QUEUE -- COMMAND": the words are its arguments.
function __wq_in_command
    set -l ops (__wq_operands)
    test (count $ops) -ge 2; and test "$ops[2]" = --
end

# Print the receipts of the leases held in the queue named by the first
# operand, and "-" (read receipts from standard input).
function __wq_receipts
    set -l ops (__wq_operands)
    set -l q $ops[1]
    string match -q -- '*/*' $q; or set q (__wq_spool)/$q
    for p in $q/cur/*
        string match -q -- '*,delayed' $p; and continue
        test -f $p; and string replace -r -- '.*/' '' $p
    end
    echo -
end

for c in wq-create wq-send wq-recv wq-ack wq-stat wq-rm wq-redrive wq-fsck wq-serve
    complete -c $c -f
    complete -c $c -n 'not __wq_in_command' -s d -l dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Use DIR as the spool root'
    complete -c $c -n 'not __wq_in_command' -s h -l help -d 'Print a usage message and exit'
    complete -c $c -n 'not __wq_in_command' -s V -l version -d 'Print the version and exit'
end

# wq-create [-pu] [-d DIR] [policy options] QUEUE...
complete -c wq-create -s p -l parents -d 'No error if the queue exists'
complete -c wq-create -s u -l update -d 'Change the policy of an existing queue'
complete -c wq-create -l visibility -x -d 'Default lease in seconds'
complete -c wq-create -l delay -x -d 'Default delivery delay in seconds'
complete -c wq-create -l retention -x -d 'Drop or dead-letter messages older than SECS'
complete -c wq-create -l max-receives -x -d 'Dead-letter after N receives'
complete -c wq-create -l dead-letter -x -a '(__wq_queues)' -d 'Where dead letters go'
complete -c wq-create -l max-size -x -d 'Largest message body in bytes'
complete -c wq-create -l max-depth -x -d 'Refuse sends beyond N messages'
complete -c wq-create -l fifo -d 'Strict order within message groups'
complete -c wq-create -l dedup-window -x -d 'How long deduplication ids count'
complete -c wq-create -l content-dedup -d 'Deduplicate by body when no id is given'
complete -c wq-create -l compress -x -a 'never auto always' -d 'Zstd compression of bodies'
complete -c wq-create -l sync -x -a 'always batch none' -d 'Durability of sent messages'
complete -c wq-create -l fanout -x -a '(__wq_queue_list)' -d 'Make a topic that delivers to each listed queue'
complete -c wq-create -l clock-skew -x -d 'Tolerated clock skew between hosts'
complete -c wq-create -l mode -x -d 'Directory mode, such as 2770, to share the queue'
complete -c wq-create -l group -x -a '(__fish_complete_groups)' -d 'Owning group, to share the queue'
complete -c wq-create -a '(__wq_queues)' -d Queue

# wq-send [-0lq] [-d DIR] [-f FILE]... QUEUE [BODY...]
complete -c wq-send -s 0 -l null -d 'One message per NUL-terminated record of stdin'
complete -c wq-send -s l -l lines -d 'One message per line of stdin'
complete -c wq-send -s f -l file -r -F -d 'Send the contents of FILE as one message'
complete -c wq-send -s q -l quiet -d 'Do not print message ids'
complete -c wq-send -s p -l priority -x -d 'Priority, -100 (least urgent) to 100 (most)'
complete -c wq-send -l delay -x -d 'Ready only after SECS'
complete -c wq-send -l at -x -d 'Ready only at TIME (@EPOCH or ISO 8601)'
complete -c wq-send -s a -l attr -x -d 'An attribute KEY=VALUE of the messages'
complete -c wq-send -l group -x -d 'Message group of a FIFO queue'
complete -c wq-send -l dedup -x -d 'Deduplication id: a repeat is not sent again'
complete -c wq-send -n __wq_no_operand -a '(__wq_queues)' -d Queue

# wq-recv [-0flL] [-d DIR] [-n N] [-w SECS] [-v SECS] [-j N] [--json] [--peek]
#         [--retry-delay SECS] QUEUE [-- COMMAND [ARG...]]
set -l recv 'not __wq_in_command'
complete -c wq-recv -n $recv -s 0 -l null -d 'Write a NUL after each body'
complete -c wq-recv -n $recv -s f -l follow -d 'Keep receiving forever'
complete -c wq-recv -n $recv -s l -l lines -d 'Write a newline after each body'
complete -c wq-recv -n $recv -s L -l lease -d 'Leave the messages leased; print receipts'
complete -c wq-recv -n $recv -s n -l count -x -d 'Receive up to N messages'
complete -c wq-recv -n $recv -s w -l wait -x -d 'Wait up to SECS for a message'
complete -c wq-recv -n $recv -s v -l visibility -x -d 'Lease for SECS'
complete -c wq-recv -n $recv -s j -l jobs -x -d 'Run up to N commands at once'
complete -c wq-recv -n $recv -l json -d 'Write one JSON object per message'
complete -c wq-recv -n $recv -l peek -d 'Show messages without claiming them'
complete -c wq-recv -n $recv -l retry-delay -x -d 'Delay before a failed message is ready again'
complete -c wq-recv -n __wq_no_operand -a '(__wq_queues)' -d Queue
complete -c wq-recv -n 'test (count (__wq_operands)) -eq 1' -a -- -d 'Run a command for each message'
complete -c wq-recv -n __wq_command_word -a '(__fish_complete_command)' -d Command
complete -c wq-recv -n '__wq_in_command; and not __wq_command_word' -F

# wq-ack [-d DIR] [--release [--delay SECS] | --extend SECS] QUEUE RECEIPT...
complete -c wq-ack -l release -d 'Return the messages to the queue'
complete -c wq-ack -l delay -x -d 'With --release, ready again after SECS'
complete -c wq-ack -l extend -x -d 'Extend the leases to SECS from now'
complete -c wq-ack -l dead -d 'Move them to the dead-letter queue now'
complete -c wq-ack -n __wq_no_operand -a '(__wq_queues)' -d Queue
complete -c wq-ack -n 'not __wq_no_operand' -a '(__wq_receipts)' -d Receipt

# wq-stat [-d DIR] [--json | --prom] [-i SECS] [-o FILE] [QUEUE...]
# wq-stat [-d DIR] [--warn EXPR] [--crit EXPR] [QUEUE...]
complete -c wq-stat -l json -d 'Print JSON instead of a table'
complete -c wq-stat -l prom -d 'Print Prometheus text format instead of a table'
complete -c wq-stat -s i -l interval -x -d 'Repeat every SECS seconds'
complete -c wq-stat -s o -l output -r -F -d 'Replace FILE atomically instead of stdout'
complete -c wq-stat -l warn -x -d 'WARNING when EXPR holds, such as ready>1000'
complete -c wq-stat -l crit -x -d 'CRITICAL when EXPR holds, such as age>=600'
complete -c wq-stat -a '(__wq_queues)' -d Queue

# wq-rm [-fPv] [-d DIR] QUEUE...
complete -c wq-rm -s f -l force -d 'No error if a queue does not exist'
complete -c wq-rm -s P -l purge -d 'Delete the messages, keep the queues'
complete -c wq-rm -s v -l verbose -d 'Print what was removed'
complete -c wq-rm -a '(__wq_queues)' -d Queue

# wq-redrive [-q] [-d DIR] [-n N] [--to QUEUE] DEAD-LETTER-QUEUE
complete -c wq-redrive -s n -l count -x -d 'Move at most N messages'
complete -c wq-redrive -s q -l quiet -d 'Do not print how many were moved'
complete -c wq-redrive -l to -x -a '(__wq_queues)' -d 'Move them to QUEUE, not where they came from'
complete -c wq-redrive -n __wq_no_operand -a '(__wq_queues)' -d 'Dead-letter queue'

# wq-fsck [-nq] [-d DIR] [QUEUE...]
complete -c wq-fsck -s n -l dry-run -d 'Report problems, change nothing'
complete -c wq-fsck -s q -l quiet -d 'Do not print the problems'
complete -c wq-fsck -a '(__wq_queues)' -d Queue

# wq-serve [-v] [-d DIR] [-l ADDR:PORT] [-t N] [--tokens FILE]
#          [--jwt-key ALG:FILE]... [server options]
# wq-serve --hash-token
complete -c wq-serve -s l -l listen -x -d 'Listen on ADDR:PORT, an IPv6 ADDR in brackets'
complete -c wq-serve -s t -l threads -x -d 'Number of worker threads'
complete -c wq-serve -s v -l verbose -d 'Log one line per request'
complete -c wq-serve -l tokens -r -F -d 'Accept the service tokens listed in FILE'
complete -c wq-serve -l jwt-key -x -a '(__wq_jwt_key)' -d 'Accept JWTs signed with ALG and the key in FILE'
complete -c wq-serve -l jwt-issuer -x -d 'Accept only JWTs with this iss claim'
complete -c wq-serve -l jwt-audience -x -d 'Accept only JWTs with this aud claim'
complete -c wq-serve -l jwt-leeway -x -d 'Clock skew allowed for exp and nbf'
complete -c wq-serve -l tls-cert -r -F -d 'Serve HTTPS with the PEM certificate in FILE'
complete -c wq-serve -l tls-key -r -F -d 'The PEM private key of --tls-cert'
complete -c wq-serve -l max-body -x -d 'Largest request body in bytes'
complete -c wq-serve -l max-header -x -d 'Memory for the request line and headers'
complete -c wq-serve -l max-connections -x -d 'Most connections at once'
complete -c wq-serve -l timeout -x -d 'Close connections idle this long'
complete -c wq-serve -l max-wait -x -d 'Longest long-poll in seconds'
complete -c wq-serve -l heartbeat -x -d 'Interval of event stream heartbeats'
complete -c wq-serve -l shutdown-timeout -x -d 'Longest wait for requests at shutdown'
complete -c wq-serve -l port-file -r -F -d 'Write the port to FILE once listening'
complete -c wq-serve -l hash-token -d 'Print the sha256 line of the token on stdin'
