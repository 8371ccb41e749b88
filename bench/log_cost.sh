#!/usr/bin/env bash
# bench/log_cost.sh: the CPU an access log line costs the proxy.
#   usage: bash bench/log_cost.sh [./afd] [ROUNDS] [BASELINE_AFD]
#
# One afd worker (pinned to the last CPU) in front of an http-static-server backend (another
# afd, pinned to CPU 0 with wrk), wrk -c 50 -d 5 on loopback; the proxy's utime + stime from
# /proc/PID/stat before and after, divided by the requests wrk made. Three settings: no
# access log, the text log, the JSON log (to a file in a temporary directory), interleaved
# ROUNDS times (default 3); prints each run and the medians of user, system and total CPU
# per request. CALLGRIND=1: instead, the proxy runs under valgrind --tool=callgrind,
# counting the instructions executed inside its event loop (ev_run: every request and every
# write of the log), divided by the requests: a figure that does not move with the load of a
# shared machine. With BASELINE_AFD (a build
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
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

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
	if [ -n "${CALLGRIND:-}" ]; then
		taskset -c $LAST valgrind --tool=callgrind --toggle-collect=ev_run \
			--callgrind-out-file="$T/cg.out" "$bin" "$T/proxy.fs" 2> /dev/null &
	else
		taskset -c $LAST "$bin" "$T/proxy.fs" 2> /dev/null &
	fi
	local pid=$!
	wait_port $PROXY || { echo "proxy did not start" >&2; exit 1; }
	if [ -n "${CALLGRIND:-}" ]; then
		local n
		n=$(taskset -c 0 wrk -t 1 -c 4 -d 5 "http://127.0.0.1:$PROXY/" | awk '/requests in/ { print $1 }')
		kill -TERM $pid
		wait $pid
		callgrind_annotate "$T/cg.out" 2> /dev/null | awk -v n="$n" \
			'/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f %d\n", $1 / n, n }'
		return
	fi
	taskset -c 0 wrk -t 1 -c 50 -d 1 "http://127.0.0.1:$PROXY/" > /dev/null	# warm up
	local u0 s0 u1 s1 n
	read -r u0 s0 <<< "$(cpu_ticks $pid)"
	n=$(taskset -c 0 wrk -t 1 -c 50 -d 5 "http://127.0.0.1:$PROXY/" | awk '/requests in/ { print $1 }')
	read -r u1 s1 <<< "$(cpu_ticks $pid)"
	kill -TERM $pid
	wait $pid
	awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
		'BEGIN { f = 1e6 / hz / n; printf "%.2f %.2f %.2f %d\n", u * f, s * f, (u + s) * f, n }'
}

median() { tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A usr sys tot
for r in $(seq "$ROUNDS"); do
	for s in $SETTINGS; do
		if [ -n "${CALLGRIND:-}" ]; then
			read -r ir n <<< "$(run $s)"
			echo "round $r  access log $s: $ir instructions per request in the event loop ($n requests)"
			tot[$s]="${tot[$s]:-} $ir"
			continue
		fi
		read -r u k t n <<< "$(run $s)"
		echo "round $r  access log $s: $t us CPU per request (user $u, system $k; $n requests)"
		usr[$s]="${usr[$s]:-} $u" sys[$s]="${sys[$s]:-} $k" tot[$s]="${tot[$s]:-} $t"
	done
done
for s in $SETTINGS; do
	if [ -n "${CALLGRIND:-}" ]; then
		printf 'median  access log %-4s: %s instructions per request\n' "$s" "$(median "${tot[$s]}")"
	else
		printf 'median  access log %-4s: %s us CPU per request (user %s, system %s)\n' "$s" \
			"$(median "${tot[$s]}")" "$(median "${usr[$s]}")" "$(median "${sys[$s]}")"
	fi
done
