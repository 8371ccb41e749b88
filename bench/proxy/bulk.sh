#!/usr/bin/env bash
# bulk.sh: CPU cost of a bulk transfer (1 GiB by default) through the L4 relays: AFD
# user-relay, AFD kernel-relay, HAProxy (mode tcp), HAProxy with splice. Each peer relays
# BYTES from a Python server to a Python client, ROUNDS times, interleaved.
#   bash bench/proxy/bulk.sh            (BYTES, ROUNDS in the environment)
# Pinning: the proxy on CPU 1, server and client on CPU 0. Figures per GiB: the proxy
# process's CPU (utime+stime) and the experiment's: proxy, server, client, kernel threads
# and irq/softirq time (the kernel relay's work runs in softirq and kernel workers, outside
# the proxy process; other users of the machine are left out), medians.
# Ports 18101-18112 and 19101 on 127.0.0.1; everything started here is killed by PID.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 2
BYTES=${BYTES:-1073741824}
ROUNDS=${ROUNDS:-3}
HERE=$PWD/bench/proxy
T=$(mktemp -d /tmp/afd-bulk.XXXXXX)
cp ./afd "$T/afd" || exit 2
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
CLK_TCK=$(getconf CLK_TCK)

cat > "$T/afd.fs" <<EOT
pool-create "bulk" 127.0.0.1 19101 1 add-backend
127.0.0.1 18101 listen tcp-mode user-relay
127.0.0.1 18102 listen tcp-mode kernel-relay
1 workers handle-requests
EOT
cat > "$T/haproxy.cfg" <<EOT
global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend plain
    bind 127.0.0.1:18111
    default_backend b
frontend spliced
    bind 127.0.0.1:18112
    option splice-request
    option splice-response
    default_backend b
backend b
    server s1 127.0.0.1:19101
EOT
taskset -c 0 python3 "$HERE/bulk.py" server 19101 "$BYTES" & PIDS+=($!); SRV_PID=$!
taskset -c 1 "$T/afd" "$T/afd.fs" > "$T/afd.log" 2>&1 & PIDS+=($!); AFD_PID=$!
taskset -c 1 haproxy -f "$T/haproxy.cfg" -db > "$T/haproxy.log" 2>&1 & PIDS+=($!); HA_PID=$!
sleep 1

ticks() { sed 's/.*) //' /proc/$1/task/*/stat 2>/dev/null | awk '{s += $12 + $13} END {print s + 0}'; }
kthreads() { cat /proc/[0-9]*/stat 2>/dev/null | awk '{pid = $1; sub(/.*\) /, ""); if ($2 == 2) print pid, $12 + $13}' > "$1"; }
busy() {	# busy BEFORE AFTER: kernel threads (each its own difference), irq and softirq now
	{ awk 'NR == FNR {t0[$1] = $2; next} {s += $2 - ($1 in t0 ? t0[$1] : 0)} END {print s + 0}' "$1" "$2"
	  awk '$1 == "cpu" {print $7 + $8}' /proc/stat; } | awk '{s += $1} END {print s}'
}
declare -A R
one() {	# one NAME PORT PID
	local k=$1
	local p0 p1 b0 b1 s0 s1 out
	p0=$(ticks "$3"); s0=$(ticks "$SRV_PID"); kthreads "$T/k0"; b0=$(busy "$T/k0" "$T/k0")
	out=$(taskset -c 0 python3 "$HERE/bulk.py" client "$2" "$BYTES") || { echo "bulk.sh: $1: transfer failed: $out" >&2; return; }
	p1=$(ticks "$3"); s1=$(ticks "$SRV_PID"); kthreads "$T/k1"; b1=$(busy "$T/k0" "$T/k1")
	set -- $out
	R[$k]="${R[$k]:-} $(awk -v s="$1" -v c="$2" -v p=$((p1 - p0)) -v b=$((b1 - b0 + s1 - s0)) \
		-v hz="$CLK_TCK" -v n="$BYTES" 'BEGIN {g = n / 1073741824
		printf "%.3f/%.1f/%.3f/%.3f", s, n / s / 1e6, p / hz / g, ((b + p) / hz + c) / g}')"
}
for r in $(seq "$ROUNDS"); do
	one afd-user 18101 "$AFD_PID"
	one afd-kernel 18102 "$AFD_PID"
	one haproxy 18111 "$HA_PID"
	one haproxy-splice 18112 "$HA_PID"
done
echo "bulk transfer of $BYTES bytes server -> client through each relay, $ROUNDS rounds, medians"
echo "(Linux $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-15s %8s %8s %16s %16s\n' relay seconds "MB/s" "proxy CPU s/GiB" "exp. CPU s/GiB"
med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for k in afd-user afd-kernel haproxy haproxy-splice; do
	f() { for x in ${R[$k]:-}; do echo "$x" | cut -d/ -f"$1"; done | tr '\n' ' ' | med; }
	printf '%-15s %8s %8s %16s %16s\n' "$k" "$(f 1)" "$(f 2)" "$(f 3)" "$(f 4)"
done
