#!/usr/bin/env bash
# tests/px/control.sh: the control plane against the real binary: the admin socket (socat),
# reload (SIGHUP, the reload word), binary upgrade (SIGUSR2, the upgrade word) under wrk
# with keep-alive, privilege drop.   usage: bash tests/px/control.sh ./afd
#
# Loopback only, ports 19600-19699; loads bounded in time. Processes started here are
# stopped by PID; an upgrade starts a new afd from ours, found through --pid-file and
# stopped by PID too (after checking it runs our configuration).
set -u

AFD=$(readlink -f "${1:-./afd}")
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$AFD" ] || { echo "usage: $0 path/to/afd" >&2; exit 2; }
command -v socat >/dev/null || { echo "socat is needed (scripts/deps.sh test)" >&2; exit 2; }
T=$(mktemp -d /tmp/afd-ctl.XXXXXX)
PIDS=()
UPIDS=()	# afd processes started by an upgrade (not jobs of this shell)
. "$HERE/lib.sh"

# an upgraded afd: stopped if it still runs our configuration
stop_upgraded() {
	local p
	for p in "${UPIDS[@]}"; do
		grep -qs "$T" "/proc/$p/cmdline" && kill -TERM "$p" 2>/dev/null
	done
	for p in "${UPIDS[@]}"; do
		for _ in $(seq 60); do grep -qs "$T" "/proc/$p/cmdline" || break; sleep 0.05; done
		grep -qs "$T" "/proc/$p/cmdline" && kill -KILL "$p" 2>/dev/null
	done
	UPIDS=()
}
trap 'stop_upgraded; cleanup' EXIT

check() {
	local name=$1 detail=$2
	shift 2
	if "$@"; then ok "$name"; else notok "$name" "$detail"; fi
}
admin() { printf '%s\n' "$1" | socat -t 5 - "UNIX:$SOCK"; }
GET() { curl -s --max-time 5 "$@"; }
bodies() {	# bodies N URL: N answers, one per line
	local i
	for i in $(seq "$1"); do GET "$2"; done | tr -d '\r' | grep -v '^$' | sort | uniq -c |
		awk '{ printf "%s%s=%s", s, $2, $1; s = " " }'
}
metric() { GET "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
wait_http() {
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
		sleep 0.05
	done
	return 1
}
# wrk_clean FILE: wrk reported no socket error and no non-2xx answer
wrk_clean() { grep -q 'requests in' "$1" && ! grep -qE 'Socket errors|Non-2xx' "$1"; }

# ======================================================================================
# admin socket
# ======================================================================================
SOCK=$T/admin.sock
cat > "$T/admin.fs" <<EOF
"one" 127.0.0.1 19611 http-static-server
"two" 127.0.0.1 19612 http-static-server
pool-create "web"
127.0.0.1 19611 100 add-backend
127.0.0.1 19612 100 add-backend
127.0.0.1 19610 listen
127.0.0.1 19619 metrics-listen
"$SOCK" admin-socket
2 workers
handle-requests
EOF
"$AFD" "$T/admin.fs" > "$T/admin.log" 2>&1 &
APID=$!
PIDS+=("$APID")
if ! wait_http 19610; then
	notok "admin: afd serves" "$(cat "$T/admin.log")"
else
	check "admin: the socket is a socket of mode 0600" "$(stat -c '%F %a' "$SOCK")" \
		test "$(stat -c '%F %a' "$SOCK")" = "socket 600"
	out=$(admin 'backends.')
	check "admin: backends. lists pools and backends, then ok" "$out" \
		grep -qzE 'pool web  round-robin  2 backends.*127.0.0.1:19611  weight 100  up  enabled.*127.0.0.1:19612.*ok' <<< "$out"
	g0=$(admin 'generation .' | head -1)
	check "admin: a looking command makes no new generation ($g0)" "$g0" test "$g0" = "1 ok"
	out=$(admin '"web" get-pool 127.0.0.1 19612 find-backend 0 set-weight')
	check "admin: set-weight answers ok" "$out" test "$out" = "ok"
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: weight 0 takes the backend out at once ($got)" "" test "$got" = "one=6"
	out=$(admin '"web" get-pool 127.0.0.1 19612 find-backend 100 set-weight 1 0 /')
	check "admin: an error is reported as admin:LINE:COL: error: WORD: message" "$out" \
		grep -q '^admin:1:64: error: /: division by zero' <<< "$out"
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: a failed change changes nothing ($got)" "" test "$got" = "one=6"
	g1=$(admin 'generation .' | head -1)
	check "admin: and makes no generation ($g1)" "" test "$g1" = "2 ok"
	out=$(admin ': spin begin again ; spin')
	check "admin: begin again ends on the step budget" "$out" grep -q 'error: spin: step budget exhausted' <<< "$out"
	out=$(admin 'no-such-word')
	check "admin: an unknown word is an error" "$out" grep -q 'admin:1:1: error: no-such-word' <<< "$out"
	out=$(admin '"web" get-pool 127.0.0.9 1 find-backend')
	check "admin: find-backend of no backend is an error" "$out" grep -q 'error: find-backend: no such item' <<< "$out"
	out=$(admin '"web" get-pool dup 127.0.0.1 19611 find-backend 0 rot 127.0.0.1 19612 find-backend 100 2 update-weights')
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: update-weights changes both together ($out, $got)" "" test "$got" = "two=6"
	out=$(admin '"web" get-pool dup 127.0.0.1 19611 find-backend 100 rot 127.0.0.1 19612 find-backend 100000000 2 update-weights')
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: update-weights with one bad weight changes none ($got)" "$out" test "$got" = "two=6"
	admin '"web" get-pool dup 127.0.0.1 19611 find-backend 100 rot 127.0.0.1 19612 find-backend 100 2 update-weights' > /dev/null
	out=$(admin '"three" 127.0.0.1 19613 http-static-server  "web" get-pool drop 127.0.0.1 19613 100 add-backend')
	got=$(bodies 9 http://127.0.0.1:19610/)
	check "admin: a backend added with its server ($out: $got)" "" test "$got" = "one=3 three=3 two=3"
	out=$(admin '"web" get-pool 127.0.0.1 19613 find-backend remove-backend')
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: remove-backend ($out: $got)" "" test "$got" = "one=3 two=3"
	out=$(admin ': handle-http-request ( packet -- action ) "web" get-pool http-path "/one" string= if 127.0.0.1 19611 else 127.0.0.1 19612 then find-backend packet-redirect ;')
	a=$(GET http://127.0.0.1:19610/one) b=$(GET http://127.0.0.1:19610/x)
	check "admin: a routing word defined live is used by every worker ($out: $a $b)" "" test "$a $b" = "one two"
	got=$(bodies 8 http://127.0.0.1:19610/one)
	check "admin: ... for every request ($got)" "$(admin backends.)" test "$got" = "one=8"
	out=$(admin ': handle-http-request ( packet -- action ) "web" get-pool next-backend packet-redirect ;')
	out=$(admin '"web" get-pool 127.0.0.1 19612 find-backend backend-drain backends.')
	check "admin: backend-drain: no new connections (listed as disabled)" "$out" \
		grep -qE '19612  weight 100  up  (disabled|draining)' <<< "$out"
	got=$(bodies 6 http://127.0.0.1:19610/)
	check "admin: a drained backend gets no requests ($got)" "" test "$got" = "one=6"
	out=$(admin 'show-config')
	check "admin: show-config gives the generation and its sources" "$out" \
		grep -qzE 'generation [0-9]+ \(admin.*---- .*admin.fs.*handle-requests.*---- admin.*backend-drain' <<< "$out"
	gen=$(admin 'generation .' | cut -d' ' -f1)
	m=$(metric 19619 afd_config_generation)
	check "admin: afd_config_generation is the generation ($m = $gen)" "" test "$m" = "$gen"
	m=$(metric 19619 afd_admin_commands_total)
	check "admin: afd_admin_commands_total counts commands ($m)" "" test "${m:-0}" -ge 18
	out=$(head -c 1100000 /dev/zero | tr '\0' ' ' | socat -t 5 - "UNIX:$SOCK")
	check "admin: a change over 1 MiB is refused" "$out" grep -q 'more than 1048576 bytes' <<< "$out"
	got=$(bodies 4 http://127.0.0.1:19610/)
	check "admin: still serving after all that ($got)" "" test "$got" = "one=4"
	kill -TERM "$APID"
	wait "$APID"
	rc=$?
	check "admin: exits 0 on SIGTERM and removes its socket (status $rc)" "" test "$rc" = 0 -a ! -e "$SOCK"
fi
: > "$T/notasocket"
"$AFD" --admin "$T/notasocket" "$T/admin.fs" > "$T/nas.log" 2>&1 &
p=$!
PIDS+=("$p")
for _ in $(seq 100); do alive "$p" || break; sleep 0.05; done
wait "$p" 2>/dev/null
rc=$?
check "admin: refuses to start on a path that is not a socket (status $rc)" "$(cat "$T/nas.log")" \
	grep -q "admin socket $T/notasocket: File exists" "$T/nas.log"

# ======================================================================================
# reload
# ======================================================================================
conf() {	# conf BACKENDS...: the reload test's configuration
	echo '"one" 127.0.0.1 19641 http-static-server'
	echo '"two" 127.0.0.1 19642 http-static-server'
	echo 'pool-create "web"'
	for b in "$@"; do echo "127.0.0.1 $b 100 add-backend"; done
	echo '127.0.0.1 19640 listen  127.0.0.1 19649 metrics-listen  2 workers'
	echo "\"$T/reload.sock\" admin-socket"
	echo "${EXTRA:-}"
	echo 'handle-requests'
}
conf 19641 > "$T/reload.fs"
SOCK=$T/reload.sock
"$AFD" "$T/reload.fs" > "$T/reload.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
if ! wait_http 19640; then
	notok "reload: afd serves" "$(cat "$T/reload.log")"
else
	got=$(bodies 4 http://127.0.0.1:19640/)
	check "reload: one backend first ($got)" "" test "$got" = "one=4"
	conf 19641 19642 > "$T/reload.fs"
	kill -HUP "$RPID"
	sleep 0.3
	got=$(bodies 4 http://127.0.0.1:19640/)
	check "reload: SIGHUP reads the file again ($got)" "$(tail -3 "$T/reload.log")" test "$got" = "one=2 two=2"
	EXTRA=$(printf '%s\n' '"web" get-pool 127.0.0.9 80 0 add-backend' 'nonsense-word') \
		conf 19641 > "$T/reload.fs"
	kill -HUP "$RPID"
	sleep 0.3
	check "reload: a broken file is reported with file:line:col, the old generation runs on" \
		"$(tail -3 "$T/reload.log")" grep -q "reload failed, generation 2 keeps running: $T/reload.fs:8:1: error: nonsense-word" "$T/reload.log"
	got=$(bodies 4 http://127.0.0.1:19640/)
	check "reload: ... and serves as before ($got)" "" test "$got" = "one=2 two=2"
	conf 19642 > "$T/reload.fs"
	out=$(admin 'reload')
	got=$(bodies 4 http://127.0.0.1:19640/)
	check "reload: the reload word ($out: $got)" "" test "$got" = "two=4"
	# 100 reloads while wrk keeps 20 keep-alive connections busy
	conf 19641 19642 > "$T/reload.fs"
	wrk -t1 -c20 -d4s http://127.0.0.1:19640/ > "$T/wrk-reload.txt" 2>&1 &
	W=$!
	PIDS+=("$W")
	sleep 0.5
	for i in $(seq 100); do
		kill -HUP "$RPID"
		sleep 0.02
	done
	wait "$W"
	n=$(metric 19649 'afd_config_reloads_total{result="ok"}')
	check "reload: 100 reloads under wrk, zero socket errors, zero non-2xx ($n reloads)" \
		"$(cat "$T/wrk-reload.txt")" wrk_clean "$T/wrk-reload.txt"
	check "reload: all 100 counted ($n)" "" test "${n:-0}" -ge 101
	kill -TERM "$RPID"
	wait "$RPID"
fi

# ======================================================================================
# upgrade
# ======================================================================================
cat > "$T/up.fs" <<EOF
"one" 127.0.0.1 19661 http-static-server
pool-create "web"
127.0.0.1 19661 100 add-backend
127.0.0.1 19660 listen
2 workers
"$T/up.sock" admin-socket
handle-requests
EOF
SOCK=$T/up.sock
"$AFD" --pid-file "$T/up.pid" "$T/up.fs" > "$T/up.log" 2>&1 &
U0=$!
PIDS+=("$U0")
if ! wait_http 19660; then
	notok "upgrade: afd serves" "$(cat "$T/up.log")"
else
	wrk -t1 -c20 -d7s http://127.0.0.1:19660/ > "$T/wrk-up.txt" 2>&1 &
	W=$!
	PIDS+=("$W")
	sleep 0.3
	prev=$U0 seen="$U0"
	for i in $(seq 10); do
		if [ "$i" = 5 ]; then
			admin 'upgrade' > "$T/up-admin.txt"
		else
			kill -USR2 "$prev"
		fi
		for _ in $(seq 100); do
			cur=$(cat "$T/up.pid" 2>/dev/null)
			[ -n "$cur" ] && [ "$cur" != "$prev" ] && break
			sleep 0.05
		done
		[ "$cur" = "$prev" ] && break
		UPIDS+=("$cur")
		seen="$seen $cur"
		prev=$cur
		sleep 0.3
	done
	wait "$W"
	n=$(echo "$seen" | wc -w)
	check "upgrade: 10 upgrades (SIGUSR2 and the upgrade word), each a new process ($seen)" \
		"$(tail -5 "$T/up.log")" test "$n" = 11
	check "upgrade: the upgrade word answers ok" "$(cat "$T/up-admin.txt")" grep -q '^ok' "$T/up-admin.txt"
	check "upgrade: zero socket errors, zero non-2xx under wrk" "$(cat "$T/wrk-up.txt")" wrk_clean "$T/wrk-up.txt"
	for _ in $(seq 100); do alive "$U0" || break; sleep 0.05; done
	wait "$U0" 2>/dev/null
	rc=$?
	check "upgrade: the first process finished and exited 0 (status $rc)" "" test "$rc" = 0
	old=0
	for p in $seen; do
		[ "$p" = "$prev" ] && continue
		grep -qs "$T" "/proc/$p/cmdline" && ! grep -qs '^State:.*Z' "/proc/$p/status" && old=$((old + 1))
	done
	check "upgrade: every old process is gone ($old left)" "" test "$old" = 0
	got=$(bodies 3 http://127.0.0.1:19660/)
	check "upgrade: the last one serves ($got)" "" test "$got" = "one=3"
	stop_upgraded
fi

# ======================================================================================
# privileges
# ======================================================================================
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
	cat > "$T/priv.fs" <<'EOF'
"one" 127.0.0.1 19681 http-static-server
pool-create "web"  127.0.0.1 19681 100 add-backend
127.0.0.1 19680 listen
"nobody" run-as-user
handle-requests
EOF
	"$AFD" "$T/priv.fs" > "$T/priv.log" 2>&1 &
	p=$!
	PIDS+=("$p")
	if wait_http 19680; then
		uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status")
		want=$(id -u nobody)
		check "privileges: run-as-user: every uid is nobody's after binding ($uid)" "" \
			test "$uid" = "$want $want $want $want"
		got=$(bodies 2 http://127.0.0.1:19680/)
		check "privileges: and it serves ($got)" "" test "$got" = "one=2"
	else
		notok "privileges: afd serves" "$(cat "$T/priv.log")"
	fi
	kill -TERM "$p"
	wait "$p"
else
	skip "privileges" "not root"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
