# lib.sh: what the proxy test scripts share. Sourced after they set T (their temp dir) and
# PIDS=() (what they start). Only processes of this shell are ever stopped, by PID.
PASS=0 FAIL=0

# alive PID: a job of this shell still running (never a recycled PID of someone else's)
alive() { [[ " $(jobs -rp | tr '\n' ' ') " == *" $1 "* ]]; }

cleanup() {
	local p
	exec 3>&- 2>/dev/null
	for p in "${PIDS[@]}"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 40); do alive "$p" || break; sleep 0.05; done
		alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

# wait_tcp PORT: poll until a connection is accepted (bounded, ~5 s), sending nothing
wait_tcp() {
	local i
	for i in $(seq 100); do
		(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
notok() {
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
	FAIL=$((FAIL + 1))
}
skip() { echo "SKIP - $1 ($2)"; }
