#!/bin/sh
# test_proxy.sh AFD: IPVS words in a configuration that also serves HTTP with workers: the
# workers replay the configuration and send nothing, a reload (SIGHUP) evaluates it again
# and changes nothing in the kernel, and the proxy keeps serving. Loopback of the guest only.
AFD=$1
pass=0 fail=0
ok() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $3: got '$1', want '$2'"; fi; }
"$AFD" -e 'ipvs-flush bye'
cat > /tmp/px.fs <<'F'
2 workers
"backend one" 127.0.0.1 9001 http-static-server
: web-pool pool-create "web" 127.0.0.1 9001 100 add-backend ;
web-pool 127.0.0.1 8080 listen
: web-svc 80.80.80.80 80 rr add-svc ;
web-svc 10.0.0.1 5 ipvs-dest-new ipvs-add-dest
ipvs-reconcile
handle-requests
F
"$AFD" /tmp/px.fs 2>/tmp/px.err &
pid=$!
# busybox's wget crashes in the guest (static glibc without NSS): HTTP/1.0 by hand over nc
get() { printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | nc -w 5 127.0.0.1 8080 2>/dev/null | tail -n 1; }
i=0
while [ $i -lt 100 ] && [ "$(get)" != "backend one" ]; do sleep 0.2; i=$((i + 1)); done
ok "$(get)" "backend one" "the proxy serves"
[ "$(get)" = "backend one" ] || cat /tmp/px.err
q() { "$AFD" -e "$1 bye" 2>&1; }
ok "$(q 'ipvs-service-count . 80.80.80.80 80 ipvs-service-new 10.0.0.1 80 ipvs-dest@ . .')" "1 0 5 " "the service, once"
kill -HUP $pid
sleep 2
ok "$(get)" "backend one" "serves after a reload"
ok "$(q 'ipvs-service-count . 80.80.80.80 80 ipvs-service-new ipvs-dest-count .')" "1 1 " "the table after a reload"
ok "$(grep -c error /tmp/px.err)" "0" "no error"
kill -TERM $pid
wait $pid
ok "$?" "0" "stops cleanly"
rm -f /tmp/px.fs /tmp/px.err
echo "$pass passed, $fail failed"
