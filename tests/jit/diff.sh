#!/usr/bin/env bash
# diff.sh AFD: the differential test of the JIT. Every file of the Forth test suite runs three
# times: interpreted (AFD_JIT=off), with every compilable word compiled at its first call
# (AFD_JIT=always), and with words compiled by the JIT's thread from their second call on
# (AFD_JIT=auto AFD_JIT_HOT=2: entries swapped while the VM runs them). The outputs must be
# the same, line for line; the JIT must also pass the suite on its own (tests/forth/run.sh
# with AFD_JIT=always). Prints "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
AFD=${1:-./afd}
TIMEOUT=${TIMEOUT:-20}
if ! command -v qbe >/dev/null || ! command -v as >/dev/null; then
	echo "SKIP: qbe or as not installed (bash scripts/deps.sh jit)"
	echo "0 passed, 0 failed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
run() {	# run MODE FILE ARGS...: output of one run, with the exit status, in $tmp/MODE
	local mode=$1 f=$2
	shift 2
	# DUMP prints host addresses, which differ from run to run
	AFD_JIT=$mode timeout "$TIMEOUT" "$AFD" "$@" </dev/null 2>&1 |
		sed 's/^[0-9A-F]\{16\}:/ADDRESS:/' >"$tmp/$mode"
	echo "exit ${PIPESTATUS[0]}" >>"$tmp/$mode"
}
for f in tests/forth/*.fs; do
	case $f in */tester.fs) continue ;; esac
	if [ "$f" = tests/forth/output.fs ]; then args=("$f" -e bye)
	else args=(tests/forth/tester.fs "$f" -e "test-summary bye"); fi
	run off "$f" "${args[@]}"
	run always "$f" "${args[@]}"
	# auto with words hot at their second call: swaps from the JIT's thread while they run
	AFD_JIT_HOT=2 run auto "$f" "${args[@]}"
	for m in always auto; do
		if cmp -s "$tmp/off" "$tmp/$m"; then
			echo "ok - $f: the same output interpreted and with AFD_JIT=$m"
			pass=$((pass + 1))
		else
			echo "not ok - $f: outputs differ (interpreted -, AFD_JIT=$m +)"
			diff -u "$tmp/off" "$tmp/$m" | sed -n '3,40p' | sed 's/^/    /'
			fail=$((fail + 1))
		fi
	done
done
# the design document's fast-checksum compiles, and runs compiled
il=$("$AFD" --emit-qbe tests/jit/fast-checksum.fs 2>&1)
if printf '%s\n' "$il" | grep -q '^export function w \$w[0-9]*_fast_checksum(l %vm, l %ctx)'; then
	echo "ok - fast-checksum compiles to QBE IL"; pass=$((pass + 1))
else
	echo "not ok - fast-checksum compiles to QBE IL"; printf '%s\n' "$il" | head -5; fail=$((fail + 1))
fi
got=$(AFD_JIT=always "$AFD" tests/jit/fast-checksum.fs \
	-e 'words 0 fast-checksum . words 40 checksum . jit? fast-checksum . jit? checksum . bye' 2>&1)
if [ "$got" = "0 15 -1 -1 " ]; then
	echo "ok - fast-checksum and checksum run compiled"; pass=$((pass + 1))
else
	echo "not ok - fast-checksum and checksum run compiled: $got"; fail=$((fail + 1))
fi

out=$(AFD_JIT=always TIMEOUT=$TIMEOUT bash tests/forth/run.sh "$AFD" 2>&1)
line=$(printf '%s\n' "$out" | tail -n 1)
printf '%s\n' "$out" | sed '$d' | grep -v ': [0-9]* passed, 0 failed$' | sed 's/^/    /'
echo "AFD_JIT=always tests/forth/run.sh: $line"
p=${line%% passed*}
f=${line#*passed, }
f=${f%% failed*}
echo "$((pass + p)) passed, $((fail + f)) failed"
[ $((fail + f)) -eq 0 ]
