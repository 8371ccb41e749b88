#!/usr/bin/env bash
# bench/reload.sh: how long a configuration change takes to be live in every worker.
#
# For configurations of 10, 1,000 and 10,000 backends (pools of at most 4,000), a running
# afd (2 workers) is sent SIGHUP 21 times (the file read and loaded again as a new
# generation, then taken by every worker), and 21 admin commands that change one weight
# (`set-weight` over the admin socket: the time from sending the command to its "ok",
# which comes once every worker has the change). Medians, from afd's own log for reloads
# (build + swap) and from the client's clock for weight changes. Each is measured without
# and with a routing word (handle-http-request: every worker then builds its own VM).
# Backends are 127.1.x.y addresses that are never contacted (no traffic, no checks).
# Loopback only; ports 19790-19799.   usage: bash bench/reload.sh [path/to/afd]
set -u
AFD=$(readlink -f "${1:-./afd}")
T=$(mktemp -d /tmp/afd-reload.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

config() {	# config N ROUTE
	local n=$1 i=0 p=0
	while [ "$i" -lt "$n" ]; do
		echo "pool-create \"pool$p\""
		local k=0
		while [ "$k" -lt 4000 ] && [ "$i" -lt "$n" ]; do
			echo "127.1.$((i / 250 % 250)).$((i % 250 + 1)) $((9000 + i / 62500)) 100 add-backend"
			i=$((i + 1)) k=$((k + 1))
		done
		p=$((p + 1))
	done
	echo '127.0.0.1 19790 listen  2 workers'
	echo "\"$T/admin.sock\" admin-socket"
	[ "$2" = yes ] && echo ': handle-http-request ( packet -- action ) "pool0" get-pool next-backend packet-redirect ;'
	echo 'handle-requests'
}

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", NR ? a[int((NR + 1) / 2)] : -1 }'; }

printf '%-10s %-8s %12s %12s %12s %16s\n' backends routing "reload ms" "build ms" "swap ms" "set-weight ms"
for n in 10 1000 10000; do
	for route in no yes; do
		config "$n" "$route" > "$T/cfg.fs"
		"$AFD" "$T/cfg.fs" > "$T/log" 2>&1 &
		PID=$!
		for _ in $(seq 200); do [ -S "$T/admin.sock" ] && grep -q 'workers, pid' "$T/log" && break; sleep 0.05; done
		for _ in $(seq 21); do kill -HUP "$PID"; sleep 0.1; done
		sleep 0.3
		lines=$(grep 'SIGHUP reload: generation' "$T/log")
		total=$(sed -n 's/.* live in \([0-9.]*\) ms.*/\1/p' <<< "$lines" | median)
		build=$(sed -n 's/.*built in \([0-9.]*\) ms.*/\1/p' <<< "$lines" | median)
		swap=$(sed -n 's/.*every worker in \([0-9.]*\) ms.*/\1/p' <<< "$lines" | median)
		weight=$(python3 - "$T/admin.sock" <<'EOF'
import socket, sys, time
ts = []
for i in range(21):
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b'"pool0" get-pool 127.1.0.1 9000 find-backend %d set-weight\n' % (50 + i))
    s.shutdown(socket.SHUT_WR)
    out = b''
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    ts.append((time.perf_counter() - t0) * 1e3)
    if not out.endswith(b'ok\n'):
        print('-1')
        sys.exit(0)
ts.sort()
print('%.3f' % ts[len(ts) // 2])
EOF
)
		printf '%-10s %-8s %12s %12s %12s %16s\n' "$n" "$route" "$total" "$build" "$swap" "$weight"
		kill "$PID"
		wait "$PID" 2>/dev/null
		PID=
	done
done
echo "# reload: SIGHUP to live in every worker (afd's log); build: a fresh VM loads the file;"
echo "# swap: every worker prepares its view (its VM with a routing word) and takes it;"
echo "# set-weight: admin command sent to ok received (replay of the running generation + change)"
