#!/bin/sh
# test_example.sh AFD: examples/ipvs.forth (the design document's samples) loads, twice
AFD=$1
cd "$(dirname "$0")"
pass=0 fail=0
ok() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $3: got '$1', want '$2'"; fi; }
"$AFD" -e 'ipvs-flush bye'
ok "$("$AFD" ipvs.forth -e 'ipvs-service-count . bye' 2>&1)" "2 " "two services"
ok "$("$AFD" ipvs.forth -e '80.80.80.80 80 ipvs-service-new dup 10.0.0.1 80 ipvs-dest@ drop . 10.0.0.2 80 ipvs-dest@ drop . bye' 2>&1)" "20 80 " "weights updated live"
ok "$("$AFD" ipvs.forth -e '81.81.81.81 443 ipvs-service-new ipvs-svc-flags@ . . bye' 2>&1)" "300 1 " "persistent"
ipvsadm -Ln | grep -q '80.80.80.80:80 rr' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: ipvsadm sees web-svc"; }
echo "$pass passed, $fail failed"
