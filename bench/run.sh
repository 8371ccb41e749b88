#!/usr/bin/env bash
# AFD benchmark harness.
#
#   bash bench/run.sh           full run: every peer 5 times per benchmark
#   bash bench/run.sh --quick   smoke check: every peer once, short start-up probe
#
# Peers: afd (./afd, or $AFD), gforth-fast (when installed) and the C versions
# in bench/c/ (built with gcc -O2 into build/bench/).  Each benchmark file
# defines `main ( -- )`, which prints one checksum line; every peer's output is
# checked against the expected line below.  Runs are interleaved
# (afd, gforth-fast, C, afd, gforth-fast, C, ...) so that noise hits all peers
# alike, and the table reports medians.  Then start-up time and resident
# memory of `afd -e bye`, beside gforth-fast's.
#
# A peer whose runs are slow is run fewer times (3 above 5 s, 1 above 15 s)
# and any run is killed after 30 s, so the script stays within a few minutes.
#
# Environment: AFD (default ./afd), GFORTH (default gforth-fast), CC (default
# gcc), BENCH_TIMEOUT (seconds per run, default 30).
#
# Exit status: 0 when every peer that ran printed the expected output,
# 1 when any output was wrong or a run failed or timed out.

set -u
export LC_ALL=C

cd "$(dirname "$0")/.." || exit 2

AFD=${AFD:-./afd}
GFORTH=${GFORTH:-gforth-fast}
CC=${CC:-gcc}
OUT=build/bench

RUNS=5              # timed runs per peer and benchmark
LONG=5              # a peer whose run takes longer than this (s) is run 3 times,
VERY_LONG=15        # longer than this, once (keeps the whole script bounded)
TIMEOUT=${BENCH_TIMEOUT:-30}   # seconds before a single run is killed
STARTUP_RUNS=50     # runs of `afd -e bye` for the start-up median
QUICK=0

for arg in "$@"; do
    case $arg in
        --quick) QUICK=1; RUNS=1; STARTUP_RUNS=10 ;;
        -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

BENCHES=(sieve bubble matmul fib)
declare -A EXPECT=(
    [sieve]="sieve: 1899 primes"
    [bubble]="bubble: sorted, checksum 792607159667"
    [matmul]="matmul: checksum -14512833"
    [fib]="fib: 5702887"
)
PEERS=(afd jit gforth c)
declare -A PEER_NAME=([afd]="afd" [jit]="afd-jit" [gforth]="gforth-fast" [c]="C -O2")

# ---------------------------------------------------------------- helpers

# Wall clock in microseconds; no fork when bash has EPOCHREALTIME.
now_us() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then
        local t=${EPOCHREALTIME//[.,]/}
        echo "$t"
    else
        echo $(( $(date +%s%N) / 1000 ))
    fi
}

# median of the numbers given as arguments (empty when none)
median() {
    (( $# )) || return 0
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Trailing blanks of each line dropped, empty lines dropped: `.` prints a
# trailing space in Forth, printf does not.
normalize() { sed -e 's/[[:space:]]*$//' -e '/^$/d' "$1"; }

ratio() {   # ratio A B -> "A/B" with 2 decimals, "-" when either is missing
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
    else echo "-"; fi
}

secs() {    # seconds with 3 decimals, or the given placeholder
    if [[ -n $1 ]]; then awk -v s="$1" 'BEGIN { printf "%.3f", s }'; else echo "$2"; fi
}

# Command line of a peer for a benchmark, as an array in CMD.
peer_cmd() {
    case $1 in
        afd)    CMD=("$AFD" "bench/$2.fs" -e "main bye") ;;
        jit)    CMD=(env AFD_JIT=always "$AFD" "bench/$2.fs" -e "main bye") ;;
        gforth) CMD=("$GFORTH" "bench/$2.fs" -e "main bye") ;;
        c)      CMD=("$OUT/$2") ;;
    esac
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/afd-bench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------- header

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n1)
echo "AFD benchmarks -- $(nproc) x ${cpu:-unknown CPU}, $(uname -sr), $(date '+%Y-%m-%d %H:%M')"

# Which peers can run.
declare -A AVAIL MISSING
if [[ -x $AFD && ! -d $AFD ]]; then AVAIL[afd]=1; else MISSING[afd]="not built"; fi
if [[ -n ${AVAIL[afd]:-} ]] && command -v qbe >/dev/null 2>&1; then AVAIL[jit]=1
else MISSING[jit]="no qbe"; fi
if command -v "$GFORTH" >/dev/null 2>&1; then AVAIL[gforth]=1; else MISSING[gforth]="not installed"; fi

if command -v "$CC" >/dev/null 2>&1 && mkdir -p "$OUT"; then
    AVAIL[c]=1
    for b in "${BENCHES[@]}"; do
        if ! "$CC" -O2 -o "$OUT/$b" "bench/c/$b.c" 2>"$TMP/cc.err"; then
            echo "!!! C build of bench/c/$b.c failed:"; sed 's/^/    /' "$TMP/cc.err"
            rm -f "$OUT/$b"
        fi
    done
else
    MISSING[c]="no compiler"
fi

gf_ver=$( [[ -n ${AVAIL[gforth]:-} ]] && "$GFORTH" --version 2>&1 | head -n1 )
cc_ver=$( [[ -n ${AVAIL[c]:-} ]] && "$CC" --version 2>/dev/null | head -n1 )
echo "peers: afd = $AFD${MISSING[afd]:+ (${MISSING[afd]})};" \
     "gforth-fast = ${gf_ver:-${MISSING[gforth]}}; C = ${cc_ver:-${MISSING[c]}} -O2"
if (( QUICK )); then echo "mode: --quick (1 run per peer)"
else echo "mode: $RUNS interleaved runs per peer, median wall-clock seconds"; fi
echo

# ---------------------------------------------------------------- benchmarks

FAILED=0
declare -A TIMES STATUS   # key "bench/peer": space-separated seconds; status text

for b in "${BENCHES[@]}"; do
    want=${EXPECT[$b]}
    declare -A left=()
    for p in "${PEERS[@]}"; do
        left[$p]=0
        if [[ -n ${AVAIL[$p]:-} ]]; then
            left[$p]=$RUNS
            [[ $p == c && ! -x $OUT/$b ]] && { left[$p]=0; STATUS[$b/$p]="build failed"; FAILED=1; }
        fi
        TIMES[$b/$p]=""
    done

    for (( r = 1; r <= RUNS; r++ )); do
        for p in "${PEERS[@]}"; do
            (( left[$p] > 0 )) || continue
            left[$p]=$(( left[$p] - 1 ))
            peer_cmd "$p" "$b"
            t0=$(now_us)
            timeout "$TIMEOUT" "${CMD[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
            rc=$?
            t1=$(now_us)
            s=$(awk -v d=$(( t1 - t0 )) 'BEGIN { printf "%.6f", d / 1e6 }')

            problem=""
            if (( rc == 124 )); then problem="TIMEOUT (> ${TIMEOUT}s)"
            elif (( rc != 0 )); then problem="EXIT $rc"
            elif [[ $(normalize "$TMP/out") != "$want" ]]; then problem="MISMATCH"
            fi
            if [[ -n $problem ]]; then
                FAILED=1
                STATUS[$b/$p]=$problem
                left[$p]=0          # no point timing a peer that gives wrong answers
                echo "!!! $b: ${PEER_NAME[$p]} $problem -- ${CMD[*]}"
                echo "    expected: $want"
                echo "    stdout:   $(head -c 300 "$TMP/out" | head -n 3 | sed '2,$s/^/              /')"
                [[ -s $TMP/err ]] && echo "    stderr:   $(head -c 300 "$TMP/err" | head -n 3 | sed '2,$s/^/              /')"
                continue
            fi
            TIMES[$b/$p]+=" $s"
            # A slow peer gets fewer runs so the whole script stays bounded.
            if (( ! QUICK )); then
                cap=$(awk -v s="$s" -v l="$LONG" -v v="$VERY_LONG" -v r="$r" \
                      'BEGIN { print (s > v) ? 0 : (s > l) ? (3 - r > 0 ? 3 - r : 0) : 999 }')
                (( left[$p] > cap )) && left[$p]=$cap
            fi
        done
    done
    unset left
done
(( FAILED )) && echo

# ---------------------------------------------------------------- table

W=13
W=11
printf "%-8s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s\n" \
    benchmark afd afd-jit gforth-fast "C -O2" afd/jit afd/gforth jit/gforth jit/C gforth/C
printf "%-8s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s\n" \
    -------- ----------- ----------- ----------- ----------- ----------- ----------- ----------- ----------- -----------
for b in "${BENCHES[@]}"; do
    declare -A med=() cell=()
    for p in "${PEERS[@]}"; do
        # shellcheck disable=SC2086
        med[$p]=$(median ${TIMES[$b/$p]})
        if [[ -n ${STATUS[$b/$p]:-} ]]; then
            cell[$p]="!${STATUS[$b/$p]%% *}!"
            med[$p]=""
        elif [[ -n ${MISSING[$p]:-} ]]; then
            cell[$p]=${MISSING[$p]}
        else
            cell[$p]=$(secs "${med[$p]}" "-")
        fi
    done
    printf "%-8s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s %${W}s\n" "$b" \
        "${cell[afd]}" "${cell[jit]}" "${cell[gforth]}" "${cell[c]}" \
        "$(ratio "${med[afd]}" "${med[jit]}")" \
        "$(ratio "${med[afd]}" "${med[gforth]}")" \
        "$(ratio "${med[jit]}" "${med[gforth]}")" \
        "$(ratio "${med[jit]}" "${med[c]}")" \
        "$(ratio "${med[gforth]}" "${med[c]}")"
    unset med cell
done
for b in "${BENCHES[@]}"; do
    for p in "${PEERS[@]}"; do
        # shellcheck disable=SC2086
        set -- ${TIMES[$b/$p]}
        if (( $# > 0 && $# < RUNS )); then
            echo "note: ${PEER_NAME[$p]} ran $b only $# time(s): its runs are slow (> ${LONG}s), so they were capped"
        fi
    done
done
echo "(seconds: median wall clock of the whole process, start-up included;"
echo " afd-jit = AFD_JIT=always, its compile time included (the latency below);"
echo " ratios > 1 mean the first is slower; !MISMATCH!/!TIMEOUT!/!EXIT! = wrong output or failed run)"
echo

# ---------------------------------------------------------------- JIT latency

if [[ -n ${AVAIL[jit]:-} ]]; then
    one=$("$AFD" -e ': w1 ( n -- n ) dup * 1+ ;' -e 'jit w1 jit-stats bye' 2>&1 | sed -n 's/.*last batch: //p')
    src=""
    for (( i = 0; i < 100; i++ )); do src+=": w$i ( n -- n ) dup $i + * 1+ ; "; done
    # the first call compiles what is pending: the prelude with `warm`, the 100 with w0
    hundred=$(AFD_JIT=always "$AFD" -e ': warm ; warm' -e "$src" -e '1 w0 drop jit-stats bye' 2>&1 |
              sed -n 's/.*last batch: //p')
    echo "JIT latency (qbe | as | our loader, one batch): one word: ${one:-?}; 100 words: ${hundred:-?}"
    echo
fi

# ---------------------------------------------------------------- start-up and memory

# startup_ms CMD... -> median milliseconds over STARTUP_RUNS runs
startup_ms() {
    if command -v hyperfine >/dev/null 2>&1; then
        local js="$TMP/hf.json"
        if hyperfine -N --style none --warmup 3 --runs "$STARTUP_RUNS" \
                --export-json "$js" -- "$(printf '%q ' "$@")" >/dev/null 2>&1; then
            if command -v jq >/dev/null 2>&1; then
                jq -r '.results[0].median * 1000' "$js"
            else
                sed -n 's/.*"median":[[:space:]]*\([0-9.eE+-]*\).*/\1/p' "$js" | head -n1 |
                    awk '{ print $1 * 1000 }'
            fi
            return
        fi
        return 1
    fi
    local i t0 t1 ms=()
    for (( i = 0; i < STARTUP_RUNS; i++ )); do
        t0=$(date +%s%N); "$@" >/dev/null 2>&1 </dev/null || return 1; t1=$(date +%s%N)
        ms+=("$(awk -v d=$(( t1 - t0 )) 'BEGIN { print d / 1e6 }')")
    done
    median "${ms[@]}"
}

# max_rss_kib CMD... -> max resident set size in KiB (median of 3 runs)
max_rss_kib() {
    [[ -x /usr/bin/time ]] || return 1
    local i k v=()
    for i in 1 2 3; do
        k=$(/usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>&1 </dev/null && tail -n1 "$TMP/rss") || return 1
        v+=("$k")
    done
    median "${v[@]}"
}

how=$(command -v hyperfine >/dev/null 2>&1 && echo "hyperfine" || echo "shell loop")
printf "%-44s %${W}s %${W}s %${W}s\n" "start-up and memory (-e bye)" afd gforth-fast afd/gforth
printf "%-44s %${W}s %${W}s %${W}s\n" -------------------------------------------- ------------- ------------- -------------
declare -A SU RSS SUC RSSC
for p in afd gforth; do
    if [[ -z ${AVAIL[$p]:-} ]]; then SUC[$p]=${MISSING[$p]}; RSSC[$p]=${MISSING[$p]}; continue; fi
    if [[ $p == afd ]]; then cmd=("$AFD" -e bye); else cmd=("$GFORTH" -e bye); fi
    if SU[$p]=$(startup_ms "${cmd[@]}") && [[ -n ${SU[$p]} ]]; then
        SUC[$p]=$(awk -v m="${SU[$p]}" 'BEGIN { printf "%.2f", m }')
    else SU[$p]=""; SUC[$p]="!FAILED!"; FAILED=1; fi
    if RSS[$p]=$(max_rss_kib "${cmd[@]}") && [[ -n ${RSS[$p]} ]]; then
        RSSC[$p]=${RSS[$p]%.*}
    else RSS[$p]=""; RSSC[$p]="!FAILED!"; FAILED=1; fi
done
printf "%-44s %${W}s %${W}s %${W}s\n" "start-up, median ms ($STARTUP_RUNS runs, $how)" \
    "${SUC[afd]}" "${SUC[gforth]}" "$(ratio "${SU[afd]:-}" "${SU[gforth]:-}")"
printf "%-44s %${W}s %${W}s %${W}s\n" "max RSS, KiB (/usr/bin/time %M)" \
    "${RSSC[afd]}" "${RSSC[gforth]}" "$(ratio "${RSS[afd]:-}" "${RSS[gforth]:-}")"

echo
if (( FAILED )); then
    echo "!!! SOME RUNS FAILED OR GAVE WRONG OUTPUT (see the !!! lines above)"
    exit 1
fi
exit 0
