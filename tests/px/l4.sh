#!/usr/bin/env bash
# tests/px/l4.sh: the L4 relay (tcp-mode) through the real binary, for each relay:
# kernel-relay (BPF sockmap), user-relay, and kernel-relay without the privileges for BPF
# (the fallback to userspace).   usage: bash tests/px/l4.sh ./afd
#
# Byte-exact relays of 1 and 16 MiB each way, to slow readers (small SO_RCVBUF), with the
# half-close each way (the client ends first and still gets the answer; the server ends
# first and still gets the client's bytes), resets passed on each way, many short
# connections (no descriptor left behind), the idle timeout, the byte counters in
# /metrics, and SIGTERM letting a transfer in flight finish.
# Ports 19400-19599 only, loopback only; every load is bounded in count and time; only the
# processes started here are stopped, by PID. Prints "ok - ..." per check, then
# "N passed, N failed".
set -u

AFD=$(readlink -f "${1:-./afd}")
HERE=$(cd "$(dirname "$0")" && pwd)
HELP="$HERE/pxhelp.py"
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
PY=$(python3 -c 'import socket, sys; print(sys.executable)') || { echo "python3 is needed" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-l4.XXXXXX)
T0=$(date +%s.%N)
PIDS=()
. "$HERE/lib.sh"

check() {	# check NAME DETAIL COMMAND...
	local name=$1 detail=$2
	shift 2
	if "$@"; then ok "$name"; else notok "$name" "$detail"; fi
}
py() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null; }
pyval() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }

backend() {	# backend PORT ARGS...: a pxhelp.py tcp server, waited for
	local port=$1
	shift
	"$PY" "$HELP" tcp "$port" "$@" >> "$T/py.log" 2>&1 &
	PIDS+=($!)
	wait_tcp "$port" || { notok "backend on $port listens" "$(tail -3 "$T/py.log")"; return 1; }
}

# stop_afd PID: SIGTERM, wait (bounded, 10 s); RC is its status, "hung" if it had to be killed
stop_afd() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 200); do alive "$1" || break; sleep 0.05; done
	if alive "$1"; then kill -KILL "$1"; wait "$1" 2>/dev/null; RC=hung; return; fi
	wait "$1"
	RC=$?
}

metric() {	# metric PORT NAME LISTENER-PORT: the value of a listener's counter
	curl -s --max-time 3 "http://127.0.0.1:$1/metrics" |
		awk -v n="$2{listener=\"127.0.0.1:$3\"}" '$1 == n { print $2 }'
}

relay() {	# relay LABEL PORT ARGS...: a pxhelp relay, checked byte-exact with EOF
	local label=$1 port=$2 j
	shift 2
	j=$("$PY" "$HELP" relay "$port" "$@")
	check "$label ($(pyval "$j" 'd["received"], d["seconds"]') s)" "$j" \
		py "$j" 'd["exact"] and d["eof"] and not d["errors"]'
}

# case_relay MODE B [PREFIX...]: every check through listeners in MODE (kernel-relay or
# user-relay), ports B+1..B+20; PREFIX runs afd (the fallback case drops privileges)
case_relay() {
	local mode=$1 B=$2 what=$3
	shift 3
	local M=$((B + 20)) tag="$what:"
	backend $((B + 1)) --mode store || return
	backend $((B + 2)) --mode store --rcvbuf 32768 --slow || return
	backend $((B + 3)) --mode echo || return
	backend $((B + 4)) --mode first --first 1048576 --log "$T/first$B.log" || return
	backend $((B + 5)) --mode reset || return
	backend $((B + 6)) --mode echo --log "$T/echo$B.log" || return
	cat > "$T/l4-$B.fs" <<EOF
pool-create "store" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 10)) listen tcp-mode $mode
pool-create "slow" 127.0.0.1 $((B + 2)) 1 add-backend  127.0.0.1 $((B + 11)) listen tcp-mode $mode
pool-create "echo" 127.0.0.1 $((B + 3)) 1 add-backend  127.0.0.1 $((B + 12)) listen tcp-mode $mode
pool-create "first" 127.0.0.1 $((B + 4)) 1 add-backend  127.0.0.1 $((B + 13)) listen tcp-mode $mode
pool-create "reset" 127.0.0.1 $((B + 5)) 1 add-backend  127.0.0.1 $((B + 14)) listen tcp-mode $mode
pool-create "logged" 127.0.0.1 $((B + 6)) 1 add-backend  127.0.0.1 $((B + 15)) listen tcp-mode $mode
127.0.0.1 $M metrics-listen
800 tcp-idle-timeout
1 workers handle-requests
EOF
	chmod 644 "$T/l4-$B.fs"
	"$@" "$AFD" "$T/l4-$B.fs" > "$T/afd$B.log" 2>&1 &
	local pid=$!
	PIDS+=($pid)
	wait_tcp "$M" || { notok "$tag afd starts" "$(cat "$T/afd$B.log")"; return; }
	local maps
	maps=$(ls -l /proc/$pid/fd 2>/dev/null | grep -c 'bpf-map')
	case $what in
	kernel) check "$tag the worker holds its two BPF maps ($maps), no fallback" "$(cat "$T/afd$B.log")" \
			test "$maps" = 2 -a "$(grep -c unavailable "$T/afd$B.log")" = 0 ;;
	fallback) check "$tag without privileges, kernel-relay says it relays in userspace ($maps maps)" \
			"$(cat "$T/afd$B.log")" grep -q 'kernel-relay unavailable.*relays in userspace' "$T/afd$B.log" ;;
	esac

	# the client ends first: the backend answers after the client's EOF
	relay "$tag 1 MiB up, client half-close, answer after EOF: byte-exact" $((B + 10)) 1048576 --mode store
	relay "$tag 16 MiB up, client half-close, answer after EOF: byte-exact" $((B + 10)) 16777216 --mode store
	relay "$tag 16 MiB up to a slow backend (32 KiB SO_RCVBUF), then 16 MiB down: byte-exact" \
		$((B + 11)) 16777216 --mode store --timeout 30
	relay "$tag 16 MiB down to a slow client (32 KiB SO_RCVBUF): byte-exact" \
		$((B + 10)) 16777216 --mode store --rcvbuf 32768 --slow --timeout 30
	relay "$tag 16 MiB both ways at once, echo to a slow client: byte-exact" \
		$((B + 12)) 16777216 --mode echo --rcvbuf 32768 --slow --timeout 30
	# the server ends first: the client's bytes still reach it
	local j line
	j=$("$PY" "$HELP" halfrev $((B + 13)) 1048576 1048576)
	sleep 0.2
	line=$(tail -n 1 "$T/first$B.log" 2>/dev/null)
	check "$tag server half-close: its 1 MiB arrives, then EOF; the client's 1 MiB after it reaches the server" \
		"$j / backend: $line" py "$j" 'd["in_exact"] and d["end"] == "eof"'
	check "$tag ... the backend got exactly the client's bytes, then EOF" "$j / backend: $line" \
		test "$line" = "end=eof bytes=1048576 sha=$(pyval "$j" 'd["out_sha"]')"
	# bytes sent with the connection, and the end: answered before EOF
	j=$("$PY" "$HELP" raw $((B + 12)) 'hello' --shut --timeout 3)
	check "$tag bytes and FIN before the backend is connected: echoed, then EOF" "$j" \
		py "$j" 'd["data"] == "hello" and d["end"] == "eof"'
	# resets, each way
	j=$("$PY" "$HELP" raw $((B + 14)) 'hello' --timeout 3)
	check "$tag the backend resets: the client gets a reset" "$j" py "$j" 'd["end"] == "reset"'
	"$PY" "$HELP" rst $((B + 15)) 1000 > /dev/null
	sleep 0.3
	line=$(tail -n 1 "$T/echo$B.log" 2>/dev/null)
	check "$tag the client resets: the backend gets a reset ($line)" "" test "${line%% *}" = end=reset
	# many short connections, and nothing left behind
	local fd0 fd1
	fd0=$(ls /proc/$pid/fd | wc -l)
	j=$("$PY" "$HELP" short $((B + 12)) 600 --conns 20)
	check "$tag 600 short connections (20 at a time, 1-2000 bytes, half-close): all byte-exact" "$j" \
		py "$j" 'd["ok"] == d["of"]'
	for _ in $(seq 40); do
		fd1=$(ls /proc/$pid/fd | wc -l)
		[ "$fd1" -le "$fd0" ] && break
		sleep 0.05
	done
	check "$tag ... and afd holds no more descriptors than before ($fd0 -> $fd1)" "" test "$fd1" -le "$fd0"
	# counters: the first backend's listener had one connection, 1 MiB each way
	local rin rout
	rin=$(metric $M afd_listener_received_bytes_total $((B + 13)))
	rout=$(metric $M afd_listener_sent_bytes_total $((B + 13)))
	check "$tag metrics: bytes received and sent on the listener are exact ($rin, $rout)" "" \
		test "$rin" = 1048576 -a "$rout" = 1048576
	# idle: a connection that goes quiet ends after tcp-idle-timeout (800 ms)
	j=$("$PY" "$HELP" raw $((B + 12)) 'ping' --timeout 4)
	check "$tag idle: a quiet connection ends after tcp-idle-timeout ($(pyval "$j" 'd["seconds"]') s)" "$j" \
		py "$j" 'd["data"] == "ping" and d["end"] == "eof" and 0.7 <= d["seconds"] <= 2.5'
	# SIGTERM: a transfer in flight finishes, then afd exits 0
	"$PY" "$HELP" relay $((B + 10)) 16777216 --mode store --rcvbuf 32768 --slow --timeout 30 > "$T/drain$B" &
	local rp=$!
	PIDS+=($rp)
	sleep 0.3
	stop_afd "$pid"
	wait "$rp"
	j=$(cat "$T/drain$B")
	check "$tag SIGTERM during a 16 MiB transfer to a slow client: it completes byte-exact" "$j" \
		py "$j" 'd["exact"] and d["eof"] and not d["errors"]'
	check "$tag ... and afd exits 0 (status $RC)" "$(tail -3 "$T/afd$B.log")" test "$RC" = 0
}

busy=$("$PY" "$HELP" ports-free 19400 19599) || { notok "ports 19400-19599 are free" "in use: $busy"; echo "$PASS passed, $FAIL failed"; exit 1; }
case_relay kernel-relay 19400 kernel
case_relay user-relay 19450 user
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	# root without any capability: no BPF (CAP_BPF, CAP_NET_ADMIN), the rest as before
	case_relay kernel-relay 19500 fallback setpriv --bounding-set=-all --inh-caps=-all
else
	skip "fallback without privileges" "needs root and setpriv to drop the capabilities"
fi
echo "# run time: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
