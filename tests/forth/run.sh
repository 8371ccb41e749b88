#!/usr/bin/env bash
# run.sh FORTH -- run the Forth-level test suite with the given Forth binary
# (./afd or gforth).  Each test file runs in its own process, with a time
# limit, as
#     FORTH tests/forth/tester.fs FILE -e "test-summary bye"
# and its "#passed N #failed M" line is collected.  A file that crashes, times
# out, exits non-zero or prints no summary counts as one failure.
# output.fs runs without the tester; its stdout is compared line by line with
# output.expected (one test per expected line).
# On gforth, files testing words gforth 0.7.3 lacks (core2012.fs) and the AFD
# dialect (afd.fs) are skipped.
# Prints one line per file, then "N passed, M failed"; exits 1 on any failure.
# Set VERBOSE=1 to see the full output of failing files.

set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 FORTH" >&2
    exit 2
fi
FORTH=$1
TIMEOUT=${TIMEOUT:-10}
VERBOSE=${VERBOSE:-0}
DIR=tests/forth

# A Forth given by a relative path (./afd) is made absolute before changing
# directory.
case "$FORTH" in
    /*) ;;
    */*) FORTH="$(cd "$(dirname "$FORTH")" && pwd)/$(basename "$FORTH")" ;;
esac

# Run from the repository root (the parent of tests/) so that the paths above
# are right whatever the caller's working directory.
cd "$(dirname "$0")/../.." || exit 2

case "$(basename "$FORTH")" in
    gforth*) is_gforth=1 ;;
    *)       is_gforth=0 ;;
esac

if ! command -v "$FORTH" >/dev/null 2>&1 && [ ! -x "$FORTH" ]; then
    echo "run.sh: no such Forth: $FORTH" >&2
    exit 2
fi

FILES="core.fs core2012.fs coreext.fs exception.fs string.fs tools.fs facility.fs file.fs afd.fs policy.fs"
GFORTH_SKIP="core2012.fs afd.fs policy.fs"

total_pass=0
total_fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in $FILES; do
    file=$DIR/$f
    if [ "$is_gforth" = 1 ] && [[ " $GFORTH_SKIP " == *" $f "* ]]; then
        echo "$file: skipped (not for gforth)"
        continue
    fi
    out=$tmp/out
    timeout "$TIMEOUT" "$FORTH" "$DIR/tester.fs" "$file" -e "test-summary bye" \
        </dev/null >"$out" 2>&1
    rc=$?
    summary=$(grep -oE '#passed [0-9]+ #failed [0-9]+$' "$out" | tail -n 1)
    if [ -n "$summary" ]; then
        p=$(echo "$summary" | awk '{print $2}')
        m=$(echo "$summary" | awk '{print $4}')
    else
        p=0
        m=0
    fi
    note=""
    if [ $rc -eq 124 ]; then
        note=" (timed out after ${TIMEOUT}s)"
        m=$((m + 1))
    elif [ $rc -ne 0 ]; then
        note=" (exit status $rc)"
        m=$((m + 1))
    elif [ -z "$summary" ]; then
        note=" (no summary line)"
        m=$((m + 1))
    fi
    echo "$file: $p passed, $m failed$note"
    if [ "$m" -gt 0 ]; then
        if [ "$VERBOSE" = 1 ] || [ -n "$note" ]; then
            # show the failures and the last lines (errors, crash messages)
            grep '^FAIL: ' "$out" | sed 's/^/    /'
            [ -n "$note" ] && tail -n 15 "$out" | sed 's/^/    | /'
        else
            grep '^FAIL: ' "$out" | sed 's/^/    /'
        fi
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + m))
done

# output.fs: compare printed output with output.expected, line by line.
file=$DIR/output.fs
expected=$DIR/output.expected
out=$tmp/output
timeout "$TIMEOUT" "$FORTH" "$file" -e "bye" </dev/null >"$out" 2>"$tmp/output.err"
rc=$?
n_expected=$(wc -l <"$expected")
p=0
m=0
i=0
while IFS= read -r want; do
    i=$((i + 1))
    got=$(sed -n "${i}p" "$out")
    if [ "$got" == "$want" ]; then
        p=$((p + 1))
    else
        m=$((m + 1))
    fi
done <"$expected"
n_got=$(wc -l <"$out")
note=""
if [ "$n_got" -gt "$n_expected" ]; then
    note=" (extra output)"
    m=$((m + 1))
fi
if [ $rc -ne 0 ]; then
    note="$note (exit status $rc)"
    m=$((m + 1))
fi
echo "$file: $p passed, $m failed$note"
if [ "$m" -gt 0 ]; then
    diff -u "$expected" "$out" | sed 's/^/    /' | head -n 60
    [ -s "$tmp/output.err" ] && tail -n 10 "$tmp/output.err" | sed 's/^/    | /'
fi
total_pass=$((total_pass + p))
total_fail=$((total_fail + m))

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
