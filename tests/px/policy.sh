#!/usr/bin/env bash
# tests/px/policy.sh: the proxy's policies against the real binary: geo routing (a CIDR
# table and a MaxMind database), rate limits per client (a listener's own, and a routing
# word's with http-respond), access lists (403, close at accept), circuit breakers in the
# data path, backend-send from a script, the policy metrics.
#   usage: bash tests/px/policy.sh ./afd
# Clients have their own loopback addresses (curl --interface 127.0.0.x: all of 127/8 is
# lo). Loopback only, ports 19000-19199 (19199 is never listened on: a backend that refuses);
# bounded loads; only the processes started here are stopped, by their PID. Prints
# "ok - ..." / "not ok - ..." / "SKIP - ...", then "N passed, N failed".
set -u

AFD=$(readlink -f "${1:-./afd}")
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
T=$(mktemp -d /tmp/afd-policy.XXXXXX)
PIDS=()
. tests/px/lib.sh
[ -x build/tools/promtool ] && PATH="$PWD/build/tools:$PATH"

# is NAME WANT GOT
is() { if [ "$2" == "$3" ]; then ok "$1"; else notok "$1" "want: $2" "got:  $3"; fi; }

# start NAME PORT < config: afd on it, waiting until PORT accepts; LAST is its PID
start() {
	cat > "$T/$1.fs"
	"$AFD" "$T/$1.fs" > "$T/$1.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	wait_tcp "$2" && return 0
	notok "$1: afd starts" "$(cat "$T/$1.log")"
	return 1
}

# stop PID: SIGTERM, wait (bounded)
stop() {
	local i
	alive "$1" && kill -TERM "$1" 2>/dev/null
	for i in $(seq 60); do alive "$1" || break; sleep 0.05; done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# from ADDR URL [curl args]: the body, from that source address; code: the status
from() { local a=$1; shift; curl -s --max-time 5 --interface "$a" "$@"; }
code() { local a=$1; shift; curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$a" "$@"; }
# metric PORT 'NAME{LABELS}': its value in a scrape, or "none"
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
		awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? "none" : v }'
}

# ---- 1. geo-route over a CIDR table (examples/geo-proxy.forth: ports 19010-19015) ----
"$AFD" examples/geo-proxy.forth > "$T/geo.log" 2>&1 &
P=$!
PIDS+=("$P")
if wait_tcp 19010; then
	got=""
	for i in 2 3 4 5 1; do got="$got $(from 127.0.0.$i http://127.0.0.1:19010/)"; done
	is "geo-route: clients of US-EAST, US-WEST, EU, ASIA and none reach their pools" \
		" us-east us-west eu asia default" "$got"
else
	notok "geo-proxy starts" "$(cat "$T/geo.log")"
fi
stop "$P"

# ---- 2. geoip-lookup from a MaxMind database (libmaxminddb), the table first ----
python3 tests/px/mkmmdb.py "$T/t.mmdb" 127.0.0.0/24=DE:EU 127.0.0.8/29=US:NA 127.0.0.9=JP:AS
out=$("$AFD" examples/advanced-routing.forth -e "
\"$T/t.mmdb\" geoip-mmdb
127.0.0.4 geoip-lookup type space 127.0.0.10 geoip-lookup type space
127.0.0.9 geoip-lookup type space 127.0.1.1 geoip-lookup nip .
\"continent/code\" geoip-mmdb-field
127.0.0.4 geoip-lookup type space 127.0.0.10 geoip-lookup type space
127.0.0.5 geo-route type space
127.0.0.4 32 \"ASIA\" geo-add 127.0.0.4 geo-route type bye" 2>&1)
is "geoip-mmdb: country/iso_code, continent/code, none; the CIDR table wins over it" \
	"DE US JP 0 EU NA eu-pool asia-pool" "$out"
out=$("$AFD" -e "\"$T/none.mmdb\" geoip-mmdb" 2>&1)
case $out in
*"error: geoip-mmdb: non-existent file: $T/none.mmdb"*) ok "geoip-mmdb: a missing file is an error naming it" ;;
*) notok "geoip-mmdb: a missing file is an error naming it" "$out" ;;
esac
printf 'not a database' > "$T/bad.mmdb"
out=$("$AFD" -e "\"$T/bad.mmdb\" geoip-mmdb" 2>&1)
case $out in
*"error: geoip-mmdb:"*"bad.mmdb"*) ok "geoip-mmdb: a file that is no database is an error" ;;
*) notok "geoip-mmdb: a file that is no database is an error" "$out" ;;
esac

# geo routing of live requests from the database
if start mmdb 19020 <<CONF
s" $ROOT/examples/advanced-routing.forth" included
"eu" 127.0.0.1 19021 http-static-server
"default" 127.0.0.1 19022 http-static-server
pool-create "eu-pool" 127.0.0.1 19021 1 add-backend
pool-create "default-pool" 127.0.0.1 19022 1 add-backend
"$T/t.mmdb" geoip-mmdb "continent/code" geoip-mmdb-field
: handle-http-request ( packet -- action ) client-ip geo-route get-pool packet-redirect ;
127.0.0.1 19020 listen 2 workers handle-requests
CONF
then
	is "geo-route over geoip-mmdb: an EU client and a NA client" "eu default" \
		"$(from 127.0.0.5 http://127.0.0.1:19020/) $(from 127.0.0.10 http://127.0.0.1:19020/)"
	stop "$LAST"
fi

# ---- 3. a listener's rate limit: 429 with Retry-After, per client, across 4 workers ----
if start rate 19030 <<'CONF'
"ok" 127.0.0.1 19031 http-static-server
pool-create "web" 127.0.0.1 19031 1 add-backend
1 3 rate-limit                  \ 1 a second, 3 at once
127.0.0.1 19030 listen rate-limit-requests
127.0.0.1 19032 metrics-listen
4 workers handle-requests
CONF
then
	codes=""
	for i in $(seq 8); do codes="$codes $(code 127.0.0.20 http://127.0.0.1:19030/)"; done
	is "rate-limit-requests: a client's 8 requests (new connections, 4 workers): 3 pass" \
		" 200 200 200 429 429 429 429 429" "$codes"
	head=$(curl -s -i --max-time 5 --interface 127.0.0.20 http://127.0.0.1:19030/ | tr -d '\r')
	case $head in
	"HTTP/1.1 429 Too Many Requests"*"Retry-After: 1"*) ok "429 carries Retry-After" ;;
	*) notok "429 carries Retry-After" "$head" ;;
	esac
	is "another client has its own bucket" "200" "$(code 127.0.0.21 http://127.0.0.1:19030/)"
	is "afd_ratelimit_rejected_total counts the 429s" "6" "$(metric 19032 afd_ratelimit_rejected_total)"
	sleep 1.2
	is "a second later the client has a token again" "200 429" \
		"$(code 127.0.0.20 http://127.0.0.1:19030/) $(code 127.0.0.20 http://127.0.0.1:19030/)"
	stop "$LAST"
fi

# ---- 4. a routing word's answers: rate-limit-check, http-respond; backend-send: 500 ----
if start route 19040 <<CONF
s" $ROOT/examples/advanced-routing.forth" included
"ok" 127.0.0.1 19041 http-static-server
pool-create "web" 127.0.0.1 19041 1 add-backend
1 2 rate-limit
: handle-http-request ( packet -- action )
  http-path "/admin" string= if 403 http-respond exit then
  http-path "/send" string= if "web" get-pool next-backend "/" http-get backend-send exit then
  client-ip rate-limit-check if drop 0 else 429 http-respond then ;
127.0.0.1 19040 listen 2 workers handle-requests
CONF
then
	codes=""
	for i in 1 2 3 4; do codes="$codes $(code 127.0.0.22 http://127.0.0.1:19040/)"; done
	is "rate-limit-check in handle-http-request: 2 pass, then http-respond 429" \
		" 200 200 429 429" "$codes"
	is "http-respond 403 from the routing word" "403" "$(code 127.0.0.23 http://127.0.0.1:19040/admin)"
	is "backend-send in a worker's routing word throws (-21): 500" "500" \
		"$(code 127.0.0.24 http://127.0.0.1:19040/send)"
	stop "$LAST"
fi

# ---- 5. access lists: 403, or closed at accept ----
cat > "$T/deny.txt" <<'LIST'
# clients refused by tests/px/policy.sh
127.0.0.30/31     # .30 and .31
10.0.0.0/8        # table data only
LIST
if start acl 19050 <<CONF
"ok" 127.0.0.1 19052 http-static-server
pool-create "web" 127.0.0.1 19052 1 add-backend
"$T/deny.txt" blacklist-load
127.0.0.1 19050 listen blacklist-reject
127.0.0.1 19051 listen blacklist-close
127.0.0.1 19053 metrics-listen
2 workers handle-requests
CONF
then
	is "blacklist-reject: a listed client gets 403, another 200" "403 200" \
		"$(code 127.0.0.30 http://127.0.0.1:19050/) $(code 127.0.0.32 http://127.0.0.1:19050/)"
	curl -s -o /dev/null --max-time 5 --interface 127.0.0.31 http://127.0.0.1:19051/
	rc=$?
	if [ $rc = 52 ] || [ $rc = 56 ]; then ok "blacklist-close: a listed client's connection is closed (curl $rc)"
	else notok "blacklist-close: a listed client's connection is closed" "curl exit status $rc"; fi
	is "blacklist-close: another client is served" "ok" "$(from 127.0.0.32 http://127.0.0.1:19051/)"
	is "afd_acl_denied_total by action" "1 1" \
		"$(metric 19053 'afd_acl_denied_total{action="403"}') $(metric 19053 'afd_acl_denied_total{action="close"}')"
	stop "$LAST"
fi
printf '127.0.0.0/8\n10.0.0.0/33\n' > "$T/deny-bad.txt"
printf '"%s" blacklist-load\nhandle-requests\n' "$T/deny-bad.txt" > "$T/bad-conf.fs"
out=$("$AFD" --check "$T/bad-conf.fs" 2>&1)
rc=$?
case "$rc $out" in
[1-9]*"bad-conf.fs:1:"*"error: blacklist-load: invalid CIDR literal"*"deny-bad.txt:2: expected a.b.c.d/len"*)
	ok "a bad access list file: an error naming the file and line" ;;
*) notok "a bad access list file: an error naming the file and line" "status $rc: $out" ;;
esac

# ---- 6. circuit breaker in the data path ----
BE='backend="127.0.0.1:19062"'
state() { metric 19069 "afd_backend_circuit_state{pool=\"web\",$BE}"; }
reqs() { metric 19069 "afd_backend_requests_total{pool=\"web\",$BE}"; }
if start cb 19060 <<'CONF'
"alive" 127.0.0.1 19061 http-static-server
pool-create "web" 127.0.0.1 19061 1 add-backend 127.0.0.1 19062 1 add-backend
2 circuit-breaker-threshold 1500 circuit-breaker-timeout 1 circuit-breaker-probes
127.0.0.1 19060 listen
127.0.0.1 19069 metrics-listen
1 workers handle-requests
CONF
then
	CBP=$LAST
	got=""
	for i in $(seq 6); do got="$got $(from 127.0.0.40 http://127.0.0.1:19060/)"; done
	is "a refusing backend: requests are retried on the other" " alive alive alive alive alive alive" "$got"
	is "its breaker opened (afd_backend_circuit_state 1)" "1" "$(state)"
	n1=$(reqs)
	for i in $(seq 6); do from 127.0.0.40 http://127.0.0.1:19060/ > /dev/null; done
	is "an open backend gets no requests (the picker skips it)" "$n1" "$(reqs)"
	sleep 1.6
	is "after the open timeout: half-open (2)" "2" "$(state)"
	for i in $(seq 4); do from 127.0.0.40 http://127.0.0.1:19060/ > /dev/null; done
	is "half-open lets one probe through; it fails: open again" "$((n1 + 1)) 1" "$(reqs) $(state)"
	if start revived 19062 <<'CONF'
"revived" 127.0.0.1 19062 http-static-server
1 workers handle-requests
CONF
	then
		RP=$LAST
		sleep 1.6
		got=""
		for i in $(seq 4); do got="$got $(from 127.0.0.40 http://127.0.0.1:19060/)"; done
		case $got in
		*revived*alive*|*alive*revived*) ok "the backend is back: its probe succeeds, requests reach it" ;;
		*) notok "the backend is back: its probe succeeds, requests reach it" "got:$got" ;;
		esac
		is "closed again (0), and it opened twice" "0 2" \
			"$(state) $(metric 19069 "afd_backend_circuit_opens_total{pool=\"web\",$BE}")"
		is "the event log says when it opened and closed" \
			"open|open again (a half-open probe failed)|closed" \
			"$(grep -o 'web/127.0.0.1:19062 circuit breaker .*' "$T/cb.log" | cut -d' ' -f4- | paste -sd'|')"
		stop "$RP"
	fi
	curl -s --max-time 5 -o "$T/scrape" http://127.0.0.1:19069/metrics
	if command -v promtool > /dev/null; then
		if out=$(promtool check metrics < "$T/scrape" 2>&1); then ok "promtool check metrics: the policy families pass"
		else notok "promtool check metrics: the policy families pass" "$out"; fi
	else
		skip "promtool check metrics" "no promtool: scripts/deps.sh test fetches it (as root)"
	fi
	stop "$CBP"
fi

# ---- 7. backend-with-breaker (the design document's sample) from a script ----
if start sendto 19071 <<'CONF'
"hello from 19071" 127.0.0.1 19071 http-static-server
1 workers handle-requests
CONF
then
	out=$(timeout 20 "$AFD" examples/advanced-routing.forth -e '
pool-create "svc" 127.0.0.1 19071 1 add-backend 127.0.0.1 19199 1 add-backend
2 circuit-breaker-threshold 60000 circuit-breaker-timeout
: up ( -- backend ) "svc" get-pool each-backend nip ;
: down ( -- backend ) "svc" get-pool each-backend drop each-backend nip ;
up "/" http-get backend-with-breaker dup response-status . response-body type
up circuit-breaker-state@ .
down "/" http-get backend-with-breaker error-message type space
down "/" http-get backend-with-breaker error-message type space
down circuit-breaker-state@ .
down "/" http-get backend-with-breaker error-message type space depth . bye' 2>&1)
	is "backend-with-breaker: a response, then failures open the breaker" \
		"200 hello from 19071
0 connect failed connect failed 1 Service Unavailable 0 " "$out"
	stop "$LAST"
fi

# ---- 8. 5xx answers open a breaker with circuit-breaker-5xx; backend-send de-chunks ----
PY=$(python3 -c 'import sys; print(sys.executable)')
"$PY" tests/px/pxhelp.py http 19081 "$T/py.log" > "$T/py.out" 2>&1 &
PYP=$!
PIDS+=("$PYP")
if wait_tcp 19081 && start five 19080 <<'CONF'
pool-create "web" 127.0.0.1 19081 1 add-backend
1 circuit-breaker-threshold circuit-breaker-5xx 60000 circuit-breaker-timeout
127.0.0.1 19080 listen
127.0.0.1 19089 metrics-listen
1 workers handle-requests
CONF
then
	is "a 503 of the backend passes through and opens its breaker; the next request gets AFD's 503, the backend never sees it" \
		"503 1 503 1 0" "$(code 127.0.0.50 http://127.0.0.1:19080/status/503) $(metric 19089 \
		'afd_backend_circuit_state{pool="web",backend="127.0.0.1:19081"}') $(code 127.0.0.50 \
		http://127.0.0.1:19080/) $(grep -c 'GET /status/503 ' "$T/py.log") $(grep -c 'GET / ' "$T/py.log")"
	stop "$LAST"
	out=$(timeout 20 "$AFD" -e '
pool-create "svc" 127.0.0.1 19081 1 add-backend
: be ( -- backend ) "svc" get-pool each-backend nip ;
be "/chunked/3000" http-get backend-send dup response-status . response-body nip .
be "/status/502" http-get backend-send dup error? . error-message type bye' 2>&1)
	is "backend-send: a chunked body de-chunked; a 5xx answer is an error" \
		"200 3000 -1 backend answered 502" "$out"
fi
stop "$PYP"

# ---- 9. a TCP listener: the access list and the rate limit act at accept ----
if start l4 19090 <<'CONF'
"tcp-ok" 127.0.0.1 19091 http-static-server
pool-create "web" 127.0.0.1 19091 1 add-backend
127.0.0.60/32 blacklist-add 1 2 rate-limit
127.0.0.1 19090 listen tcp-mode blacklist-reject rate-limit-requests
2 workers handle-requests
CONF
then
	curl -s -o /dev/null --max-time 5 --interface 127.0.0.60 http://127.0.0.1:19090/
	rc=$?
	got="$rc $(from 127.0.0.61 http://127.0.0.1:19090/) $(from 127.0.0.61 http://127.0.0.1:19090/)"
	curl -s -o /dev/null --max-time 5 --interface 127.0.0.61 http://127.0.0.1:19090/
	got="$got $?"
	case $got in
	5[26]" tcp-ok tcp-ok "5[26]) ok "tcp-mode: a listed client closed; 2 connections a client, the third closed" ;;
	*) notok "tcp-mode: a listed client closed; 2 connections a client, the third closed" "got: $got" ;;
	esac
	stop "$LAST"
fi

# ---- 10. a reload (SIGHUP): breakers and buckets carry over, lists are read again ----
printf '127.0.0.72\n' > "$T/reload-deny.txt"
if start reload 19100 <<CONF
"alive" 127.0.0.1 19101 http-static-server
pool-create "web" 127.0.0.1 19101 1 add-backend 127.0.0.1 19199 1 add-backend
1 circuit-breaker-threshold 60000 circuit-breaker-timeout
1 20 rate-limit
"$T/reload-deny.txt" blacklist-load
127.0.0.1 19100 listen rate-limit-requests blacklist-reject
127.0.0.1 19109 metrics-listen
1 workers handle-requests
CONF
then
	RL=$LAST
	for i in $(seq 20); do code 127.0.0.70 http://127.0.0.1:19100/ > /dev/null; done
	before="$(code 127.0.0.72 http://127.0.0.1:19100/) $(code 127.0.0.73 http://127.0.0.1:19100/)"
	printf '127.0.0.73\n' > "$T/reload-deny.txt"
	kill -HUP "$RL"
	for i in $(seq 40); do grep -q "generation 2" "$T/reload.log" && break; sleep 0.05; done
	after="$(code 127.0.0.72 http://127.0.0.1:19100/) $(code 127.0.0.73 http://127.0.0.1:19100/)"
	is "reload: the access list file is read again" "403 200 200 403" "$before $after"
	codes=""
	for i in 1 2 3; do codes="$codes $(code 127.0.0.70 http://127.0.0.1:19100/)"; done
	case $codes in
	*429*) ok "reload: a client's bucket is kept (its 20 tokens are not given back:$codes)" ;;
	*) notok "reload: a client's bucket is kept" "got:$codes" "$(tail -5 "$T/reload.log")" ;;
	esac
	is "reload: the open breaker stays open" "1" \
		"$(metric 19109 'afd_backend_circuit_state{pool="web",backend="127.0.0.1:19199"}')"
	is "reload: the policy counters go on (403s: one before, one after)" "2" \
		"$(metric 19109 'afd_acl_denied_total{action="403"}')"
	stop "$RL"
fi

# ---- 11. the breaker with a routing word that picks (next-backend): the probe goes through ----
if start cbroute 19120 <<'CONF'
"alive" 127.0.0.1 19121 http-static-server
pool-create "web" 127.0.0.1 19121 1 add-backend 127.0.0.1 19122 1 add-backend
1 circuit-breaker-threshold 1000 circuit-breaker-timeout
: handle-http-request ( packet -- action ) "web" get-pool next-backend packet-redirect ;
127.0.0.1 19120 listen
127.0.0.1 19129 metrics-listen
1 workers handle-requests
CONF
then
	CRP=$LAST
	for i in 1 2 3; do from 127.0.0.80 http://127.0.0.1:19120/ > /dev/null; done
	s1=$(metric 19129 'afd_backend_circuit_state{pool="web",backend="127.0.0.1:19122"}')
	if start revived2 19122 <<'CONF'
"revived" 127.0.0.1 19122 http-static-server
1 workers handle-requests
CONF
	then
		sleep 1.1
		got=""
		for i in $(seq 4); do got="$got $(from 127.0.0.80 http://127.0.0.1:19120/)"; done
		s2=$(metric 19129 'afd_backend_circuit_state{pool="web",backend="127.0.0.1:19122"}')
		case "$s1 $s2 $got" in
		"1 0 "*revived*) ok "routing word: the half-open probe picked by next-backend closes the breaker" ;;
		*) notok "routing word: the half-open probe picked by next-backend closes the breaker" \
			"states $s1 $s2, bodies:$got" ;;
		esac
		stop "$LAST"
	fi
	stop "$CRP"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
