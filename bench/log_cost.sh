#!/usr/bin/env bash
# bench/log_cost.sh: the CPU an access log line costs the proxy.
#   usage: bash bench/log_cost.sh [./afd] [ROUNDS] [BASELINE_AFD]
#
# One afd worker (pinned to the last CPU) in front of an http-static-server backend (another
# afd, pinned to CPU 0 with wrk), wrk -c 50 -d 5 on loopback; the proxy's utime + stime from
# /proc/PID/stat before and after, divided by the requests wrk made. Three settings: no
# access log, the text log, the JSON log (to a file in a temporary directory), interleaved
# ROUNDS times (default 3); prints each run and the medians. With BASELINE_AFD (a build
# without the access log code, e.g. of main), a fourth setting "base" runs it, to show that
# an access log that is off costs nothing. Ports 19390-19399, loopback only; only the
# processes started here are stopped, by their PID.
set -u
AFD=$(readlink -f "${1:-./afd}")
ROUNDS=${2:-3}
BASE=${3:+$(readlink -f "$3")}
SETTINGS="off text json${BASE:+ base}"
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-logcost.XXXXXX)
LAST=$(( $(nproc) - 1 ))
BACKEND=19391 PROXY=19392
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
wait_port() {
	local i
	for i in $(seq 100); do (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

cat > "$T/backend.fs" <<EOF
"hello from the backend" 127.0.0.1 $BACKEND http-static-server
1 workers handle-requests
EOF
taskset -c 0 "$AFD" "$T/backend.fs" 2> /dev/null &
PIDS+=($!)
wait_port $BACKEND || { echo "backend did not start" >&2; exit 1; }

# run SETTING: one 5 s wrk run against a fresh proxy; prints "us-per-request requests"
run() {
	local log=""
	case $1 in
	text) log="\"$T/access.log\" access-log" ;;
	json) log="\"$T/access.log\" access-log \"json\" access-log-format" ;;
	esac
	rm -f "$T/access.log"
	cat > "$T/proxy.fs" <<EOF
pool-create "web" 127.0.0.1 $BACKEND 1 add-backend
127.0.0.1 $PROXY listen
$log
1 workers handle-requests
EOF
	local bin=$AFD
	[ "$1" = base ] && bin=$BASE
	taskset -c $LAST "$bin" "$T/proxy.fs" 2> /dev/null &
	local pid=$!
	wait_port $PROXY || { echo "proxy did not start" >&2; exit 1; }
	taskset -c 0 wrk -t 1 -c 50 -d 1 "http://127.0.0.1:$PROXY/" > /dev/null	# warm up
	local t0 t1 n
	t0=$(cpu_ticks $pid)
	n=$(taskset -c 0 wrk -t 1 -c 50 -d 5 "http://127.0.0.1:$PROXY/" | awk '/requests in/ { print $1 }')
	t1=$(cpu_ticks $pid)
	kill -TERM $pid
	wait $pid
	awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
		'BEGIN { printf "%.2f %d\n", d / hz / n * 1e6, n }'
}

declare -A all
for r in $(seq "$ROUNDS"); do
	for s in $SETTINGS; do
		read -r us n <<< "$(run $s)"
		echo "round $r  access log $s: $us us CPU per request ($n requests)"
		all[$s]="${all[$s]:-} $us"
	done
done
for s in $SETTINGS; do
	printf 'median  access log %-4s: %s us CPU per request\n' "$s" \
		"$(tr ' ' '\n' <<< "${all[$s]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
done
