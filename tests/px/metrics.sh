#!/usr/bin/env bash
# tests/px/metrics.sh: the proxy's Prometheus metrics (metrics-listen, GET /metrics) against
# the real binary.   usage: bash tests/px/metrics.sh ./afd
#
# One afd with two workers serves two http-static-server backends and four pools: "web"
# (both backends), "dead" (a port nobody listens on), "flaky" (the dead port, then a live
# backend), "off" (its only backend disabled), and "l4" (tcp-mode). Known traffic goes
# through each (2xx, the proxy's own 400 and 503, retries, a TCP relay); the scrape must
# then hold exactly the counts that traffic implies, and pass `promtool check metrics`
# (scripts/deps.sh unpacks it into build/tools; a visible SKIP when there is none).
# Loopback only, ports 18900-18999, bounded loads; only the processes started here are
# stopped, by their PID. Prints "ok - ..." / "not ok - ..." / "SKIP - ...", then
# "N passed, N failed"; exits non-zero on a failure.
set -u

AFD=$(readlink -f "${1:-./afd}")
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-metrics.XXXXXX)
B=18900
WEB=$((B + 10)) DEAD=$((B + 11)) FLAKY=$((B + 12)) OFF=$((B + 13)) L4=$((B + 14))
MPORT=$((B + 20))
N_CONNS=4 N_PER=10	# web: 4 keep-alive connections of 10 requests each
N_OK=$((N_CONNS * N_PER)) N_BAD=2 N_DEAD=3 N_FLAKY=4 N_OFF=2
PIDS=()
. "$(dirname "$0")/lib.sh"
note() { printf '#   %s\n' "$*"; }

# ---- the scrape ----
scrape() { curl -s --max-time 5 -o "$T/scrape" "http://127.0.0.1:$MPORT/metrics"; }
# val SERIES: the value of one series of the last scrape, e.g. val 'afd_workers'
val() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$T/scrape"; }
L() { echo "{listener=\"127.0.0.1:$1\"}"; }
R() { echo "{listener=\"127.0.0.1:$1\",code=\"$2\"}"; }
P() { echo "{pool=\"$1\"}"; }
BE() { echo "{pool=\"$1\",backend=\"127.0.0.1:$2\"}"; }
# eq NAME SERIES EXPECTED: the series has exactly that value
eq() {
	local v; v=$(val "$2")
	if [ "$v" = "$3" ]; then ok "$1 ($2 = $v)"; else notok "$1" "$2: expected $3, got $v"; fi
}
# is NAME EXPECTED ACTUAL: two computed numbers are equal
is() { if [ "$2" = "$3" ]; then ok "$1 ($3)"; else notok "$1" "expected $2, got $3"; fi; }
# settle SERIES VALUE: scrape until the series shows the value (bounded, ~3 s)
settle() {
	local i
	for i in $(seq 60); do scrape; [ "$(val "$1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}

# ---- the configuration ----
for p in $((B + 1)) $((B + 2)) $((B + 3)) $WEB $DEAD $FLAKY $OFF $L4 $MPORT $((B + 30)); do
	if (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		notok "port $p is free" "$(ss -ltnp 2>/dev/null | grep ":$p " | head -3)"
		echo "$PASS passed, $FAIL failed"
		exit 1
	fi
done
cat > "$T/m.fs" <<EOF
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
pool-create "web" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $WEB listen
pool-create "dead" 127.0.0.1 $((B + 3)) 1 add-backend
127.0.0.1 $DEAD listen
pool-create "flaky" 127.0.0.1 $((B + 3)) 1 add-backend  127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $FLAKY listen
pool-create "off" 127.0.0.1 $((B + 2)) 1 add-backend
"off" get-pool each-backend backend-disable 2drop drop
127.0.0.1 $OFF listen
pool-create "l4" 127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $L4 listen tcp-mode
127.0.0.1 $MPORT metrics-listen
2 workers handle-requests
EOF
"$AFD" "$T/m.fs" > "$T/afd.log" 2>&1 &
AFD_PID=$!
PIDS+=("$AFD_PID")
if ! wait_tcp "$MPORT"; then	# bound after every listener: the proxy listens too
	notok "afd starts with metrics-listen" "$(cat "$T/afd.log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
ok "afd starts with metrics-listen ($(grep -c . "$T/afd.log") lines of log)"

# ---- the traffic ----
W='%{http_code} %{size_request} %{size_header} %{size_download}\n'
CURLS=()
for k in $(seq $N_CONNS); do	# in parallel: both workers get some
	curl -s --max-time 10 -o /dev/null -w "$W" "http://127.0.0.1:$WEB/req$k/[1-$N_PER]" \
		> "$T/web.$k" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
cat "$T"/web.* > "$T/web"
# two malformed requests (Content-Length with Transfer-Encoding): the proxy answers 400
bad_req='GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'
bad_in=0 bad_out=0
for k in $(seq $N_BAD); do
	exec 3<>"/dev/tcp/127.0.0.1/$WEB"
	printf "$bad_req" >&3
	timeout 5 cat <&3 > "$T/bad.$k"
	exec 3>&-
	bad_in=$((bad_in + $(printf "$bad_req" | wc -c)))
	bad_out=$((bad_out + $(wc -c < "$T/bad.$k")))
done
curl -s --max-time 10 -o /dev/null -w "$W" "http://127.0.0.1:$DEAD/[1-$N_DEAD]" > "$T/dead"
curl -s --max-time 10 -o /dev/null -w "$W" "http://127.0.0.1:$FLAKY/[1-$N_FLAKY]" > "$T/flaky"
curl -s --max-time 10 -o /dev/null -w "$W" "http://127.0.0.1:$OFF/[1-$N_OFF]" > "$T/off"
curl -s --max-time 10 -o /dev/null -w "$W" "http://127.0.0.1:$L4/" > "$T/l4"

codes() { awk '{ print $1 }' "$1" | sort | uniq -c | awk '{ printf "%s%sx%s", s, $2, $1; s = " " }'; }
is "the clients saw $N_OK answers 200 from web" "200x$N_OK" "$(codes "$T/web")"
is "the clients saw $N_BAD answers 400 from web" "$N_BAD" "$(grep -l '^HTTP/1.1 400 ' "$T"/bad.* | wc -l)"
is "the clients saw 503 from dead, 200 from flaky, 503 from off, 200 through l4" \
	"503x$N_DEAD 200x$N_FLAKY 503x$N_OFF 200x1" \
	"$(codes "$T/dead") $(codes "$T/flaky") $(codes "$T/off") $(codes "$T/l4")"

# ---- the scrape: exact counts ----
if ! alive "$AFD_PID"; then
	notok "afd still runs after the traffic" "$(tail -20 "$T/afd.log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
settle "afd_listener_connections_active$(L $WEB)" 0 || note "web connections still active"
settle "afd_listener_connections_active$(L $L4)" 0 || note "l4 connections still active"
cp "$T/scrape" "$T/scrape.1"

eq "afd_workers" "afd_workers" 2
eq "afd_config_generation" "afd_config_generation" 1
version=$("$AFD" --version | awk '{ print $2 }')
eq "afd_build_info carries the version" "afd_build_info{version=\"$version\"}" 1
start=$(val afd_process_start_time_seconds)
check_start=$(awk -v s="$start" -v now="$(date +%s)" 'BEGIN { print (s > now - 300 && s <= now + 1) ? "yes" : "no" }')
is "afd_process_start_time_seconds is the start of this afd ($start)" yes "$check_start"

eq "web: requests = $N_OK good + $N_BAD malformed" "afd_listener_requests_total$(L $WEB)" $((N_OK + N_BAD))
eq "web: 2xx responses" "afd_listener_responses_total$(R $WEB 2xx)" $N_OK
eq "web: 4xx responses (the proxy's own 400)" "afd_listener_responses_total$(R $WEB 4xx)" $N_BAD
eq "web: no 5xx responses" "afd_listener_responses_total$(R $WEB 5xx)" 0
eq "web: no 1xx responses" "afd_listener_responses_total$(R $WEB 1xx)" 0
eq "web: connections accepted" "afd_listener_connections_accepted_total$(L $WEB)" $((N_CONNS + N_BAD))
eq "web: no connection open" "afd_listener_connections_active$(L $WEB)" 0
eq "web: bytes received = what curl and the raw client sent" \
	"afd_listener_received_bytes_total$(L $WEB)" \
	$(( $(awk '{ s += $2 } END { print s }' "$T/web") + bad_in ))
eq "web: bytes sent = what curl and the raw client got" "afd_listener_sent_bytes_total$(L $WEB)" \
	$(( $(awk '{ s += $3 + $4 } END { print s }' "$T/web") + bad_out ))
eq "pool web: requests" "afd_pool_requests_total$(P web)" $N_OK
eq "pool web: no-backend" "afd_pool_no_backend_total$(P web)" 0
eq "pool web: retries" "afd_pool_retries_total$(P web)" 0
b1=$(val "afd_backend_requests_total$(BE web $((B + 1)))")
b2=$(val "afd_backend_requests_total$(BE web $((B + 2)))")
is "web backends: picks sum to the $N_OK requests ($b1 + $b2)" $N_OK $((b1 + b2))
is "web backends: round-robin splits them exactly" "$((N_OK / 2)) $((N_OK / 2))" "$b1 $b2"
h1=$(val "afd_backend_response_duration_seconds_count$(BE web $((B + 1)))")
h2=$(val "afd_backend_response_duration_seconds_count$(BE web $((B + 2)))")
is "web backends: histogram counts sum to the 2xx responses" $N_OK $((h1 + h2))
is "web backends: each histogram counts its backend's picks" "$b1 $b2" "$h1 $h2"
# every histogram: buckets never decrease, +Inf = _count, _sum >= 0
hist=$(awk '
	/^afd_backend_response_duration_seconds_bucket/ {
		key = $1; sub(/,le="[^"]*"}/, "}", key); sub(/_bucket/, "", key)
		if (key == last && $2 < prev) bad = bad " " $1
		prev = $2; last = key; if ($1 ~ /le="\+Inf"/) inf[key] = $2; n++ }
	/^afd_backend_response_duration_seconds_count/ { key = $1; sub(/_count/, "", key); cnt[key] = $2 }
	/^afd_backend_response_duration_seconds_sum/ { if ($2 < 0) bad = bad " " $1 }
	END { for (k in cnt) if (inf[k] != cnt[k]) bad = bad " " k; print (n ? "" : "none") bad }' "$T/scrape")
is "every histogram: cumulative buckets, +Inf = _count" "" "$hist"
s1=$(val "afd_backend_response_duration_seconds_sum$(BE web $((B + 1)))")
is "web backend 1: latency sum is positive and under 1 s per request ($s1)" yes \
	"$(awk -v s="$s1" -v n="$h1" 'BEGIN { print (s > 0 && s < n) ? "yes" : "no" }')"
eq "web backend 1: no failures" "afd_backend_failures_total$(BE web $((B + 1)))" 0
eq "web backend 1: up" "afd_backend_up$(BE web $((B + 1)))" 1
eq "web backend 1: enabled" "afd_backend_enabled$(BE web $((B + 1)))" 1
eq "web backend 1: nothing in flight" "afd_backend_connections_active$(BE web $((B + 1)))" 0

eq "dead: 5xx responses (503)" "afd_listener_responses_total$(R $DEAD 5xx)" $N_DEAD
eq "pool dead: requests" "afd_pool_requests_total$(P dead)" $N_DEAD
eq "pool dead: no-backend" "afd_pool_no_backend_total$(P dead)" $N_DEAD
eq "pool dead: no retries (nothing else to try)" "afd_pool_retries_total$(P dead)" 0
eq "dead backend: picks" "afd_backend_requests_total$(BE dead $((B + 3)))" $N_DEAD
eq "dead backend: failures" "afd_backend_failures_total$(BE dead $((B + 3)))" $N_DEAD
eq "dead backend: no latency observed" "afd_backend_response_duration_seconds_count$(BE dead $((B + 3)))" 0

eq "flaky: 2xx responses" "afd_listener_responses_total$(R $FLAKY 2xx)" $N_FLAKY
eq "flaky: no 5xx" "afd_listener_responses_total$(R $FLAKY 5xx)" 0
fr=$(val "afd_pool_retries_total$(P flaky)")
fd=$(val "afd_backend_requests_total$(BE flaky $((B + 3)))")
ff=$(val "afd_backend_failures_total$(BE flaky $((B + 3)))")
is "pool flaky: every failure of the dead backend retried (retries = its picks = its failures)" \
	"$fd $fd yes" "$fr $ff $([ "$fd" -ge 1 ] 2>/dev/null && echo yes || echo no)"
eq "flaky live backend: one pick per request" "afd_backend_requests_total$(BE flaky $((B + 1)))" $N_FLAKY
eq "pool flaky: no-backend" "afd_pool_no_backend_total$(P flaky)" 0

eq "off: 5xx responses (503)" "afd_listener_responses_total$(R $OFF 5xx)" $N_OFF
eq "pool off: no-backend" "afd_pool_no_backend_total$(P off)" $N_OFF
eq "off backend: never picked" "afd_backend_requests_total$(BE off $((B + 2)))" 0
eq "off backend: disabled" "afd_backend_enabled$(BE off $((B + 2)))" 0

eq "l4: connections accepted" "afd_listener_connections_accepted_total$(L $L4)" 1
eq "l4: bytes received" "afd_listener_received_bytes_total$(L $L4)" "$(awk '{ print $2 }' "$T/l4")"
eq "l4: bytes sent" "afd_listener_sent_bytes_total$(L $L4)" "$(awk '{ print $3 + $4 }' "$T/l4")"
eq "pool l4: requests (connections)" "afd_pool_requests_total$(P l4)" 1
eq "l4 backend: picks" "afd_backend_requests_total$(BE l4 $((B + 2)))" 1
is "l4: no HTTP families for a tcp-mode listener" "missing" "$(val "afd_listener_requests_total$(L $L4)")"
is "demo backends (http-static-server) are not listed as listeners" "missing" \
	"$(val "afd_listener_connections_accepted_total$(L $((B + 1)))")"

# ---- the gauge follows an open connection ----
exec 3<>"/dev/tcp/127.0.0.1/$WEB"
if settle "afd_listener_connections_active$(L $WEB)" 1; then ok "web: an idle client connection shows as active 1"
else notok "web: an idle client connection shows as active 1" "got $(val "afd_listener_connections_active$(L $WEB)")"; fi
exec 3>&-
if settle "afd_listener_connections_active$(L $WEB)" 0; then ok "web: closed, active is 0 again"
else notok "web: closed, active is 0 again" "got $(val "afd_listener_connections_active$(L $WEB)")"; fi

# ---- the endpoint ----
head=$(curl -s --max-time 5 -I "http://127.0.0.1:$MPORT/metrics" | tr -d '\r')
is "HEAD /metrics: 200, text format 0.0.4" "HTTP/1.1 200 OK|Content-Type: text/plain; version=0.0.4; charset=utf-8" \
	"$(printf '%s\n' "$head" | grep -E '^(HTTP/|Content-Type:)' | paste -sd '|')"
is "GET /other: 404" 404 "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")"
is "POST /metrics: 405" 405 "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")"
types=$(grep '^# TYPE ' "$T/scrape.1" | awk '{ print $3 }' | sort | uniq -d)
is "one TYPE line per family" "" "$types"

# promtool: on the PATH, or unpacked by scripts/deps.sh into build/tools
[ -x build/tools/promtool ] && PATH="$PWD/build/tools:$PATH"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics < "$T/scrape.1" 2>&1); then ok "promtool check metrics: no problems"
	else notok "promtool check metrics: no problems" "$out"; fi
else
	skip "promtool check metrics" "no promtool: scripts/deps.sh test fetches it (as root)"
fi

# ---- a second afd on the same metrics address fails clearly ----
sed -e "s/^\"b[12]\".*//" -e "s/127.0.0.1 $WEB listen/127.0.0.1 $((B + 30)) listen/" \
	-e "s/^127.0.0.1 $DEAD listen\|^127.0.0.1 $FLAKY listen\|^127.0.0.1 $OFF listen\|^127.0.0.1 $L4 listen tcp-mode//" \
	"$T/m.fs" > "$T/m2.fs"
timeout 10 "$AFD" "$T/m2.fs" > "$T/afd2.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "metrics-listen: Address already in use" "$T/afd2.log"; then
	ok "a metrics address in use: afd says so and exits $rc"
else
	notok "a metrics address in use: afd says so and exits non-zero" "status $rc: $(cat "$T/afd2.log")"
fi

# ---- afd stops cleanly ----
kill -TERM "$AFD_PID"
for _ in $(seq 60); do alive "$AFD_PID" || break; sleep 0.05; done
wait "$AFD_PID" 2>/dev/null
rc=$?
is "afd exits 0 on SIGTERM with the metrics thread running" 0 "$rc"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
