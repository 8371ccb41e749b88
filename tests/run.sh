#!/usr/bin/env bash
# run.sh: every test suite of the project, one after the other; prints each suite's result
# and the total as the last line, `N passed, N failed`. AFD names the binary, TESTS the
# folder of the C test programs.
set -u
cd "$(dirname "$0")/.."
AFD=${AFD:-./afd}
TESTS=${TESTS:-build/tests}
passed=0 failed=0

# suite NAME CMD...: run CMD, show its output, add its closing "N passed, N failed" line.
suite() {
	local name=$1 out rc line p f
	shift
	echo "== $name"
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^ok - ' | sed 's/^/   /'
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "   $name: no result line (exit status $rc): counted as one failure"
		failed=$((failed + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   $name: exit status $rc with no failure counted: counted as one failure"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in "$TESTS"/test_*; do
	[ -x "$t" ] && suite "C: $(basename "$t")" "$t"
done
suite "Forth word sets" bash tests/forth/run.sh "$AFD"
suite "JIT: the word sets interpreted and with AFD_JIT=always" bash tests/jit/diff.sh "$AFD"
suite "command line" bash tests/cli/run.sh "$AFD"
# The network suites use fixed loopback ports: one checkout at a time runs them on a machine.
LOCK=${AFD_NET_LOCK:-/tmp/afd-net-tests.lock}
suite "load balancer" flock "$LOCK" bash tests/px/run.sh "$AFD"
suite "metrics" flock "$LOCK" bash tests/px/metrics.sh "$AFD"
suite "control plane" flock "$LOCK" bash tests/px/control.sh "$AFD"
suite "logs" flock "$LOCK" bash tests/px/log.sh "$AFD"
suite "L4 relays" flock "$LOCK" bash tests/px/l4.sh "$AFD"
suite "policies" flock "$LOCK" bash tests/px/policy.sh "$AFD"
# IPVS in a qemu guest that boots Debian's kernel (tests/ipvs/run.sh; a SKIP without qemu)
suite "IPVS (qemu guest)" bash tests/ipvs/run.sh "$AFD"
suite "eBPF (XDP in namespaces)" flock "$LOCK" bash tests/bpf/run.sh "$AFD"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
