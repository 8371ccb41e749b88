#!/bin/sh
# test_reconcile.sh AFD: AFD as the single owner of its services across restarts. A restart
# with the same configuration sends nothing; a changed one adds, edits and removes only
# what AFD owns; a service made by someone else (ipvsadm) is never touched.
AFD=$1
cd "$(dirname "$0")"
pass=0 fail=0
ok() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $3: got '$1', want '$2'"; fi; }
"$AFD" -e 'ipvs-flush bye'
ipvsadm -A -t 9.9.9.9:80 -s wrr && ipvsadm -a -t 9.9.9.9:80 -r 10.0.9.1:80 -m -w 3
cat > /tmp/conf1.fs <<'F'
: a 80.80.80.80 80 ipvs-service-new ;
a rr set-scheduler ipvs-add-service
10.0.0.1 100 ipvs-dest-new ipvs-add-dest
10.0.0.2 100 ipvs-dest-new ipvs-add-dest
80.80.80.81 80 wlc add-svc
10.0.1.1 10 ipvs-dest-new ipvs-add-dest
ipvs-reconcile
F
cat > /tmp/conf2.fs <<'F'
: a 80.80.80.80 80 ipvs-service-new ;
a rr set-scheduler 60 set-persistence ipvs-add-service
10.0.0.1 50 ipvs-dest-new ipvs-add-dest
10.0.0.3 100 ipvs-dest-new ipvs-add-dest
80.80.80.82 80 sh add-svc
ipvs-reconcile
F
ok "$("$AFD" /tmp/conf1.fs -e 'ipvs-changes-sent . bye')" "5 " "first start: 5 changes"
ok "$("$AFD" /tmp/conf1.fs -e 'ipvs-changes-sent . bye')" "0 " "restart, same configuration: no change"
ok "$("$AFD" /tmp/conf1.fs -e 'ipvs-changes-sent . bye')" "0 " "and again"
# a process that only changes a weight keeps the list of what AFD owns
ok "$("$AFD" -e '80.80.80.80 80 ipvs-service-new 10.0.0.1 80 7 ipvs-set-weight ipvs-changes-sent . bye')" "1 " "a weight changed by another process"
ok "$("$AFD" /tmp/conf1.fs -e 'ipvs-changes-sent . bye')" "1 " "restart: the weight back, the services still AFD's"
# changed: A edited (persistence), .1 weight, .3 added, .2 removed; B removed; C added
ok "$("$AFD" /tmp/conf2.fs -e 'ipvs-changes-sent . bye')" "6 " "restart, changed configuration"
q() { "$AFD" -e "$1 bye" 2>&1; }
ok "$(q '80.80.80.80 80 ipvs-service-new ipvs-svc-flags@ . .')" "60 1 " "A persistent now"
ok "$(q '80.80.80.80 80 ipvs-service-new ipvs-dest-count .')" "2 " "A has two destinations"
ok "$(q '80.80.80.80 80 ipvs-service-new 10.0.0.1 80 ipvs-dest@ drop .')" "50 " ".1 weight 50"
ok "$(q '80.80.80.80 80 ipvs-service-new 10.0.0.2 80 ipvs-dest@ drop .')" "-1 " ".2 removed"
ok "$(q '80.80.80.80 80 ipvs-service-new 10.0.0.3 80 ipvs-dest@ drop .')" "100 " ".3 added"
ok "$(q '80.80.80.81 80 ipvs-service-new ipvs-service? .')" "0 " "B removed"
ok "$(q '80.80.80.82 80 ipvs-service-new ipvs-service? .')" "-1 " "C added"
ok "$(q '9.9.9.9 80 ipvs-service-new 10.0.9.1 80 ipvs-dest@ drop .')" "3 " "ipvsadm's service untouched"
ok "$(q 'ipvs-service-count .')" "3 " "three services"
# an empty configuration removes all AFD owns and nothing else
ok "$("$AFD" -e 'ipvs-reconcile ipvs-changes-sent . bye')" "2 " "empty configuration"
ok "$(q 'ipvs-service-count .')" "1 " "only ipvsadm's left"
# a configuration loaded as one batch that the kernel refuses in part leaves the table as it was
ipvsadm -S -n > /tmp/before
cat > /tmp/conf3.fs <<'F'
ipvs-begin
80.80.80.90 80 rr add-svc
10.0.0.1 1 ipvs-dest-new ipvs-add-dest
80.80.80.91 80 "nosuch" add-svc
ipvs-commit
F
"$AFD" /tmp/conf3.fs -e bye 2>/tmp/err; rc=$?
ok "$rc" 1 "failing configuration exits 1"
ok "$(sed 's/.*error: //' /tmp/err)" "ipvs-commit: the kernel refused the change: change 3 of 3 (add service TCP  80.80.80.91:80): scheduler or persistence engine not found; nothing applied" "its message"
ipvsadm -S -n > /tmp/after
ok "$(cmp -s /tmp/before /tmp/after && echo same)" same "table as before"
rm -f /tmp/conf1.fs /tmp/conf2.fs /tmp/conf3.fs /tmp/before /tmp/after /tmp/err
echo "$pass passed, $fail failed"
