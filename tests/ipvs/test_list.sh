#!/bin/sh
# test_list.sh AFD: ipvs-services prints the table as ipvsadm -Ln does (a printer: compared
# with ipvsadm's own output, blanks squeezed)
AFD=$1
pass=0 fail=0
norm() { tr -s ' ' | sed 's/ *$//'; }
"$AFD" -e 'ipvs-flush bye'
"$AFD" -e '80.80.80.80 80 rr add-svc 10.0.0.1 100 ipvs-dest-new ipvs-add-dest
  10.0.0.2 5 ipvs-dest-new IP_VS_CONN_F_DROUTE set-flags ipvs-add-dest
  10.6.0.1 53 ipvs-service-new IPPROTO_UDP set-protocol 300 set-persistence 255.255.255.0 set-netmask
  ipvs-add-service 10.0.0.3 1 ipvs-dest-new IP_VS_CONN_F_TUNNEL set-flags ipvs-add-dest
  7 ipvs-fwmark-service-new ipvs-add-service 10.0.0.4 1 ipvs-dest-new 0 set-dest-flags ipvs-add-dest
  10.6.0.2 80 ipvs-service-new IP_VS_SVC_F_ONEPACKET set-svc-flags IPPROTO_UDP set-protocol ipvs-add-service
  "2001:db8::1" 80 ipvs-service-new6 ipvs-add-service "2001:db8::2" 3 ipvs-dest-new6 ipvs-add-dest bye'
"$AFD" -e 'ipvs-services bye' | norm > /tmp/afd.list
ipvsadm -Ln | norm > /tmp/ipvsadm.list
if cmp -s /tmp/afd.list /tmp/ipvsadm.list; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: ipvs-services differs from ipvsadm -Ln"
	diff /tmp/ipvsadm.list /tmp/afd.list
fi
rm -f /tmp/afd.list /tmp/ipvsadm.list
echo "$pass passed, $fail failed"
