#!/usr/bin/env bash
# run.sh AFD -- integration tests of the afd command (src/main.c) as a user runs it.
# Each case runs the real binary under `timeout`, in a scratch directory or a fixture
# directory (tests/cli/fix, tests/cli/inc), and checks its stdout, stderr and exit status.
# Prints "ok - NAME" or "not ok - NAME" (with "#" lines saying why) per case, "SKIP - NAME"
# for a case that cannot run here (counted as neither), then "N passed, N failed".
# Exits 1 on any failure.

set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 AFD" >&2
    exit 2
fi
AFD=$1
case "$AFD" in
    /*) ;;
    */*) AFD="$(cd "$(dirname "$AFD")" && pwd)/$(basename "$AFD")" ;;
    *) AFD=$(command -v "$AFD") ;;
esac
if [ ! -x "$AFD" ]; then
    echo "run.sh: no such program: $1" >&2
    exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/fix
INC=$HERE/inc
TMP=$(mktemp -d /tmp/afd-cli-test.XXXXXX)
SOCK=afd-cli-test-$$
TIMEOUT=10

cleanup() {
    tmux -L "$SOCK" kill-server >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
CASE=
PROBS=()

begin() { CASE=$1; PROBS=(); }
problem() { PROBS+=("$1"); }
end() {
    if [ ${#PROBS[@]} -eq 0 ]; then
        echo "ok - $CASE"
        passed=$((passed + 1))
    else
        echo "not ok - $CASE"
        local p
        for p in "${PROBS[@]}"; do
            printf '#   %s\n' "$p"
        done
        failed=$((failed + 1))
    fi
}
skip() { echo "SKIP - $1 ($2)"; }

# show VALUE: VALUE quoted so that blanks and newlines are visible
show() { printf '%q' "$1"; }

# run [-d DIR] [-i STDIN] [-t SECS] -- COMMAND...: run COMMAND; sets OUT, ERR (exact
# contents, trailing newlines kept), RC and SECS (elapsed whole seconds).
run() {
    local dir=$TMP in=/dev/null t=$TIMEOUT
    while [ $# -gt 0 ]; do
        case "$1" in
            -d) dir=$2; shift 2 ;;
            -i) in=$2; shift 2 ;;
            -t) t=$2; shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    local start=$SECONDS
    (cd "$dir" && timeout "$t" "$@" <"$in" >"$TMP/stdout" 2>"$TMP/stderr")
    RC=$?
    SECS=$((SECONDS - start))
    OUT=$(cat "$TMP/stdout"; printf x)
    OUT=${OUT%x}
    ERR=$(cat "$TMP/stderr"; printf x)
    ERR=${ERR%x}
    if [ "$RC" -eq 124 ]; then
        problem "timed out after $t s: $*"
    fi
}

# run_stdin TEXT [run options] -- COMMAND...: run with TEXT on a pipe-like stdin (a file)
run_stdin() {
    local text=$1
    shift
    printf '%s' "$text" >"$TMP/stdin"
    run -i "$TMP/stdin" "$@"
}

want_rc() { [ "$RC" -eq "$1" ] || problem "exit status $RC, want $1"; }
want_rc_nonzero() { [ "$RC" -ne 0 ] || problem "exit status 0, want non-zero"; }
want_out() { [ "$OUT" = "$1" ] || problem "stdout $(show "$OUT"), want $(show "$1")"; }
want_err() { [ "$ERR" = "$1" ] || problem "stderr $(show "$ERR"), want $(show "$1")"; }
want_no_err() { [ -z "$ERR" ] || problem "stderr $(show "$ERR"), want nothing"; }
# want_out_has TEXT / want_err_has TEXT: contains the fixed string
want_out_has() { [[ "$OUT" == *"$1"* ]] || problem "stdout $(show "$OUT") lacks $(show "$1")"; }
want_err_has() { [[ "$ERR" == *"$1"* ]] || problem "stderr $(show "$ERR") lacks $(show "$1")"; }
want_out_lacks() { [[ "$OUT" != *"$1"* ]] || problem "stdout $(show "$OUT") has $(show "$1")"; }
want_one_err_line() {
    local n
    n=$(printf '%s' "$ERR" | wc -l)
    [ "$n" -eq 1 ] && [ "${ERR: -1}" = $'\n' ] ||
        problem "stderr is not exactly one line: $(show "$ERR")"
}
want_fast() { [ "$SECS" -le "$1" ] || problem "took $SECS s, want at most $1 s"; }

# ---- -e and files ----

begin "-e evaluates and BYE exits 0"
run -- "$AFD" -e '1 2 + . bye'
want_rc 0; want_out "3 "; want_no_err
end

begin "-e without BYE exits 0 when done"
run -- "$AFD" -e '1 2 + .'
want_rc 0; want_out "3 "; want_no_err
end

begin "--evaluate is -e"
run -- "$AFD" --evaluate '6 7 * .'
want_rc 0; want_out "42 "
end

begin "files and -e run in command-line order"
run -d "$FIX" -- "$AFD" one.fs -e '." [e1]"' two.fs -e '." [e2]"'
want_rc 0; want_out "[one][e1][two][e2]"; want_no_err
run -d "$FIX" -- "$AFD" -e '." [e1]"' two.fs -e '." [e2]"' one.fs
want_rc 0; want_out "[e1][two][e2][one]"
end

begin "definitions carry over between files and -e"
run -d "$FIX" -- "$AFD" -e ': twice 2 * ;' nobye.fs -e '21 twice . greet'
want_rc 0; want_out $'loaded\n42 loaded\n'
end

begin "a file without BYE exits 0 after including"
run -d "$FIX" -- "$AFD" nobye.fs
want_rc 0; want_out $'loaded\n'; want_no_err
end

begin "BYE in a file exits 0 at once"
run -d "$FIX" -- "$AFD" bye.fs -e '." [e]"'
want_rc 0; want_out "[before-bye]"; want_no_err
end

begin "an error in a file: exit 1, one line FILE:LINE:COL on stderr"
run -d "$FIX" -- "$AFD" err.fs
want_rc 1; want_out ""
want_err $'err.fs:3:5: error: frobnicate: undefined word\n'
want_one_err_line
end

begin "an error stops the rest of the command line"
run -d "$FIX" -- "$AFD" one.fs err.fs -e '." [not-run]"' two.fs
want_rc 1; want_out "[one]"
want_err $'err.fs:3:5: error: frobnicate: undefined word\n'
end

begin "the error position uses the path as given"
run -d "$HERE" -- "$AFD" fix/err.fs
want_rc 1; want_err $'fix/err.fs:3:5: error: frobnicate: undefined word\n'
run -- "$AFD" "$FIX/err.fs"
want_err "$FIX/err.fs:3:5: error: frobnicate: undefined word"$'\n'
end

begin "an error in an INCLUDEd file names that file and its line"
run -d "$FIX" -- "$AFD" inc-err.fs
want_rc 1; want_out "before"
want_err $'lib/bad.fs:2:7: error: /: division by zero\n'
want_one_err_line
run -d "$HERE" -- "$AFD" fix/inc-err.fs
want_rc 1; want_err $'fix/lib/bad.fs:2:7: error: /: division by zero\n'
end

begin "an error in -e code"
run -- "$AFD" -e '1 2 nosuch'
want_rc 1; want_out ""
want_err $'-e:1:5: error: nosuch: undefined word\n'
run -- "$AFD" -e '."  x"' -e ': f 1 0 / ; f'
want_rc 1; want_out " x"
want_err $'-e:1:13: error: f: division by zero\n'
end

begin "ABORT\" reports its message"
run -- "$AFD" -e ': check abort" disk on fire" ; 1 check'
want_rc 1; want_err $'-e:1:34: error: check: disk on fire\n'
end

begin "a missing file: exit 1, one line that names the file"
run -- "$AFD" /nonexistent/dir/missing.fs
want_rc 1; want_one_err_line; want_err_has "/nonexistent/dir/missing.fs"
end

# ---- options ----

begin "--help"
run -- "$AFD" --help
want_rc 0; want_out_has "usage: afd"; want_out_has "--max-steps"; want_out_has "-e"
want_no_err
run -- "$AFD" -h
want_rc 0; want_out_has "usage: afd"
end

begin "--version"
run -- "$AFD" --version
want_rc 0; want_no_err
[[ "$OUT" =~ ^afd\ [0-9]+\.[0-9]+\.[0-9]+.*$'\n'$ ]] || problem "stdout $(show "$OUT") is not 'afd X.Y.Z'"
run -- "$AFD" -V
want_rc 0; want_out_has "afd "
end

begin "an unknown option exits 2"
run -- "$AFD" --frobnicate
want_rc 2; want_err_has "--frobnicate"; want_out_lacks "usage"
run -- "$AFD" -e
want_rc 2
run -- "$AFD" --max-steps lots -e bye
want_rc 2; want_err_has "lots"
run -- "$AFD" --data-size -5 -e bye
want_rc 2
end

# ---- standard input ----

begin "piped stdin is read and evaluated"
run_stdin $'2 3 * .\n' -- "$AFD"
want_rc 0; want_out "6 "; want_no_err
run_stdin $': sq\n  dup * ;\n5 sq .\n7 sq .' -- "$AFD"
want_rc 0; want_out "25 49 "
end

begin "an error in piped input is reported, later lines still run, exit 1"
run_stdin $'1 .\nfoo\n2 .\n: half 1 nope\n3 .\n' -- "$AFD"
want_rc 1; want_out "1 2 3 "
[ "$(printf '%s' "$ERR" | wc -l)" -eq 2 ] || problem "want 2 error lines: $(show "$ERR")"
want_err_has "foo: undefined word"; want_err_has "nope: undefined word"
end

begin "an error in piped input gives its line and column"
run_stdin $'1 .\n\n  2 foo\n' -- "$AFD"
want_rc 1; want_out "1 "
want_err $'<stdin>:3:5: error: foo: undefined word\n'
end

begin "-i reads stdin after the command line"
run_stdin $'1 .\n' -- "$AFD" -e '2 .' -i
want_rc 0; want_out "2 1 "
end

# ---- step budget ----

begin "--max-steps stops a runaway loop promptly"
run -- "$AFD" --max-steps 100000 -e ': f begin again ; f'
want_rc 1; want_fast 3
want_err $'-e:1:19: error: f: step budget exhausted\n'
end

begin "--max-steps with interpreted 'begin again'"
run -- "$AFD" --max-steps 100000 -e 'begin again'
want_rc_nonzero; want_fast 3; want_one_err_line
end

begin "--max-steps stops a loop of the outer interpreter"
run -t 3 -- "$AFD" --max-steps 100000 -e '0 >in !'
want_rc 1; want_err_has "step budget exhausted"
end

begin "--max-steps applies to each line of piped input"
run_stdin $': l 50 0 do loop ;\nl l\nl l\nl l l l l l l l l l l\n4 .\n' -- "$AFD" --max-steps 300
want_rc 1; want_out "4 "; want_err_has "step budget exhausted"
want_one_err_line
end

# ---- data space size ----

begin "start-up with a 1 MiB and a 64 KiB data space"
run -- "$AFD" -e bye
want_rc 0; want_out ""; want_no_err
run -- "$AFD" --data-size 1048576 -e 'unused 500000 > unused 1048576 < and . bye'
want_rc 0; want_out "-1 "
run -- "$AFD" --data-size 65536 -e 'unused 0> unused 65536 < and . bye'
want_rc 0; want_out "-1 "; want_no_err
run -- "$AFD" --data-size 65536 -e '100000 allot'
want_rc 1; want_err_has "dictionary overflow"
run -- "$AFD" --data-size 1000 -e bye
want_rc 1; want_err_has "afd:"
end

# ---- relative INCLUDE ----

begin "INCLUDE is relative to the including file, from any directory"
want_inc_out="b a main 7 "
run -d "$TMP" -- "$AFD" "$INC/main.fs"
want_rc 0; want_out "$want_inc_out"; want_no_err
run -d "$HERE" -- "$AFD" inc/main.fs
want_rc 0; want_out "$want_inc_out"; want_no_err
run -d "$INC/sub" -- "$AFD" ../main.fs
want_rc 0; want_out "$want_inc_out"; want_no_err
run -d "$INC" -- "$AFD" main.fs
want_rc 0; want_out "$want_inc_out"; want_no_err
run -d "$INC" -- "$AFD" -e 'include sub/a.fs from-b .'
want_rc 0; want_out "b a 7 "; want_no_err
end

# ---- the REPL on a terminal ----

have_tmux() {
    command -v tmux >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        timeout 120 apt-get install -y -qq tmux >/dev/null 2>&1 ||
            { timeout 120 apt-get update -qq >/dev/null 2>&1 &&
              timeout 120 apt-get install -y -qq tmux >/dev/null 2>&1; }
    fi
    command -v tmux >/dev/null 2>&1
}

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
pane() { tm capture-pane -p -t afd 2>/dev/null; }
# wait_pane TEXT: until the pane shows TEXT (a fixed string), at most 5 s
wait_pane() {
    local i
    for i in $(seq 50); do
        pane | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    problem "the terminal never showed $(show "$1"); it shows: $(show "$(pane | sed '/^$/d')")"
    return 1
}
# send TEXT: type TEXT and Enter (tmux needs a trailing ';' escaped)
send() {
    local text=$1
    [[ "$text" == *';' ]] && text="${text%;}\\;"
    tm send-keys -t afd -l -- "$text" && tm send-keys -t afd Enter
}

if ! have_tmux; then
    skip "REPL on a terminal" "tmux is not available and could not be installed"
else
    begin "REPL on a terminal: ok, compiled, errors, bye"
    if tm new-session -d -s afd -x 120 -y 40 -c "$TMP" "$AFD"; then
        sleep 0.2
        send '1 2 + .' && wait_pane '3  ok'
        send ': x' && wait_pane 'compiled'
        send '6 * ;' && wait_pane '6 * ;'
        send '7 x .' && wait_pane '42  ok'
        send 'foo' && wait_pane 'foo: undefined word'
        send '5 5 + .' && wait_pane '10  ok'
        send 'bye'
        ended=0
        for i in $(seq 50); do
            tm has-session -t afd 2>/dev/null || { ended=1; break; }
            sleep 0.1
        done
        [ $ended -eq 1 ] || problem "the session did not end after bye"
    else
        problem "tmux could not start a session"
    fi
    tm kill-server >/dev/null 2>&1
    end

    begin "REPL on a terminal: end of input (Ctrl-D) exits"
    if tm new-session -d -s afd -x 120 -y 40 -c "$TMP" "$AFD"; then
        sleep 0.2
        send '1 .' && wait_pane '1  ok'
        tm send-keys -t afd C-d
        ended=0
        for i in $(seq 50); do
            tm has-session -t afd 2>/dev/null || { ended=1; break; }
            sleep 0.1
        done
        [ $ended -eq 1 ] || problem "the session did not end after Ctrl-D"
    else
        problem "tmux could not start a session"
    fi
    tm kill-server >/dev/null 2>&1
    end
fi

# ---- afd --check FILE: a configuration loaded, not served (like nginx -t) ----
begin "--check: a good configuration exits 0 and binds nothing"
printf '%s\n' '"b" 127.0.0.1 18971 http-static-server' \
    ': p pool-create "p" 127.0.0.1 18971 1 add-backend ;' \
    'p 127.0.0.1 18970 listen handle-requests' > "$TMP/good.fs"
run -- "$AFD" --check "$TMP/good.fs"
want_rc 0
[[ "$ERR" == *"configuration ok"* ]] || problem "stderr $(show "$ERR") lacks 'configuration ok'"
if command -v ss >/dev/null && ss -ltn | grep -qE ':1897[01] '; then problem "a port is bound"; fi
end

begin "--check: a malformed address is reported at its line and column, exit 1"
printf '%s\n' 'pool-create "p"' '  300.1.1.1 80 1 add-backend' > "$TMP/bad.fs"
run -- "$AFD" --check "$TMP/bad.fs"
want_rc 1
[[ "$ERR" == *"bad.fs:2:3: error: 300.1.1.1: invalid IPv4 literal"* ]] || problem "stderr $(show "$ERR")"
end

begin "--check: a configuration with nothing to listen on fails"
printf '%s\n' 'pool-create "p" 127.0.0.1 18972 1 add-backend' > "$TMP/nolisten.fs"
run -- "$AFD" --check "$TMP/nolisten.fs"
want_rc 1
[[ "$ERR" == *"nothing to listen on"* ]] || problem "stderr $(show "$ERR")"
end

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
