#!/usr/bin/env bash
# tests/px/run.sh: integration tests of the proxy (L7 HTTP and L4 TCP) against the real
# binary.   usage: bash tests/px/run.sh ./afd
#
# Every case starts its own afd on a configuration written to a temporary directory, with
# http-static-server backends and small Python backends (tests/px/pxhelp.py, stdlib only).
# All traffic stays on loopback; ports are 18099-18999 (case k uses 18100+55k + 1..21);
# every load is bounded in count and time; only the processes started here are stopped,
# by their PID. Prints "ok - name" / "not ok - name" per check, then "N passed, N failed".
set -u

AFD=$(readlink -f "${1:-./afd}")
HERE=$(cd "$(dirname "$0")" && pwd)
HELP="$HERE/pxhelp.py"
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
# the interpreter itself, not a version manager's shim (which costs ~0.3 s a start)
PY=$(python3 -c 'import socket, sys; print(sys.executable)') || { echo "python3 with socket is needed" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-px.XXXXXX)
T0=$(date +%s.%N)

PIDS=()		# everything started here, stopped at exit
CASE_PIDS=()	# started by the current case, stopped at its end
AFD_BAD=()	# afd processes that did not end cleanly on SIGTERM
. "$HERE/lib.sh"
# check NAME DETAIL COMMAND...: ok if the command succeeds, else not ok with the detail
check() {
	local name=$1 detail=$2
	shift 2
	if "$@"; then ok "$name"; else notok "$name" "$detail"; fi
}
note() { printf '#   %s\n' "$*"; }

# py JSON EXPR: evaluate a Python expression over the parsed JSON `d`; true if truthy
py() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null; }
pyval() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }

# ---- processes ----
# wait_http PORT: poll with curl until something answers there (bounded, ~5 s)
wait_http() {
	local i rc
	for i in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"
		rc=$?
		[ $rc -ne 7 ] && [ $rc -ne 28 ] && return 0
		sleep 0.05
	done
	return 1
}

# start_afd NAME [WAIT_PORT [tcp]] < config: start afd on the configuration; LAST is its PID
start_afd() {
	local name=$1 port=${2:-} how=${3:-http}
	cat > "$T/$name.fs"
	"$AFD" "$T/$name.fs" > "$T/$name.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	CASE_PIDS+=("$LAST:afd:$name")
	[ -z "$port" ] && return 0
	if { [ "$how" = tcp ] && wait_tcp "$port"; } || { [ "$how" = http ] && wait_http "$port"; }; then
		return 0
	fi
	note "afd $name did not come up on $port:"
	sed 's/^/#     /' "$T/$name.log"
	return 1
}

# start_py NAME PORT ARGS...: a pxhelp.py server; waits until it listens; LAST is its PID
start_py() {
	local name=$1 port=$2
	shift 2
	"$PY" "$HELP" "$@" > "$T/$name.pylog" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	CASE_PIDS+=("$LAST:py:$name")
	wait_tcp "$port" || { note "python $name did not listen on $port"; return 1; }
}

# stop PID: SIGTERM, then wait (bounded); SIGKILL if it does not end. The status in RC.
stop() {
	local p=$1 i
	alive "$p" && kill -TERM "$p" 2>/dev/null
	for i in $(seq 60); do alive "$p" || break; sleep 0.05; done
	if alive "$p"; then
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		RC=hung
		return
	fi
	wait "$p" 2>/dev/null
	RC=$?
}

# end_case: stop what the case started; an afd must exit 0 on SIGTERM
end_case() {
	local e p kind name rc
	for e in "${CASE_PIDS[@]}"; do
		[ -z "$e" ] && continue
		IFS=: read -r p kind name <<< "$e"
		alive "$p" || { [ "$kind" = afd ] && { wait "$p" 2>/dev/null; rc=$?; AFD_BAD+=("$name: died during the case (status $rc)"); }; continue; }
		stop "$p"
		rc=$RC
		if [ "$kind" = afd ] && [ "$rc" != 0 ]; then
			AFD_BAD+=("$name: status $rc on SIGTERM: $(tail -3 "$T/$name.log" | tr '\n' ' ')")
		fi
	done
	CASE_PIDS=()
}

# claim B: the case's ports B+1..B+21 must be free, or it would share them with another
# process (afd binds with SO_REUSEPORT, so that would not even fail)
claim() {
	local busy
	busy=$("$PY" "$HELP" ports-free $(($1 + 1)) $(($1 + 21))) && return 0
	notok "${FUNCNAME[1]#case_}: its ports $(($1 + 1))-$(($1 + 21)) are free" "in use: $busy" \
		"$(ss -ltnp 2>/dev/null | grep -E ":($(echo $busy | tr ' ' '|')) " | head -5)"
	return 1
}

# counts FILE: "b1=150 b2=150" from lines of bodies
counts() { sort "$1" | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'; }

GET() { curl -s --max-time 5 "$@"; }

# ======================================================================================
# 1. round-robin
# ======================================================================================
case_round_robin() {
	local B=18155
	claim $B || return
	start_afd rr $((B + 10)) <<EOF || { notok "round-robin: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
"b3" 127.0.0.1 $((B + 3)) http-static-server
: two   pool-create "two"   127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
        round-robin set-algorithm ;
: three pool-create "three" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
        127.0.0.1 $((B + 3)) 1 add-backend  round-robin set-algorithm ;
two 127.0.0.1 $((B + 10)) listen
three 127.0.0.1 $((B + 11)) listen
1 workers handle-requests
EOF
	GET "http://127.0.0.1:$((B + 10))/[1-300]" > "$T/rr2"
	local c2; c2=$(counts "$T/rr2")
	check "round-robin over 2 backends, 1 worker: 300 requests split exactly 150/150 ($c2)" "got: $c2" \
		test "$c2" = "b1=150 b2=150"
	GET "http://127.0.0.1:$((B + 11))/[1-300]" > "$T/rr3"
	local c3; c3=$(counts "$T/rr3")
	check "round-robin over 3 backends, 1 worker: 300 requests split exactly 100/100/100 ($c3)" \
		"got: $c3" test "$c3" = "b1=100 b2=100 b3=100"
	# strict alternation, not just equal totals
	check "round-robin over 3 backends: never the same backend twice in a row" \
		"$(uniq -c "$T/rr3" | awk '$1 > 1' | head -3)" \
		test "$(uniq "$T/rr3" | wc -l)" = 300
	end_case

	start_afd rr2w $((B + 20)) <<EOF || { notok "round-robin 2 workers: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
"b3" 127.0.0.1 $((B + 3)) http-static-server
pool-create "two" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 20)) listen
pool-create "three" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 3)) 1 add-backend
127.0.0.1 $((B + 21)) listen
2 workers handle-requests
EOF
	local j
	j=$("$PY" "$HELP" load "http://127.0.0.1:$((B + 20))/" 300 --conns 8 --new)
	check "round-robin over 2 backends, 2 workers, 300 new connections: each within 10% of 150 ($(pyval "$j" 'd["counts"]'))" \
		"$j" py "$j" 'd["errors"] == 0 and sorted(d["counts"]) == ["200 b1", "200 b2"] and all(135 <= v <= 165 for v in d["counts"].values())'
	j=$("$PY" "$HELP" load "http://127.0.0.1:$((B + 21))/" 300 --conns 8 --new)
	check "round-robin over 3 backends, 2 workers, 300 new connections: each within 10% of 100 ($(pyval "$j" 'd["counts"]'))" \
		"$j" py "$j" 'd["errors"] == 0 and len(d["counts"]) == 3 and all(90 <= v <= 110 for v in d["counts"].values())'
	end_case
}

# ======================================================================================
# 2. weighted round-robin
# ======================================================================================
case_wrr() {
	local B=18210
	claim $B || return
	start_afd wrr $((B + 10)) <<EOF || { notok "weighted-round-robin: afd starts" "see above"; return; }
"heavy" 127.0.0.1 $((B + 1)) http-static-server
"light" 127.0.0.1 $((B + 2)) http-static-server
: pool pool-create "w" 127.0.0.1 $((B + 1)) 3 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
  weighted-round-robin set-algorithm ;
pool 127.0.0.1 $((B + 10)) listen  1 workers handle-requests
EOF
	GET "http://127.0.0.1:$((B + 10))/[1-400]" > "$T/wrr"
	local c; c=$(counts "$T/wrr")
	check "weighted-round-robin 3:1, 1 worker: 400 requests split exactly 300/100 ($c)" "got: $c" \
		test "$c" = "heavy=300 light=100"
	# smooth: the light one is never more than 4 requests apart from its last pick
	check "weighted-round-robin 3:1: the light backend gets every 4th request (smooth)" \
		"$(head -12 "$T/wrr" | tr '\n' ' ')" \
		test "$(awk '$0 == "light" { if (last && NR - last != 4) bad = 1; last = NR } END { print bad + 0 }' "$T/wrr")" = 0
	end_case
}

# ======================================================================================
# 3. the other algorithms
# ======================================================================================
case_algorithms() {
	local B=18265
	claim $B || return
	start_py slow $((B + 4)) http $((B + 4)) "$T/slow.log" || { notok "algorithms: python backend" ""; return; }
	start_afd algos $((B + 1)) <<EOF || { notok "algorithms: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
"b3" 127.0.0.1 $((B + 3)) http-static-server
: three ( algo c-addr u -- )
  (pool-create) 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
  127.0.0.1 $((B + 3)) 1 add-backend  set-algorithm ;
least-connections  "lc"   three  127.0.0.1 $((B + 10)) listen
random-two-choices "p2c"  three  127.0.0.1 $((B + 11)) listen
peak-ewma          "ewma" three  127.0.0.1 $((B + 12)) listen
source-hash        "sh"   three  127.0.0.1 $((B + 13)) listen
maglev-hash        "mg"   three  127.0.0.1 $((B + 14)) listen
\ peak-ewma with one slow backend (the python one sleeps on /slow/MS)
pool-create "ewma-slow" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 4)) 1 add-backend  peak-ewma set-algorithm
127.0.0.1 $((B + 15)) listen
2 workers handle-requests
EOF
	local j name port
	for name in least-connections:10 random-two-choices:11 peak-ewma:12; do
		port=$((B + ${name#*:}))
		name=${name%:*}
		j=$("$PY" "$HELP" load "http://127.0.0.1:$port/" 300 --conns 4)
		local min=45
		[ "$name" = peak-ewma ] && min=1	# latency-driven: only every backend used
		check "$name: 300 requests over 4 keep-alive connections all 200, every backend used (>= $min each) ($(pyval "$j" 'd["counts"]'))" \
			"$j" py "$j" "d['errors'] == 0 and sum(d['counts'].values()) == 300 and sorted(d['counts']) == ['200 b1', '200 b2', '200 b3'] and min(d['counts'].values()) >= $min"
	done
	# peak-ewma keeps away from a backend 50 ms slower than the others
	j=$("$PY" "$HELP" load "http://127.0.0.1:$((B + 15))/slow/50" 200 --conns 4)
	check "peak-ewma: a backend 50 ms slower gets under 15% of 200 requests ($(pyval "$j" 'd["counts"]'))" \
		"$j" py "$j" "d['errors'] == 0 and sum(d['counts'].values()) == 200 and d['counts'].get('200 GET /slow/50 HTTP/1.1', 0) < 30"
	for name in source-hash:13 maglev-hash:14; do
		port=$((B + ${name#*:}))
		name=${name%:*}
		j=$("$PY" "$HELP" hashmap "http://127.0.0.1:$port/" --srcs 20 --per 6)
		check "$name: 20 client addresses x 6 new connections all 200" "$j" \
			py "$j" 'd["errors"] == 0 and all(k.startswith("b") and sum(v.values()) == 6 for m in d["map"].values() for k in [*m] for v in [m])'
		check "$name: each client address always reaches the same backend" "$j" \
			py "$j" 'all(len(m) == 1 for m in d["map"].values())'
		check "$name: the 20 addresses spread over more than one backend ($(pyval "$j" 'sorted({k for m in d["map"].values() for k in m})'))" \
			"$j" py "$j" 'len({k for m in d["map"].values() for k in m}) >= 2'
	done
	end_case
}

# ======================================================================================
# 4. host-header routing with the design document's handle-http-request
# ======================================================================================
case_host_routing() {
	local B=18320
	claim $B || return
	start_afd host $((B + 10)) <<EOF || { notok "host routing: afd starts" "see above"; return; }
"api" 127.0.0.1 $((B + 1)) http-static-server
"web" 127.0.0.1 $((B + 2)) http-static-server
pool-create "api-pool" 127.0.0.1 $((B + 1)) 1 add-backend
pool-create "web-pool" 127.0.0.1 $((B + 2)) 1 add-backend

\ Main load balancing logic (the design document's word, as written there)
: handle-http-request ( packet -- action )
  dup http-parse
  host-header "api.example.com" string= if
    "api-pool"
  else
    "web-pool"
  then
  get-pool
  next-backend
  packet-redirect ;

127.0.0.1 $((B + 10)) listen
handle-requests
EOF
	local U="http://127.0.0.1:$((B + 10))/"
	check "host routing: Host: api.example.com goes to api-pool" "got: $(GET -H 'Host: api.example.com' "$U")" \
		test "$(GET -H 'Host: api.example.com' "$U")" = api
	check "host routing: Host: api.example.com:8443 (port stripped) goes to api-pool" "" \
		test "$(GET -H 'Host: api.example.com:8443' "$U")" = api
	check "host routing: Host: www.example.com goes to web-pool" "" \
		test "$(GET -H 'Host: www.example.com' "$U")" = web
	check "host routing: the default Host (127.0.0.1:port) goes to web-pool" "" test "$(GET "$U")" = web
	check "host routing: HTTP/1.0 without Host goes to web-pool" "" \
		test "$(curl -s -0 -H 'Host:' --max-time 5 "$U")" = web
	# alternate on one keep-alive connection: routing is per request, not per connection
	local out
	out=$(curl -s --max-time 5 -H 'Host: api.example.com' "$U" --next -s "$U" --next -s -H 'Host: api.example.com' "$U" | tr '\n' ' ')
	check "host routing: per request on one connection (api web api)" "got: $out" test "$out" = "api web api "
	end_case
}

# ======================================================================================
# 5. keep-alive
# ======================================================================================
case_keepalive() {
	local B=18375
	claim $B || return
	start_afd ka $((B + 10)) <<EOF || { notok "keep-alive: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 10)) listen  handle-requests
EOF
	local P=$((B + 10))
	curl -s --max-time 10 -o /dev/null -w '%{http_code} %{num_connects}\n' "http://127.0.0.1:$P/[1-50]" > "$T/ka"
	local n200 conns
	n200=$(grep -c '^200 ' "$T/ka")
	conns=$(awk '{ s += $2 } END { print s + 0 }' "$T/ka")
	check "keep-alive: 50 URLs in one curl all 200 ($n200) over one connection (connects: $conns)" \
		"$(sort "$T/ka" | uniq -c)" test "$n200" = 50 -a "$conns" = 1
	local j
	j=$("$PY" "$HELP" seq $P 'GET / HTTP/1.0\r\n\r\n')
	check "HTTP/1.0 request: 200, Connection: close, then the proxy closes" "$j" \
		py "$j" 'd["answers"][0]["status"] == 200 and ["Connection", "close"] in [[n, v.lower()] for n, v in d["answers"][0]["headers"]] and d["after"] == "eof"'
	j=$("$PY" "$HELP" seq $P 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' 'GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
	check "HTTP/1.0 with Connection: keep-alive: two answers on one connection, each says keep-alive, stays open" "$j" \
		py "$j" 'len(d["answers"]) == 2 and all(a.get("status") == 200 and ["Connection", "keep-alive"] in [[n, v.lower()] for n, v in a["headers"]] for a in d["answers"]) and d["after"] == "open"'
	j=$("$PY" "$HELP" seq $P 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	check "HTTP/1.1 with Connection: close: 200, Connection: close, then closed" "$j" \
		py "$j" 'd["answers"][0]["status"] == 200 and ["Connection", "close"] in [[n, v.lower()] for n, v in d["answers"][0]["headers"]] and d["after"] == "eof"'
	j=$("$PY" "$HELP" seq $P 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n' 'GET /2 HTTP/1.1\r\nHost: x\r\n\r\n')
	check "HTTP/1.1 default: no Connection: close, connection stays open" "$j" \
		py "$j" 'len(d["answers"]) == 2 and all(a.get("status") == 200 and "close" not in str(a["headers"]).lower() for a in d["answers"]) and d["after"] == "open"'
	local out
	out=$(curl -s --max-time 3 -o /dev/null -w '%{http_code} %{num_connects}|' -I "http://127.0.0.1:$P/" \
		--next -s -o /dev/null -w '%{http_code} %{num_connects}|' "http://127.0.0.1:$P/")
	check "HEAD then GET on one connection: both 200, the bodiless HEAD answer does not stall it ($out)" "" \
		test "$out" = "200 1|200 0|"
	# pipelining: three requests in one write, three answers in order
	j=$("$PY" "$HELP" raw $P 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	check "pipelining: three requests in one packet get three 200 answers, then close" "$j" \
		py "$j" 'd["data"].count("HTTP/1.1 200 OK") == 3 and d["end"] == "eof"'
	end_case
}

# ======================================================================================
# 6. X-Forwarded-For
# ======================================================================================
case_xff() {
	local B=18430
	claim $B || return
	start_py echo6 $((B + 1)) http $((B + 1)) "$T/echo6.log" || { notok "xff: python backend" ""; return; }
	start_py echo6b $((B + 2)) http $((B + 2)) "$T/echo6b.log" --idle-close 0.2 || { notok "xff: python backend" ""; return; }
	start_afd xff $((B + 10)) <<EOF || { notok "xff: afd starts" "see above"; return; }
pool-create "echo" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen
pool-create "short" 127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 11)) listen
1 workers handle-requests
EOF
	local U="http://127.0.0.1:$((B + 10))/xff" out
	out=$(GET "$U")
	check "X-Forwarded-For: the backend gets X-Forwarded-For: 127.0.0.1" "$out" \
		test "$(grep -ci '^x-forwarded-for:' <<< "$out")" = 1 -a "$(grep -i '^x-forwarded-for:' <<< "$out")" = "X-Forwarded-For: 127.0.0.1"
	out=$(GET -H 'X-Forwarded-For: 203.0.113.9' "$U")
	check "X-Forwarded-For: a client's value is extended (203.0.113.9, 127.0.0.1)" "$out" \
		test "$(grep -i '^x-forwarded-for:' <<< "$out")" = "X-Forwarded-For: 203.0.113.9, 127.0.0.1"
	out=$(GET --interface 127.0.0.9 "$U")
	check "X-Forwarded-For: the real client address (127.0.0.9 as source)" "$out" \
		test "$(grep -i '^x-forwarded-for:' <<< "$out")" = "X-Forwarded-For: 127.0.0.9"
	out=$(GET -H 'X-Forwarded-For: 198.51.100.1' -H 'X-Forwarded-For: 198.51.100.2' "$U")
	check "X-Forwarded-For: two client field lines are combined (198.51.100.1, 198.51.100.2, 127.0.0.1)" "$out" \
		test "$(grep -i '^x-forwarded-for:' <<< "$out" | tr '\n' '|')" = "X-Forwarded-For: 198.51.100.1, 198.51.100.2, 127.0.0.1|"
	out=$(GET -H 'Connection: keep-alive' -H 'Keep-Alive: timeout=5' -H 'X-Keep: 1' "$U")
	check "hop-by-hop headers (Connection, Keep-Alive) are not forwarded; end-to-end ones are" "$out" \
		test "$(grep -ci '^connection:\|^keep-alive:' <<< "$out")" = 0 -a "$(grep -c '^X-Keep: 1' <<< "$out")" = 1
	# a backend that closes kept-alive connections after 0.2 s idle: the proxy must not
	# hand a request to a connection the backend has closed (or must retry it)
	local i codes=""
	for i in 1 2 3 4 5; do
		codes="$codes$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$((B + 11))/idle$i") "
		sleep 0.3
	done
	check "a backend closing idle kept-alive connections (0.2 s): 5 requests 0.3 s apart all 200 ($codes)" \
		"" test "$codes" = "200 200 200 200 200 "
	end_case
}

# ======================================================================================
# 7. bodies
# ======================================================================================
case_bodies() {
	local B=18485
	claim $B || return
	start_py echo7 $((B + 1)) http $((B + 1)) "$T/echo7.log" || { notok "bodies: python backend" ""; return; }
	start_afd bodies $((B + 10)) <<EOF || { notok "bodies: afd starts" "see above"; return; }
pool-create "echo" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen  handle-requests
EOF
	local U="http://127.0.0.1:$((B + 10))" out sum
	head -c 1048576 /dev/urandom > "$T/body"
	sum=$(sha256sum < "$T/body" | cut -d' ' -f1)
	# the echo backend answers with the length and sha256 of the body it got
	local CW='\ncurl: %{http_code} after %{time_total} s, %{size_upload} bytes sent\n'
	out=$(curl -s --max-time 5 -H 'Expect:' --data-binary @"$T/body" -w "$CW" "$U/post-cl")
	check "POST 1 MiB with Content-Length: the backend gets exactly the body" "$(head -c 600 <<< "$out")" \
		test "$(grep '^body-length:' <<< "$out")|$(grep '^body-sha256:' <<< "$out")" = "body-length: 1048576|body-sha256: $sum"
	out=$(curl -s --max-time 5 -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary @"$T/body" -w "$CW" "$U/post-chunked")
	check "POST 1 MiB chunked: the backend gets exactly the body" "$(head -c 600 <<< "$out")" \
		test "$(grep '^body-length:' <<< "$out")|$(grep '^body-sha256:' <<< "$out")|$(grep -ci '^transfer-encoding: chunked' <<< "$out")" = "body-length: 1048576|body-sha256: $sum|1"
	# Expect: 100-continue: the backend's interim 100 reaches curl, which then sends the body
	out=$(curl -s --max-time 5 --expect100-timeout 4 -H 'Expect: 100-continue' --data-binary @"$T/body" -w "$CW" "$U/post-expect")
	check "POST 1 MiB with Expect: 100-continue: the 100 is relayed, exactly the body, no 1 s wait ($(grep -o 'after [0-9.]* s' <<< "$out"))" \
		"$(head -c 600 <<< "$out")" \
		test "$(grep '^body-sha256:' <<< "$out")" = "body-sha256: $sum" -a "$(awk '/^curl: / { print ($4 < 1.0) }' <<< "$out")" = 1
	# a Content-Length response of 1,000,000 bytes
	local want got
	want=$("$PY" "$HELP" gen 1000000 | sha256sum | cut -d' ' -f1)
	got=$(curl -s --max-time 5 "$U/bytes/1000000" | sha256sum | cut -d' ' -f1)
	check "Content-Length response of 1,000,000 bytes reaches curl intact" "sha256 $got, want $want" test "$got" = "$want"
	# a chunked response of 1,000,000 bytes in chunks of varying sizes, with a trailer
	got=$(curl -s --max-time 5 "$U/chunked/1000000" | sha256sum | cut -d' ' -f1)
	check "chunked response of 1,000,000 bytes reaches curl intact" "sha256 $got, want $want" test "$got" = "$want"
	# the same response to an HTTP/1.0 client, which knows no chunked coding (RFC 9112 6.1:
	# a server must not send Transfer-Encoding to it): the body must arrive plain.
	local j
	j=$("$PY" "$HELP" raw $((B + 10)) 'GET /chunked/3000 HTTP/1.0\r\n\r\n' --timeout 3)
	check "chunked response to an HTTP/1.0 client: no Transfer-Encoding, the plain body, then close" \
		"$(pyval "$j" 'repr(d["data"][:300])')" \
		py "$j" "d['status'] == 200 and 'transfer-encoding' not in d['data'].split('\r\n\r\n')[0].lower() and d['end'] == 'eof' and __import__('hashlib').sha256(d['data'].split('\r\n\r\n', 1)[1].encode('latin1')).hexdigest() == '$("$PY" "$HELP" gen 3000 | sha256sum | cut -d' ' -f1)'"
	# a body and a following request on one connection: the second is not eaten
	j=$("$PY" "$HELP" seq $((B + 10)) 'POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' 'GET /two HTTP/1.1\r\nHost: x\r\n\r\n')
	check "a POST with a body then a GET on one connection: both answered, in order" "$j" \
		py "$j" 'len(d["answers"]) == 2 and d["answers"][0]["body"].startswith("POST /one") and "body-length: 5" in d["answers"][0]["body"] and d["answers"][1]["body"].startswith("GET /two")'
	end_case
}

# ======================================================================================
# 8. errors
# ======================================================================================
case_errors() {
	local B=18540
	claim $B || return
	start_py echo8 $((B + 1)) http $((B + 1)) "$T/echo8.log" || { notok "errors: python backend" ""; return; }
	start_py garbage $((B + 2)) http $((B + 2)) "$T/garbage.log" --mode garbage || { notok "errors: python backend" ""; return; }
	start_py hang $((B + 3)) http $((B + 3)) "$T/hang.log" --mode hang || { notok "errors: python backend" ""; return; }
	# B+4 and B+5: nothing listens there
	start_afd errors $((B + 10)) <<EOF || { notok "errors: afd starts" "see above"; return; }
1000 server-timeout
pool-create "echo"    127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 10)) listen
pool-create "down"    127.0.0.1 $((B + 4)) 1 add-backend  127.0.0.1 $((B + 5)) 1 add-backend
127.0.0.1 $((B + 11)) listen
pool-create "garbage" 127.0.0.1 $((B + 2)) 1 add-backend  127.0.0.1 $((B + 12)) listen
pool-create "hang"    127.0.0.1 $((B + 3)) 1 add-backend  127.0.0.1 $((B + 13)) listen
handle-requests
EOF
	local P=$((B + 10)) j
	errcase() {	# NAME STATUS PORT REQUEST [max seconds]
		local name=$1 want=$2 port=$3 req=$4 max=${5:-3}
		j=$("$PY" "$HELP" raw "$port" "$req" --timeout 4)
		check "$name -> $want and the connection closed ($(pyval "$j" 'd["status"], d["end"], d["seconds"]'))" \
			"$(pyval "$j" '{k: (v[:200] if isinstance(v, str) else v) for k, v in d.items()}')" \
			py "$j" "d['status'] == $want and d['end'] == 'eof' and d['seconds'] <= $max"
	}
	errcase "malformed request line" 400 $P 'GET/ HTTP/1.1 nonsense\r\nHost: x\r\n\r\n'
	errcase "a request line that is not HTTP" 400 $P 'HELLO\r\n\r\n'
	errcase "a 20 KiB header" 431 $P 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: @@20480@@\r\n\r\n'
	errcase "Transfer-Encoding: gzip" 501 $P 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'
	errcase "an HTTP/2.0 request line" 505 $P 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
	errcase "all backends down (nothing listening)" 503 $((B + 11)) 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	errcase "a backend answering garbage" 502 $((B + 12)) 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	errcase "a backend that never answers, server-timeout 1000 ms: within 2 s" 504 $((B + 13)) 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' 2.0
	# curl sees the same
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $(head -c 20480 /dev/zero | tr '\0' a)" "http://127.0.0.1:$P/")
	check "a 20 KiB header from curl -> 431 ($code)" "" test "$code" = 431
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$((B + 11))/")
	check "all backends down, from curl -> 503 ($code)" "" test "$code" = 503
	# the errors did not take the proxy down: a normal request still works
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/")
	check "after the errors a normal request is still 200 ($code)" "" test "$code" = 200
	# SIGTERM with a client half-way through a head and one waiting on a silent backend:
	# afd must still exit 0 promptly (end_case checks it)
	"$PY" "$HELP" raw $P 'GET / HTTP/1.1\r\nHost: x' --timeout 8 > /dev/null &
	PIDS+=($!)
	"$PY" "$HELP" raw $((B + 13)) 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 8 > /dev/null &
	PIDS+=($!)
	sleep 0.5
	end_case
}

# ======================================================================================
# 9. request smuggling
# ======================================================================================
case_smuggling() {
	local B=18595
	claim $B || return
	start_py echo9 $((B + 1)) http $((B + 1)) "$T/echo9.log" || { notok "smuggling: python backend" ""; return; }
	start_afd smuggle $((B + 10)) tcp <<EOF || { notok "smuggling: afd starts" "see above"; return; }
pool-create "echo" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen  1 workers handle-requests
EOF
	local P=$((B + 10)) j name req
	local SM='GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
	while IFS='|' read -r name req; do
		: > "$T/echo9.log"
		j=$("$PY" "$HELP" raw $P "$req" --timeout 3)
		sleep 0.2	# anything forwarded has reached the backend's log by now
		check "smuggling, $name: 400 and the connection closed ($(pyval "$j" 'd["status"], d["end"]'))" \
			"$(pyval "$j" '{k: (v[:200] if isinstance(v, str) else v) for k, v in d.items()}')" \
			py "$j" "d['status'] == 400 and d['end'] == 'eof' and d['data'].count('HTTP/1.1') == 1"
		check "smuggling, $name: nothing of the smuggled request reaches the backend ($(wc -l < "$T/echo9.log") requests seen)" \
			"backend saw: $(tr '\n' ';' < "$T/echo9.log")" \
			test "$(grep -c smuggled "$T/echo9.log")" = 0
	done <<EOF
Content-Length and Transfer-Encoding|POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SM
two Content-Lengths|POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 45\r\n\r\nhello$SM
Content-Length: 5, 5|POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello$SM
a bad chunk size|POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n$SM
a chunk size with a sign|POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n$SM
chunk data longer than its size|POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n$SM
Transfer-Encoding with a space before the colon|POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello$SM
an obs-folded Transfer-Encoding|POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\nhello$SM
EOF
	# the head goes out before the bad chunk comes in: still 400, closed, nothing smuggled
	: > "$T/echo9.log"
	j=$("$PY" - "$P" <<'PYEOF'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /late HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
time.sleep(0.3)
s.sendall(b"zz\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
data, end, t0 = b"", "timeout", time.monotonic()
s.settimeout(3)
try:
    while True:
        d = s.recv(65536)
        if not d:
            end = "eof"; break
        data += d
except socket.timeout:
    pass
except ConnectionResetError:
    end = "reset"
print(json.dumps({"data": data.decode("latin1"), "end": end}))
PYEOF
)
	sleep 0.2
	check "smuggling, a bad chunk size after the head was forwarded: 400 and closed" "$j" \
		py "$j" 'd["data"].startswith("HTTP/1.1 400") and d["end"] == "eof"'
	check "smuggling, a bad chunk size after the head was forwarded: nothing smuggled" \
		"backend saw: $(tr '\n' ';' < "$T/echo9.log")" test "$(grep -c smuggled "$T/echo9.log")" = 0
	end_case
}

# ======================================================================================
# 10. failover
# ======================================================================================
case_failover() {
	local B=18650
	claim $B || return
	start_afd ext $((B + 3)) <<EOF || { notok "failover: the separate backend afd starts" "see above"; return; }
"b3" 127.0.0.1 $((B + 3)) http-static-server
1 workers handle-requests
EOF
	local EXT=$LAST
	start_afd failover $((B + 10)) <<EOF || { notok "failover: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 3)) 1 add-backend
127.0.0.1 $((B + 10)) listen  1 workers  handle-requests
EOF
	local U="http://127.0.0.1:$((B + 10))/"
	GET "$U[1-30]" > "$T/fo0"
	local c; c=$(counts "$T/fo0")
	check "failover: before the kill, all 3 backends serve ($c)" "" test "$c" = "b1=10 b2=10 b3=10"
	kill -KILL "$EXT"
	wait "$EXT" 2>/dev/null
	CASE_PIDS=("${CASE_PIDS[@]/$EXT:afd:ext/}")	# killed on purpose
	local j
	j=$("$PY" "$HELP" load "$U" 100 --conns 1 --new)
	check "failover: after killing b3, 100 requests on new connections all 200 ($(pyval "$j" 'd["counts"]'))" "$j" \
		py "$j" 'd["errors"] == 0 and sum(d["counts"].values()) == 100 and sorted(d["counts"]) == ["200 b1", "200 b2"]'
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$U[1-100]" > "$T/fo1"
	check "failover: and 100 on one keep-alive connection all 200 ($(grep -c '^200$' "$T/fo1"))" \
		"$(sort "$T/fo1" | uniq -c)" test "$(grep -c '^200$' "$T/fo1")" = 100
	j=$("$PY" "$HELP" load "$U" 200 --conns 20)
	check "failover: and 200 from 20 concurrent clients all 200" "$j" \
		py "$j" 'd["errors"] == 0 and sum(d["counts"].values()) == 200 and sorted(d["counts"]) == ["200 b1", "200 b2"]'
	end_case
}

# ======================================================================================
# 11. slowloris
# ======================================================================================
case_slowloris() {
	local B=18705
	claim $B || return
	start_afd slow $((B + 10)) <<EOF || { notok "slowloris: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
2000 client-timeout
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen  handle-requests
EOF
	"$PY" "$HELP" slowloris $((B + 10)) 50 --interval 0.2 --duration 4.5 > "$T/slowloris" &
	local SL=$!
	PIDS+=("$SL")
	sleep 0.3
	local i t worst=0 bad=0
	for i in $(seq 20); do
		t=$(curl -s -o "$T/sl-body" -w '%{http_code} %{time_total}' --max-time 2 "http://127.0.0.1:$((B + 10))/")
		[ "${t% *}" = 200 ] && [ "$(cat "$T/sl-body")" = b1 ] || bad=$((bad + 1))
		worst=$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { print (b > a ? b : a) }')
		sleep 0.1
	done
	check "slowloris: 20 normal requests during the attack all 200 (slowest ${worst}s, limit 0.5s)" "$bad failed" \
		test $bad = 0 -a "$(awk -v w="$worst" 'BEGIN { print (w < 0.5) }')" = 1
	for _ in $(seq 80); do alive $SL || break; sleep 0.1; done
	local j; j=$(cat "$T/slowloris")
	check "slowloris: client-timeout 2000 ms closes all 50 slow connections within 3 s ($(pyval "$j" 'd["closed"], d["last"], d["answers"]'))" \
		"$j" py "$j" 'd["closed"] == 50 and d["last"] <= 3.0 and set(d["answers"]) <= {"408", "none"}'
	end_case
}

# ======================================================================================
# 12. concurrency
# ======================================================================================
case_concurrency() {
	local B=18760
	claim $B || return
	start_afd conc $((B + 10)) <<EOF || { notok "concurrency: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
"b3" 127.0.0.1 $((B + 3)) http-static-server
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 3)) 1 add-backend
127.0.0.1 $((B + 10)) listen  handle-requests
EOF
	local j
	j=$("$PY" "$HELP" load "http://127.0.0.1:$((B + 10))/" 3000 --conns 300 --deadline 30)
	check "concurrency: 300 keep-alive clients x 10 requests all 200 ($(pyval "$j" 'd["counts"], d["errors"], d["max_latency"]'))" \
		"$j" py "$j" 'd["errors"] == 0 and sum(d["counts"].values()) == 3000 and all(k.startswith("200 b") for k in d["counts"])'
	seq 3000 | sed "s|.*|url = \"http://127.0.0.1:$((B + 10))/&\"|" > "$T/urls"
	curl -s --max-time 30 --parallel --parallel-max 300 -K "$T/urls" -o /dev/null -w '%{http_code}\n' > "$T/par" 2>/dev/null
	check "concurrency: curl --parallel-max 300, 3000 requests all 200 ($(grep -c '^200$' "$T/par"))" \
		"$(sort "$T/par" | uniq -c | head)" test "$(grep -c '^200$' "$T/par")" = 3000
	if command -v wrk > /dev/null; then
		wrk -t2 -c100 -d5s --timeout 2s "http://127.0.0.1:$((B + 10))/" > "$T/wrk" 2>&1
		local reqs; reqs=$(awk '/requests in/ { print $1 }' "$T/wrk")
		check "wrk 5 s at 100 connections: no socket errors, no non-2xx ($reqs requests, $(awk '/Requests\/sec/ { print $2 }' "$T/wrk") req/s)" \
			"$(cat "$T/wrk")" test -n "$reqs" -a "${reqs:-0}" -gt 0 -a "$(grep -c 'Socket errors\|Non-2xx' "$T/wrk")" = 0
	else
		note "wrk not installed: skipped the wrk run"
	fi
	end_case
}

# ======================================================================================
# 13. L4
# ======================================================================================
case_l4() {
	local B=18815
	claim $B || return
	start_py tcp1 $((B + 1)) tcp $((B + 1)) --mode store --tag one || { notok "l4: python backend" ""; return; }
	start_py tcp2 $((B + 2)) tcp $((B + 2)) --mode store --tag two || { notok "l4: python backend" ""; return; }
	start_py tcp3 $((B + 3)) tcp $((B + 3)) --mode echo || { notok "l4: python backend" ""; return; }
	start_py tcp4 $((B + 4)) tcp $((B + 4)) --mode echo || { notok "l4: python backend" ""; return; }
	start_afd l4 $((B + 10)) tcp <<EOF || { notok "l4: afd starts" "see above"; return; }
pool-create "store" 127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
127.0.0.1 $((B + 10)) listen tcp-mode
pool-create "echo" 127.0.0.1 $((B + 3)) 1 add-backend  127.0.0.1 $((B + 4)) 1 add-backend
127.0.0.1 $((B + 11)) listen tcp-mode
1 workers handle-requests
EOF
	local j tags=""
	for _ in 1 2; do
		j=$("$PY" "$HELP" relay $((B + 10)) 1048576 --mode store --tagged)
		check "L4: 1 MiB out, half-close, the backend answers after EOF: byte-exact ($(pyval "$j" 'd["received"], d["tag"], d["seconds"]'))" \
			"$j" py "$j" 'd["exact"] and d["eof"] and not d["errors"]'
		tags="$tags $(pyval "$j" 'd["tag"]')"
	done
	check "L4: two connections went to the two backends (round-robin:$tags)" "" test "$tags" = " one two" -o "$tags" = " two one"
	j=$("$PY" "$HELP" relay $((B + 11)) 1048576 --mode echo)
	check "L4: 1 MiB streamed to an echo backend comes back byte-exact, then EOF ($(pyval "$j" 'd["received"], d["seconds"]'))" \
		"$j" py "$j" 'd["exact"] and d["eof"] and not d["errors"]'
	# several at once
	local k ok8=1 rp=()
	for k in $(seq 8); do
		"$PY" "$HELP" relay $((B + 11)) 262144 --mode echo --timeout 10 > "$T/relay$k" &
		rp+=($!)
		PIDS+=($!)
	done
	wait "${rp[@]}"	# bounded: each relay gives up after 10 s
	for k in $(seq 8); do py "$(cat "$T/relay$k")" 'd["exact"] and d["eof"]' || ok8=0; done
	check "L4: 8 concurrent relays of 256 KiB all byte-exact" "$(cat "$T"/relay*)" test $ok8 = 1
	# a client that connects, sends nothing and closes: the backend connection ends too
	j=$("$PY" "$HELP" raw $((B + 11)) '' --shut --timeout 3)
	check "L4: an empty stream with half-close gets EOF back" "$j" py "$j" 'd["end"] == "eof" and d["data"] == ""'
	end_case
}

# ======================================================================================
# 14. the demo
# ======================================================================================
case_demo() {
	local busy
	busy=$("$PY" "$HELP" ports-free 18099 18099) || { notok "demo: port 18099 is free" "$(ss -ltnp | grep ':18099 ')"; return; }
	AFD_PORT=18099 "$AFD" --demo > "$T/demo.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	CASE_PIDS+=("$LAST:afd:demo")
	wait_http 18099 || { notok "demo: AFD_PORT=18099 afd --demo serves" "$(cat "$T/demo.log")"; end_case; return; }
	local out
	out=$(GET "http://127.0.0.1:18099/[1-6]" | tr '\n' '|')
	check "demo: AFD_PORT=18099 ./afd --demo alternates backend one / backend two ($out)" "" \
		test "$out" = "backend one|backend two|backend one|backend two|backend one|backend two|" -o \
		"$out" = "backend two|backend one|backend two|backend one|backend two|backend one|"
	end_case
}

# ======================================================================================
# 15. bad configurations
# ======================================================================================
case_bad_config() {
	local B=18870 f rc err
	claim $B || return
	badcfg() {	# NAME WHAT < config
		local name=$1 what=$2
		cat > "$T/$name.fs"
		timeout 5 "$AFD" "$T/$name.fs" > "$T/$name.out" 2> "$T/$name.err" &
		local p=$!
		PIDS+=("$p")
		sleep 0.3
		local listening=0
		(exec 3<>"/dev/tcp/127.0.0.1/$((B + 1))") 2>/dev/null && listening=1
		(exec 3<>"/dev/tcp/127.0.0.1/$((B + 10))") 2>/dev/null && listening=1
		wait $p
		rc=$?
		err=$(cat "$T/$name.err")
		check "bad config, $what: exits non-zero (status $rc)" "$err" test $rc -ne 0 -a $rc -ne 124
		check "bad config, $what: a file:line:col: error: line" "stderr: $err" \
			grep -qE "^[^ ]*$name\.fs:[0-9]+:[0-9]+: error: " "$T/$name.err"
		check "bad config, $what: listens on nothing" "" test $listening = 0
	}
	badcfg bad1 "add-backend before pool-create" <<EOF
"b1" 127.0.0.1 $((B + 1)) http-static-server
127.0.0.1 $((B + 1)) 1 add-backend
pool-create "p" 127.0.0.1 $((B + 10)) listen
handle-requests
EOF
	grep -q "bad1\.fs:2:" "$T/bad1.err" && ok "bad config, add-backend before pool-create: the error is on line 2" \
		|| notok "bad config, add-backend before pool-create: the error is on line 2" "$(cat "$T/bad1.err")"
	badcfg bad2 "malformed IP 300.1.1.1" <<EOF
"b1" 127.0.0.1 $((B + 1)) http-static-server
pool-create "p"
300.1.1.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen  handle-requests
EOF
	grep -q "bad2\.fs:3:1: error" "$T/bad2.err" && ok "bad config, malformed IP: the error is at 3:1" \
		|| notok "bad config, malformed IP: the error is at 3:1" "$(cat "$T/bad2.err")"
	# a port that is taken (by a listener without SO_REUSEPORT): exit non-zero, say why
	start_py taken $((B + 20)) tcp $((B + 20)) --mode echo || { notok "bad config: python listener" ""; return; }
	cat > "$T/bad3.fs" <<EOF
"b1" 127.0.0.1 $((B + 1)) http-static-server
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 20)) listen  handle-requests
EOF
	timeout 5 "$AFD" "$T/bad3.fs" > /dev/null 2> "$T/bad3.err"
	rc=$?
	check "bad config, listening port already taken: exits non-zero (status $rc) with a message" \
		"stderr: $(cat "$T/bad3.err")" test $rc -ne 0 -a $rc -ne 124 -a -s "$T/bad3.err"
	end_case
}

# ======================================================================================
# 16. hash keys chosen by the configuration: a header, a cookie
# ======================================================================================
case_hash_keys() {
	local B=18040
	claim $B || return
	start_afd hashkeys $((B + 10)) <<EOF || { notok "hash keys: afd starts" "see above"; return; }
"b1" 127.0.0.1 $((B + 1)) http-static-server
"b2" 127.0.0.1 $((B + 2)) http-static-server
"b3" 127.0.0.1 $((B + 3)) http-static-server
: three  127.0.0.1 $((B + 1)) 1 add-backend  127.0.0.1 $((B + 2)) 1 add-backend
  127.0.0.1 $((B + 3)) 1 add-backend ;
pool-create "m" three  maglev-hash set-algorithm  "X-User" hash-by-header
127.0.0.1 $((B + 10)) listen
pool-create "s" three  source-hash set-algorithm  "sid" hash-by-cookie
127.0.0.1 $((B + 11)) listen
2 workers handle-requests
EOF
	local u i first same=1 spread
	for u in alice bob carol dave erin frank; do
		first=$(GET -H "X-User: $u" "http://127.0.0.1:$((B + 10))/")
		for i in 1 2 3 4; do
			[ "$(GET -H "X-User: $u" "http://127.0.0.1:$((B + 10))/")" = "$first" ] || same=0
		done
		echo "$first"
	done > "$T/hk-header"
	spread=$(sort -u "$T/hk-header" | wc -l)
	check "maglev-hash by header X-User: each user always reaches one backend, users spread ($spread backends)" \
		"$(tr '\n' ' ' < "$T/hk-header")" test "$same" = 1 -a "$spread" -ge 2
	same=1
	for u in 1 2 3 4 5 6; do
		first=$(GET -b "theme=dark; sid=s$u" "http://127.0.0.1:$((B + 11))/")
		for i in 1 2 3; do
			[ "$(GET -b "sid=s$u" "http://127.0.0.1:$((B + 11))/")" = "$first" ] || same=0
		done
		echo "$first"
	done > "$T/hk-cookie"
	spread=$(sort -u "$T/hk-cookie" | wc -l)
	check "source-hash by cookie sid: each session sticks to one backend, sessions spread ($spread backends)" \
		"$(tr '\n' ' ' < "$T/hk-cookie")" test "$same" = 1 -a "$spread" -ge 2
	end_case
}

# ======================================================================================
# 17. SIGTERM drains: in-flight requests finish (Connection: close), then afd exits 0
# ======================================================================================
case_drain() {
	local B=18070
	claim $B || return
	start_py slow $((B + 1)) http $((B + 1)) "$T/drain-slow.log" || { notok "drain: python backend" ""; return; }
	start_afd drain $((B + 10)) <<EOF || { notok "drain: afd starts" "see above"; return; }
pool-create "p" 127.0.0.1 $((B + 1)) 1 add-backend
127.0.0.1 $((B + 10)) listen  2 workers  5000 drain-timeout  handle-requests
EOF
	local pid=$LAST
	( curl -s -i --max-time 5 "http://127.0.0.1:$((B + 10))/slow/1200" > "$T/drain.out"; echo "rc=$?" >> "$T/drain.out" ) &
	local cpid=$!
	sleep 0.3
	local t0=$(date +%s.%N)
	kill -TERM "$pid"
	wait "$pid"
	local rc=$? secs
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	wait "$cpid"
	check "drain: afd exits 0 once the request in flight is answered ($secs s)" "rc $rc" \
		test "$rc" = 0
	check "drain: the request in flight gets its whole answer, with Connection: close" \
		"$(head -c 300 "$T/drain.out")" \
		test "$(grep -c '^HTTP/1.1 200\|^Connection: close\|^rc=0' "$T/drain.out")" = 3
	CASE_PIDS=("${CASE_PIDS[@]/$pid:*/}")	# it has exited: end_case must not wait for it
	end_case
}

# ======================================================================================
TIMES=""
ALL="round_robin wrr algorithms host_routing keepalive xff bodies errors smuggling failover
     slowloris concurrency l4 demo bad_config hash_keys drain"
for c in ${ONLY:-$ALL}; do
	t=$(date +%s.%N)
	"case_$c"
	end_case
	TIMES="$TIMES $c=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
done
echo "# case times (s):$TIMES"
if [ ${#AFD_BAD[@]} = 0 ]; then
	ok "every afd exited with status 0 on SIGTERM"
else
	notok "every afd exited with status 0 on SIGTERM" "${AFD_BAD[@]}"
fi
echo "# run time: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
