#!/bin/sh
# guest.sh AFD MODE DIR: the IPVS suite where IPVS is (in the qemu guest of run.sh, or on a
# host whose kernel has it). MODE tests: every DIR/*.fs under the Forth tester, one AFD
# process per file, each starting from an empty IPVS table; prints "N passed, N failed".
# MODE bench: the update benchmark (bench.sh).
AFD=$1 MODE=$2 DIR=$3
if [ "$MODE" = bench ]; then	# the default scheduler (wlc), and wrr, whose updates cost O(n)
	sh "$DIR/bench.sh" "$AFD" wrr info
	sh "$DIR/bench.sh" "$AFD" wlc
	exit
fi
passed=0 failed=0
# count NAME OUTPUT: a test program's output, its closing "N passed, N failed" added up
count() {
	s=$(printf '%s\n' "$2" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -n 1)
	printf '%s\n' "$2" | grep -v 'passed, .* failed$' | sed 's/^/   /'
	if [ -z "$s" ]; then echo "FAIL: $1: no result"; failed=$((failed + 1)); return; fi
	echo "$1: ${s% *} passed, ${s#* } failed"
	passed=$((passed + ${s% *})) failed=$((failed + ${s#* }))
}
TESTER=$DIR/tester.fs
[ -f "$TESTER" ] || TESTER=$DIR/../forth/tester.fs
for f in "$DIR"/test_*.fs; do
	[ -f "$f" ] || continue
	"$AFD" -e 'ipvs-flush' >/dev/null 2>&1
	out=$(cd "$DIR" && timeout 60 "$AFD" "$TESTER" "$f" -e 'test-summary bye' 2>&1)
	rc=$?
	s=$(printf '%s\n' "$out" | sed -n 's/^#passed \([0-9]*\) #failed \([0-9]*\)$/\1 \2/p' | tail -n 1)
	if [ -z "$s" ] || [ $rc -ne 0 ]; then
		echo "FAIL: $(basename "$f"): exit status $rc, no summary"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/   /'
		failed=$((failed + 1))
		continue
	fi
	p=${s% *} n=${s#* }
	echo "$(basename "$f"): $p passed, $n failed"
	[ "$n" -ne 0 ] && printf '%s\n' "$out" | grep -v '^#passed' | tail -n 20 | sed 's/^/   /'
	passed=$((passed + p)) failed=$((failed + n))
done
for f in "$DIR"/test_*.sh; do
	[ -f "$f" ] && count "$(basename "$f")" "$(sh "$f" "$AFD" 2>&1)"
done
T=$(command -v test_ipvs)	# the client's C tests (in the guest: /bin/test_ipvs)
[ -n "$T" ] && count "C: test_ipvs" "$(IPVS_DIRECT=1 "$T" 2>&1)"
echo "$passed passed, $failed failed"
