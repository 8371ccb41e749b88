#!/bin/sh
# test_health.sh AFD: IPVS weights follow the proxy's health checks (ipvs-follow-health): a
# backend whose checks fail gets weight 0 in the service (it drains), and its declared weight
# back when it is up again. Loopback of the guest only.
AFD=$1
pass=0 fail=0
ok() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $3: got '$1', want '$2'"; fi; }
"$AFD" -e 'ipvs-flush bye'
cat > /tmp/h.fs <<'F'
"one" 127.0.0.1 9001 http-static-server
: web-pool pool-create "web" 127.0.0.1 9001 100 add-backend 127.0.0.1 9002 100 add-backend
  "/" http-check 200 check-interval 100 check-timeout 1 check-rise 1 check-fall ;
web-pool 127.0.0.1 8080 listen
80.80.80.80 80 rr add-svc
127.0.0.1 10 ipvs-dest-new 9001 set-dest-port ipvs-add-dest
127.0.0.1 20 ipvs-dest-new 9002 set-dest-port ipvs-add-dest
80.80.80.80 80 ipvs-service-new "web" ipvs-follow-health
handle-requests
F
w() { "$AFD" -e "80.80.80.80 80 ipvs-service-new 127.0.0.1 $1 ipvs-dest@ drop . bye" 2>&1; }
# wait PORT WEIGHT: until the destination has that weight (10 s at most)
wait_w() { i=0; while [ $i -lt 50 ] && [ "$(w "$1")" != "$2 " ]; do sleep 0.2; i=$((i + 1)); done; }
"$AFD" /tmp/h.fs 2>/tmp/h.err &
pid=$!
wait_w 9002 0
ok "$(w 9002)" "0 " "a backend down: weight 0"
ok "$(w 9001)" "10 " "the one up keeps its weight"
"$AFD" -e '"two" 127.0.0.1 9002 http-static-server handle-requests' 2>/dev/null &
pid2=$!
wait_w 9002 20
ok "$(w 9002)" "20 " "up again: its declared weight"
ok "$(grep -c 'ipvs: TCP  80.80.80.80:80 -> 127.0.0.1:9002 weight' /tmp/h.err)" "2" "both changes logged"
kill -TERM $pid2 $pid
wait $pid2 $pid
rm -f /tmp/h.fs /tmp/h.err
echo "$pass passed, $fail failed"
