#!/usr/bin/env bash
# tests/px/log.sh: the access log and the event log (src/px/log.c, src/px/access.c) against
# the real binary.   usage: bash tests/px/log.sh ./afd
#
# afd serves http-static-server backends, a small 404 server, and pxhelp.py backends that
# answer garbage or hang; real curl (and pxhelp.py raw, for heads curl will not send) makes
# known requests, and the lines must hold exactly what those requests imply, field by field
# as doc/proxy.md documents them: text and JSON (checked with python3's json), errors,
# hostile bytes, keep-alive, tcp-mode, rotation with SIGUSR1, health changes in the event
# log, a destination that would block (lines dropped and counted, never a stall), and the
# command line flags. Loopback only, ports 19200-19399; every wait bounded; only the
# processes started here are stopped, by their PID. Prints "ok - ..." / "not ok - ...",
# then "N passed, N failed"; exits non-zero on a failure.
set -u

AFD=$(readlink -f "${1:-./afd}")
HERE=$(cd "$(dirname "$0")" && pwd)
HELP="$HERE/pxhelp.py"
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
PY=$(python3 -c 'import sys; print(sys.executable)') || { echo "python3 is needed" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-log.XXXXXX)
PIDS=()
. "$HERE/lib.sh"
note() { printf '#   %s\n' "$*"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit; }

B=19200
S1=$((B + 1)) NF=$((B + 2)) GARB=$((B + 3)) HANG=$((B + 4)) HB=$((B + 5)) DEADB=$((B + 6))
WEB=$((B + 10)) DEAD=$((B + 11)) OFF=$((B + 12)) GBG=$((B + 13)) HNG=$((B + 14))
NOTF=$((B + 15)) L4=$((B + 16)) HEALTH=$((B + 17)) MPORT=$((B + 20))
J=$((B + 30)) JM=$((B + 31)) JL4=$((B + 32))	# the JSON afd
F=$((B + 40)) FM=$((B + 41))			# the afd logging to a FIFO
C=$((B + 50))					# the afd with --access-log
for p in $(seq $((B + 1)) $((B + 60))); do
	if (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		notok "port $p is free" "$(ss -ltnp 2>/dev/null | grep ":$p " | head -3)"
		finish
	fi
done

# ---- helpers ----
# wait_lines FILE N: until FILE has at least N lines (bounded, ~3 s; lines wait 100 ms)
wait_lines() {
	local i
	for i in $(seq 60); do
		[ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# last_with FILE TEXT: the last line of FILE holding TEXT
last_with() { grep -F -- "$2" "$1" | tail -n 1; }
# fields LINE: the text line's 16 fields as JSON, by the documented grammar ("" if no match)
fields() {
	"$PY" - "$1" <<'EOF'
import json, re, sys
q = r'"((?:[^"\\]|\\x[0-9a-f]{2})*)"'
m = re.fullmatch(r'(\S+) - - \[(\S+)\] ' + q + r' (\S+) (\d+) ' + q + ' ' + q + ' ' + q +
                 r' (\d+) (\S+) (\S+) (\d+\.\d{3}) (\d+\.\d{3}|-) (\d+) (\S+)', sys.argv[1])
names = ["client", "time", "request", "status", "bytes_out", "referer", "user_agent", "host",
         "bytes_in", "pool", "backend", "duration_ms", "backend_ms", "retries", "term"]
print(json.dumps(dict(zip(names, m.groups()))) if m else "")
EOF
}
# py JSON EXPR: evaluate a Python expression over the parsed JSON `d`; true if truthy
py() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null; }
# expect NAME JSON EXPR [DETAIL]: ok if the expression holds over the fields
expect() {
	if [ -n "$2" ] && py "$2" "$3"; then ok "$1"; else notok "$1" "fields: ${2:-no match}" "${4:-}"; fi
}
scrape() { curl -s --max-time 5 "http://127.0.0.1:$1/metrics"; }
metric() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' <<< "$1"; }
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
# within_s TIME S: the RFC 3339 time is at most S seconds from now
within_s() {
	"$PY" -c 'import sys, datetime as d; t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc); sys.exit(0 if abs((d.datetime.now(d.timezone.utc) - t).total_seconds()) <= float(sys.argv[2]) else 1)' "$1" "$2"
}
# stop_pid PID: SIGTERM and wait (bounded ~3 s); the exit status in RC
stop_pid() {
	local i
	alive "$1" && kill -TERM "$1" 2>/dev/null
	for i in $(seq 60); do alive "$1" || break; sleep 0.05; done
	alive "$1" && { kill -KILL "$1" 2>/dev/null; RC=hung; wait "$1" 2>/dev/null; return; }
	wait "$1" 2>/dev/null
	RC=$?
}

# ---- backends ----
"$PY" "$HELP" http $GARB "$T/garbage.pylog" --mode garbage > /dev/null 2>&1 &
PIDS+=($!)
"$PY" "$HELP" http $HANG "$T/hang.pylog" --mode hang > /dev/null 2>&1 &
PIDS+=($!)
"$PY" "$HELP" http $HB "$T/hb.pylog" > /dev/null 2>&1 &
HB_PID=$!
PIDS+=($HB_PID)
# a server answering 404 to everything (HTTP/1.0, one request per connection)
"$PY" -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_error(404, "Not Found")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' $NF > /dev/null 2>&1 &
PIDS+=($!)
for p in $GARB $HANG $HB $NF; do wait_tcp $p || { notok "python backend on $p listens" ""; finish; }; done

# ======================================================================================
# the text afd: every kind of line
# ======================================================================================
cat > "$T/text.fs" <<EOF
"b1" 127.0.0.1 $S1 http-static-server
pool-create "web" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $WEB listen
pool-create "dead" 127.0.0.1 $DEADB 1 add-backend  127.0.0.1 $DEAD listen
pool-create "off" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $OFF listen
"off" get-pool each-backend backend-disable 2drop drop
pool-create "garbage" 127.0.0.1 $GARB 1 add-backend  127.0.0.1 $GBG listen
pool-create "hang" 127.0.0.1 $HANG 1 add-backend  127.0.0.1 $HNG listen
pool-create "notfound" 127.0.0.1 $NF 1 add-backend  127.0.0.1 $NOTF listen
pool-create "l4" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $L4 listen tcp-mode
pool-create "health" 127.0.0.1 $HB 1 add-backend  127.0.0.1 $HEALTH listen
"/health" http-check 100 check-interval 100 check-timeout 1 check-rise 1 check-fall
300 client-timeout 300 server-timeout
127.0.0.1 $MPORT metrics-listen
"$T/access.log" access-log
"$T/events.log" event-log
1 workers handle-requests
EOF
"$AFD" "$T/text.fs" > "$T/afd.out" 2>&1 &
AFD_PID=$!
PIDS+=($AFD_PID)
wait_tcp $MPORT || { notok "afd starts with access-log and event-log" "$(cat "$T/afd.out")"; finish; }
ok "afd starts with access-log and event-log files"
A="$T/access.log" E="$T/events.log"
check_empty() { [ ! -s "$T/afd.out" ]; }
if check_empty; then ok "with event-log, nothing goes to stderr"; else notok "with event-log, nothing goes to stderr" "$(head -5 "$T/afd.out")"; fi

# -- a normal request: every field --
w=$(curl -s -o /dev/null --max-time 5 -A 'test-agent/1.0' -e 'http://ref.example/page' \
	-w '%{http_code} %{local_port} %{size_request} %{size_header} %{size_download}' \
	"http://127.0.0.1:$WEB/hello?x=1")
read -r code lport sreq shdr sdl <<< "$w"
wait_lines "$A" 1
line=$(last_with "$A" '/hello?x=1')
f=$(fields "$line")
expect "a normal request: one line of 15 fields as documented: $line" "$f" 'len(d) == 15'
expect "normal: client is 127.0.0.1 and curl's own port ($lport)" "$f" "d['client'] == '127.0.0.1:$lport'"
tm=$([ -n "$f" ] && "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["time"])' "$f")
if [[ $tm =~ $TIME_RE ]] && within_s "$tm" 5; then
	ok "normal: time is RFC 3339 UTC with milliseconds, within 5 s of now"
else
	notok "normal: time is RFC 3339 UTC with milliseconds, within 5 s of now" "$f"
fi
expect "normal: request line, status 200" "$f" "d['request'] == 'GET /hello?x=1 HTTP/1.1' and d['status'] == '200' and '$code' == '200'"
expect "normal: bytes_out is what curl received, head and body ($shdr + $sdl)" "$f" "int(d['bytes_out']) == $shdr + $sdl"
expect "normal: bytes_in is what curl sent ($sreq)" "$f" "int(d['bytes_in']) == $sreq"
expect "normal: referer, user agent and host as sent" "$f" \
	"d['referer'] == 'http://ref.example/page' and d['user_agent'] == 'test-agent/1.0' and d['host'] == '127.0.0.1:$WEB'"
expect "normal: pool web, backend 127.0.0.1:$S1, no retry, term -" "$f" \
	"d['pool'] == 'web' and d['backend'] == '127.0.0.1:$S1' and d['retries'] == '0' and d['term'] == '-'"
expect "normal: duration and backend time in ms (backend <= duration < 1000)" "$f" \
	"d['backend_ms'] != '-' and float(d['backend_ms']) <= float(d['duration_ms']) < 1000"

# -- a request with a body: bytes_in counts it --
w=$(curl -s -o /dev/null --max-time 5 -d 'a=123456789' -w '%{size_request} %{size_upload}' "http://127.0.0.1:$WEB/post")
read -r sreq sup <<< "$w"
wait_lines "$A" 2
f=$(fields "$(last_with "$A" '"POST /post')")
expect "POST with an 11-byte body: bytes_in is head and body, as curl counts them ($sreq, $sup of body)" "$f" \
	"int(d['bytes_in']) == $sreq and $sup == 11 and d['status'] == '200'"

# -- keep-alive: several requests on one connection --
n0=$(wc -l < "$A")
curl -s -o /dev/null --max-time 5 -w '%{local_port}\n' "http://127.0.0.1:$WEB/k1" \
	--next -s -o /dev/null "http://127.0.0.1:$WEB/k2" --next -s -o /dev/null "http://127.0.0.1:$WEB/k3" > "$T/ka"
wait_lines "$A" $((n0 + 3))
ka=$(tail -n +$((n0 + 1)) "$A" | awk '{ print $1, $6 }' | tr '\n' '|')
kport=$(head -1 "$T/ka")
check_ka="127.0.0.1:$kport /k1|127.0.0.1:$kport /k2|127.0.0.1:$kport /k3|"
if [ "$ka" = "$check_ka" ]; then ok "keep-alive: 3 requests on one connection, 3 lines in order, one client port"
else notok "keep-alive: 3 requests on one connection, 3 lines in order, one client port" "got $ka" "want $check_ka"; fi

# -- errors --
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$NOTF/missing"
wait_lines "$A" $((n0 + 4))
f=$(fields "$(last_with "$A" '/missing')")
expect "404 from the backend: status 404, term - (not afd's answer), backend 127.0.0.1:$NF" "$f" \
	"d['status'] == '404' and d['term'] == '-' and d['pool'] == 'notfound' and d['backend'] == '127.0.0.1:$NF'"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$GBG/garbage"
f=$(wait_lines "$A" $((n0 + 5)); fields "$(last_with "$A" '/garbage')")
expect "502 (a backend answering garbage): term bad-gateway, backend 127.0.0.1:$GARB" "$f" \
	"d['status'] == '502' and d['term'] == 'bad-gateway' and d['backend'] == '127.0.0.1:$GARB' and d['backend_ms'] == '-'"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$DEAD/dead"
f=$(wait_lines "$A" $((n0 + 6)); fields "$(last_with "$A" '/dead')")
expect "503 (its backend refuses connections): term connect-failed, backend the one tried" "$f" \
	"d['status'] == '503' and d['term'] == 'connect-failed' and d['backend'] == '127.0.0.1:$DEADB' and d['pool'] == 'dead'"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$OFF/off"
f=$(wait_lines "$A" $((n0 + 7)); fields "$(last_with "$A" '/off')")
expect "503 (its only backend disabled): term no-backend, backend -" "$f" \
	"d['status'] == '503' and d['term'] == 'no-backend' and d['backend'] == '-' and d['pool'] == 'off'"
"$PY" "$HELP" raw $WEB 'GET /bad HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' > /dev/null
f=$(wait_lines "$A" $((n0 + 8)); fields "$(last_with "$A" '/bad')")
expect "400 (two Content-Lengths): term bad-request, the raw request line, pool and backend -" "$f" \
	"d['status'] == '400' and d['term'] == 'bad-request' and d['request'] == 'GET /bad HTTP/1.1' and d['pool'] == '-' and d['backend'] == '-'"
"$PY" "$HELP" raw $WEB 'GET /slowhead HTTP/1.1\r\nHost: x\r\n' --timeout 2 > "$T/408"
f=$(wait_lines "$A" $((n0 + 9)); fields "$(last_with "$A" '/slowhead')")
expect "408 (a head not complete within client-timeout 300 ms): term client-timeout, duration >= 300 ms" "$f" \
	"d['status'] == '408' and d['term'] == 'client-timeout' and 300 <= float(d['duration_ms']) < 2000" "$(cat "$T/408")"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$HNG/hang"
f=$(wait_lines "$A" $((n0 + 10)); fields "$(last_with "$A" '/hang')")
expect "504 (a backend that never answers, server-timeout 300 ms): term server-timeout, duration >= 300 ms" "$f" \
	"d['status'] == '504' and d['term'] == 'server-timeout' and d['backend'] == '127.0.0.1:$HANG' and float(d['duration_ms']) >= 300"

# -- hostile bytes: quotes, backslash, tab, bytes >= 0x80, in the target and the User-Agent --
"$PY" "$HELP" raw $WEB 'GET /h"o\\s\xfft?q="x" HTTP/1.1\r\nHost: x\r\nUser-Agent: ev"il\\ \t\xe9\xff end\r\nConnection: close\r\n\r\n' > /dev/null
wait_lines "$A" $((n0 + 11))
line=$(last_with "$A" '/h\x22o')
f=$(fields "$line")
expect "hostile bytes in target and User-Agent: still one line of 15 fields" "$f" 'len(d) == 15'
expect 'hostile: target and User-Agent escaped as \xHH (" \ tab and bytes >= 0x80)' "$f" \
	"d['request'] == r'GET /h\\x22o\\x5cs\\xfft?q=\\x22x\\x22 HTTP/1.1' and d['user_agent'] == r'ev\\x22il\\x5c \\x09\\xe9\\xff end'" "$line"
"$PY" "$HELP" raw $WEB 'GET /ctl\x01\x7f HTTP/1.1\r\nHost: x\r\n\r\n' > /dev/null
f=$(wait_lines "$A" $((n0 + 12)); fields "$(last_with "$A" '/ctl')")
expect 'a request line with control bytes (400): logged escaped on one line' "$f" \
	"d['status'] == '400' and d['request'] == r'GET /ctl\\x01\\x7f HTTP/1.1'"
if tr -d '\n' < "$A" | LC_ALL=C grep -qP '[\x00-\x1f\x7f-\xff]'; then
	notok "the access log holds only printable ASCII (and newlines)" "$(LC_ALL=C grep -nP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$A" | head -3)"
else
	ok "the access log holds only printable ASCII (and newlines)"
fi

# -- tcp-mode: one line per connection --
w=$(curl -s -o /dev/null --max-time 5 -w '%{local_port} %{size_request} %{size_header} %{size_download}' "http://127.0.0.1:$L4/l4")
read -r lport sreq shdr sdl <<< "$w"
f=$(wait_lines "$A" $((n0 + 13)); fields "$(last_with "$A" "\"TCP 127.0.0.1:$L4\"")")
expect "tcp-mode: a line for the connection: client, \"TCP listener\", status -, pool l4, backend, term -" "$f" \
	"d['client'] == '127.0.0.1:$lport' and d['status'] == '-' and d['pool'] == 'l4' and d['backend'] == '127.0.0.1:$S1' and d['term'] == '-'"
expect "tcp-mode: bytes in and out as curl sent ($sreq) and got ($shdr + $sdl); backend_ms is the connect time" "$f" \
	"int(d['bytes_in']) == $sreq and int(d['bytes_out']) == $shdr + $sdl and d['backend_ms'] != '-'"

# -- rotation: rename, SIGUSR1, the next lines go to a new file --
nbefore=$(wc -l < "$A")
mv "$A" "$A.1"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB/before-reopen"
for i in $(seq 60); do grep -q '/before-reopen' "$A.1" && break; sleep 0.05; done	# to the renamed file: the one still open
kill -USR1 $AFD_PID
for i in $(seq 40); do [ -f "$A" ] && break; sleep 0.05; done
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB/after-reopen"
wait_lines "$A" 1
if [ -f "$A" ] && grep -q '/after-reopen' "$A" && ! grep -q '/after-reopen' "$A.1" && grep -q '/before-reopen' "$A.1" &&
   [ "$(wc -l < "$A.1")" = $((nbefore + 1)) ]; then
	ok "SIGUSR1: after a rename, the file is reopened: new lines in the new file, earlier ones all in the old"
else
	notok "SIGUSR1 reopens the access log" "new: $(cat "$A" 2>/dev/null | head -3)" "old: $(tail -2 "$A.1")"
fi
if wait_lines "$E" 1 && grep -qE '^[0-9T:.-]+Z info afd: logs reopened$' "$E"; then ok "SIGUSR1: the event log says 'info afd: logs reopened'"
else notok "SIGUSR1: the event log says logs reopened" "$(tail -3 "$E")"; fi

# -- the event log --
l=$(grep -F "afd: http on 127.0.0.1:$WEB, pool web (round-robin, 1 backends)" "$E")
if [[ "$l" =~ ^([^ ]+)\ info\ afd:\ http\ on ]] && [[ ${BASH_REMATCH[1]} =~ $TIME_RE ]]; then
	ok "event log: the start is logged: TIME info afd: http on 127.0.0.1:$WEB, pool web (...)"
else
	notok "event log: the start is logged" "$(head -3 "$E")"
fi
kill -TERM $HB_PID; wait $HB_PID 2>/dev/null
for i in $(seq 60); do grep -q "backend health/127.0.0.1:$HB is DOWN" "$E" && break; sleep 0.05; done
l=$(grep -F "backend health/127.0.0.1:$HB is DOWN" "$E" | tail -1)
if [[ "$l" =~ ^[0-9T:.-]+Z\ warn\ afd:\ backend\ health/127\.0\.0\.1:$HB\ is\ DOWN\ \(.+\)$ ]]; then
	ok "event log: a health check failing: 'TIME warn afd: backend health/127.0.0.1:$HB is DOWN (why)'"
else
	notok "event log: the health change to DOWN" "$(tail -5 "$E")"
fi
"$PY" "$HELP" http $HB "$T/hb2.pylog" > /dev/null 2>&1 &
PIDS+=($!)
up_after_down() { awk -v b="backend health/127.0.0.1:$HB is" 'index($0, b " DOWN") { d = 1 } d && index($0, b " UP")' "$E" | tail -1; }
for i in $(seq 60); do [ -n "$(up_after_down)" ] && break; sleep 0.05; done
l=$(up_after_down)
if [[ "$l" =~ ^[0-9T:.-]+Z\ info\ afd:\ backend\ health/127\.0\.0\.1:$HB\ is\ UP\ \(http\ ok\)$ ]]; then
	ok "event log: back up: 'TIME info afd: backend health/127.0.0.1:$HB is UP (http ok)'"
else
	notok "event log: the health change back to UP" "$(tail -5 "$E")"
fi

# -- metrics: lines written and dropped --
sleep 0.2
m=$(scrape $MPORT)
total=$(( $(wc -l < "$A") + $(wc -l < "$A.1") ))
v=$(metric "$m" 'afd_log_lines_total{log="access"}')
if [ "$v" = "$total" ]; then ok "metrics: afd_log_lines_total{log=\"access\"} = the lines in the files ($v)"
else notok "metrics: afd_log_lines_total{log=\"access\"}" "metric $v, files $total"; fi
v=$(metric "$m" 'afd_log_lines_total{log="event"}')
if [ "$v" = "$(wc -l < "$E")" ]; then ok "metrics: afd_log_lines_total{log=\"event\"} = the lines of the event log ($v)"
else notok "metrics: afd_log_lines_total{log=\"event\"}" "metric $v, file $(wc -l < "$E")"; fi
v="$(metric "$m" 'afd_log_lines_dropped_total{log="access"}') $(metric "$m" 'afd_log_lines_dropped_total{log="event"}')"
if [ "$v" = "0 0" ]; then ok "metrics: nothing dropped (afd_log_lines_dropped_total 0 for both)"
else notok "metrics: nothing dropped" "got $v"; fi

# -- reload (SIGHUP): the new generation's logs; a reload that fails changes nothing --
cp "$T/text.fs" "$T/text.fs.orig"
sed -i "s|^\"$T/access.log\" access-log\$|\"$T/access.log\" access-log  \"json\" access-log-format|" "$T/text.fs"
kill -HUP $AFD_PID
for i in $(seq 60); do grep -q 'SIGHUP reload: generation 2 live' "$E" && break; sleep 0.05; done
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB/after-reload"
wait_lines "$A" $(( $(wc -l < "$A") ))
for i in $(seq 60); do grep -q '/after-reload' "$A" && break; sleep 0.05; done
l=$(last_with "$A" '/after-reload')
if grep -qE '^[0-9T:.-]+Z info afd: SIGHUP reload: generation 2 live in [0-9.]+ ms \(built in [0-9.]+ ms, taken by every worker in [0-9.]+ ms\)$' "$E" &&
   py "$l" "d['target'] == '/after-reload' and d['status'] == 200"; then
	ok "SIGHUP with \"json\" access-log-format added: 'info afd: SIGHUP reload: generation 2 live in ...', then JSON lines in the same file"
else
	notok "a reload switches the access log to JSON" "$(tail -2 "$E")" "$l"
fi
sed -i "s|^\"$T/access.log\" access-log .*\$|\"/proc/afd-no-such-dir/access.log\" access-log|" "$T/text.fs"
kill -HUP $AFD_PID
for i in $(seq 60); do grep -q 'SIGHUP reload failed' "$E" && break; sleep 0.05; done
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB/after-failed-reload"
for i in $(seq 60); do grep -q '/after-failed-reload' "$A" && break; sleep 0.05; done
l=$(last_with "$A" '/after-failed-reload')
if grep -qE '^[0-9T:.-]+Z error afd: access-log: /proc/afd-no-such-dir/access.log: No such file or directory$' "$E" &&
   grep -qE '^[0-9T:.-]+Z error afd: SIGHUP reload failed, generation 2 keeps running: ' "$E" &&
   py "$l" "d['target'] == '/after-failed-reload'"; then
	ok "a reload whose access-log cannot be opened fails with the reason; generation 2 logs on, unchanged"
else
	notok "a failed reload leaves the logs alone" "$(tail -3 "$E")" "$l"
fi
cp "$T/text.fs.orig" "$T/text.fs"

# -- stopping writes what waits --
n=$(wc -l < "$A")
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB/last-one"
stop_pid $AFD_PID
if [ "$RC" = 0 ] && [ "$(wc -l < "$A")" = $((n + 1)) ] && tail -1 "$A" | grep -q '/last-one'; then
	ok "SIGTERM right after a request: afd exits 0 and its line is written"
else
	notok "SIGTERM: the last line is written" "status $RC, $(tail -1 "$A")"
fi
if grep -qE '^[0-9T:.-]+Z info afd: SIGTERM: draining \(at most 10000 ms\)$' "$E"; then ok "event log: 'info afd: SIGTERM: draining (at most 10000 ms)'"
else notok "event log: the drain is logged" "$(tail -3 "$E")"; fi

# ======================================================================================
# the JSON afd: two workers, JSON access and event logs
# ======================================================================================
cat > "$T/json.fs" <<EOF
pool-create "web" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $J listen
pool-create "l4" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $JL4 listen tcp-mode
"$T/access.json" access-log  "json" access-log-format
"$T/events.json" event-log  "json" event-log-format
127.0.0.1 $JM metrics-listen
2 workers handle-requests
EOF
cat > "$T/json-backend.fs" <<EOF
"b1" 127.0.0.1 $S1 http-static-server
1 workers handle-requests
EOF
"$AFD" "$T/json-backend.fs" > "$T/json-backend.out" 2>&1 &
JB_PID=$!
PIDS+=($JB_PID)
"$AFD" "$T/json.fs" > "$T/json.out" 2>&1 &
JPID=$!
PIDS+=($JPID)
wait_tcp $JM && wait_tcp $S1 || { notok "the JSON afd starts" "$(cat "$T/json.out" "$T/json-backend.out")"; finish; }
AJ="$T/access.json"
w=$(curl -s -o /dev/null --max-time 5 -A 'json-agent' -w '%{local_port} %{size_request} %{size_header} %{size_download}' "http://127.0.0.1:$J/j?a=1")
read -r lport sreq shdr sdl <<< "$w"
"$PY" "$HELP" raw $J 'GET /j"s\\o\xffn HTTP/1.1\r\nHost: x\r\nUser-Agent: a"b\\c\td\xe9\xff\x80\r\nReferer: x"y\r\nConnection: close\r\n\r\n' > /dev/null
"$PY" "$HELP" raw $J 'GET /bad\x01"\\ HTTP/1.1\r\nHost: x\r\n\r\n' > /dev/null
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$JL4/"
wait_lines "$AJ" 4
if "$PY" -c '
import json, sys
for n, l in enumerate(open(sys.argv[1], "rb"), 1):
    l.decode("ascii")
    d = json.loads(l)
    assert isinstance(d, dict), n' "$AJ" 2> "$T/jerr"; then
	ok "JSON access log: every line is one JSON object, ASCII only ($(wc -l < "$AJ") lines)"
else
	notok "JSON access log: every line is one JSON object" "$(cat "$T/jerr")" "$(cat "$AJ")"
fi
jline() { "$PY" -c 'import json,sys; print(next(l for l in open(sys.argv[1]) if sys.argv[2] in (json.loads(l).get(sys.argv[3]) or "")), end="")' "$AJ" "$1" "$2" 2>/dev/null; }
f=$(jline '/j?a=1' target)
expect "JSON: a normal request: every field, with its type" "$f" \
	"d['client'] == '127.0.0.1:$lport' and d['method'] == 'GET' and d['target'] == '/j?a=1' and d['protocol'] == 'HTTP/1.1' and d['status'] == 200 and d['bytes_in'] == $sreq and d['bytes_out'] == $shdr + $sdl and d['referer'] is None and d['user_agent'] == 'json-agent' and d['host'] == '127.0.0.1:$J' and d['pool'] == 'web' and d['backend'] == '127.0.0.1:$S1' and isinstance(d['duration_ms'], float) and isinstance(d['backend_ms'], float) and d['retries'] == 0 and d['term'] is None and len(d) == 17"
if [ -n "$f" ] && [[ $("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["time"])' "$f") =~ $TIME_RE ]]; then
	ok "JSON: time is RFC 3339 UTC with milliseconds"
else
	notok "JSON: time is RFC 3339 UTC with milliseconds" "$f"
fi
f=$(jline '/j"s' target)
expect 'JSON: hostile target, User-Agent and Referer come back exactly (bytes >= 0x80 as \u00HH)' "$f" \
	"d['target'] == '/j\"s\\\\o\\xffn' and d['user_agent'] == 'a\"b\\\\c\\td\\xe9\\xff\\x80' and d['referer'] == 'x\"y' and d['status'] == 200"
f=$(jline '/bad' target)
expect 'JSON: a request line that does not parse (400): method and protocol null, the line in target' "$f" \
	"d['status'] == 400 and d['method'] is None and d['protocol'] is None and d['target'] == 'GET /bad\\x01\"\\\\ HTTP/1.1' and d['term'] == 'bad-request' and d['pool'] is None"
f=$(jline 'tcp' protocol)
expect "JSON: a tcp-mode connection: protocol tcp, listener, pool, backend, bytes" "$f" \
	"d['listener'] == '127.0.0.1:$JL4' and d['pool'] == 'l4' and d['backend'] == '127.0.0.1:$S1' and d['bytes_out'] > 0 and d['bytes_in'] > 0 and d['term'] is None"
stop_pid $JPID
if [ "$RC" = 0 ] && "$PY" -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert all(set(d) == {"time", "level", "msg"} for d in ls)
assert any(d["level"] == "info" and d["msg"].startswith("http on 127.0.0.1:") for d in ls)
assert ls[-1]["msg"].startswith("SIGTERM: draining")' "$T/events.json" 2> "$T/jerr"; then
	ok "JSON event log: each line {time, level, msg}, the start and the drain in it"
else
	notok "JSON event log" "status $RC $(cat "$T/jerr")" "$(cat "$T/events.json")"
fi

# ======================================================================================
# a destination that would block: a FIFO nobody reads
# ======================================================================================
mkfifo "$T/fifo"
exec 7<> "$T/fifo"	# held open (read and write): afd can open it, and nobody reads
cat > "$T/fifo.fs" <<EOF
pool-create "web" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $F listen
"$T/fifo" access-log
127.0.0.1 $FM metrics-listen
1 workers handle-requests
EOF
"$AFD" "$T/fifo.fs" > "$T/fifo.out" 2>&1 &
FPID=$!
PIDS+=($FPID)
wait_tcp $FM || { notok "the FIFO afd starts" "$(cat "$T/fifo.out")"; finish; }
long=$(head -c 1500 /dev/zero | tr '\0' 'a')
t0=$(date +%s%N)
curl -s -o /dev/null --max-time 20 -w '%{http_code}\n' "http://127.0.0.1:$F/$long[1-400]" > "$T/codes"
t1=$(date +%s%N)
n200=$(grep -c '^200$' "$T/codes")
if [ "$n200" = 400 ] && [ $(( (t1 - t0) / 1000000 )) -lt 10000 ]; then
	ok "a full, unread FIFO as access log: 400 requests of 1.5 KB all 200 in $(( (t1 - t0) / 1000000 )) ms (no stall)"
else
	notok "a full FIFO does not stall the worker" "$n200 of 400 answered 200, $(( (t1 - t0) / 1000000 )) ms"
fi
sleep 0.3
m=$(scrape $FM)
dropped=$(metric "$m" 'afd_log_lines_dropped_total{log="access"}') written=$(metric "$m" 'afd_log_lines_total{log="access"}')
if [ "$dropped" != missing ] && [ "$dropped" -gt 0 ] && [ $((dropped + written)) -le 400 ]; then
	ok "the lines that did not fit are dropped and counted (dropped $dropped, written $written)"
else
	notok "drops are counted" "dropped $dropped written $written"
fi
timeout 2 cat <&7 > "$T/fifo.out.lines"
exec 7>&-
got=$(wc -l < "$T/fifo.out.lines")
bad=$(grep -cvE "^127\.0\.0\.1:[0-9]+ - - \[[^]]+\] \"GET /a{1500}[0-9]+ HTTP/1\.1\" 200 [0-9]+ \"-\" \"curl/[^\"]*\" \"127\.0\.0\.1:$F\" [0-9]+ web 127\.0\.0\.1:$S1 [0-9.]+ [0-9.]+ 0 -$" "$T/fifo.out.lines")
if [ "$got" -ge "$written" ] && [ "$got" -gt 0 ] && [ "$bad" = 0 ]; then
	ok "what the FIFO got is whole lines only ($got lines, none broken)"
else
	notok "the FIFO got whole lines" "$got lines (written $written), $bad not whole" "$(grep -vE '^127' "$T/fifo.out.lines" | head -2 | cut -c1-200)"
fi
stop_pid $FPID
[ "$RC" = 0 ] && ok "the FIFO afd stops cleanly (status 0)" || notok "the FIFO afd stops cleanly" "status $RC"
if grep -qE '^[0-9T:.-]+Z warn afd: worker 0: access log: [0-9]+ lines? dropped \(Resource temporarily unavailable\)$' "$T/fifo.out"; then
	ok "the event log says lines were dropped, and why: 'warn afd: worker 0: access log: N lines dropped (Resource temporarily unavailable)'"
else
	notok "the event log says lines were dropped" "$(cat "$T/fifo.out" | head -5)"
fi
n=$(grep -c 'lines\? dropped' "$T/fifo.out")
if [ "$n" -le 3 ]; then ok "... at most once a second per worker ($n such lines)"; else notok "drop warnings are rate-limited" "$n lines"; fi

# ======================================================================================
# the command line: --access-log wins over the configuration's
# ======================================================================================
cat > "$T/cli.fs" <<EOF
pool-create "web" 127.0.0.1 $S1 1 add-backend  127.0.0.1 $C listen
"$T/config.log" access-log
1 workers handle-requests
EOF
"$AFD" --access-log "$T/cli.log" --log-level warn "$T/cli.fs" > "$T/cli.out" 2>&1 &
CPID=$!
PIDS+=($CPID)
wait_http_ok() { local i; for i in $(seq 100); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$C/cli" && return 0; sleep 0.05; done; return 1; }
wait_http_ok
wait_lines "$T/cli.log" 1
if grep -q '"GET /cli HTTP/1.1" 200' "$T/cli.log" && [ ! -e "$T/config.log" ]; then
	ok "--access-log PATH: lines go there; the configuration's access-log is not even opened"
else
	notok "--access-log wins" "cli: $(head -2 "$T/cli.log" 2>/dev/null)" "config.log: $(ls -l "$T/config.log" 2>&1)"
fi
stop_pid $CPID
if [ "$RC" = 0 ] && [ ! -s "$T/cli.out" ]; then ok "--log-level warn: the info events (start, drain) are not logged"
else notok "--log-level warn hides info events" "status $RC: $(cat "$T/cli.out")"; fi
stop_pid $JB_PID

finish
