\ ipvs.forth: the design document's IPVS samples (IPVS Integration, IPVS Management).
\ Needs a kernel with IPVS (modprobe ip_vs) and CAP_NET_ADMIN; make test-ipvs runs it in a
\ qemu guest. 80.80.80.80 and 10.0.0.x live only in the kernel's IPVS table: nothing is
\ sent to them unless traffic to the virtual address arrives.
\   afd examples/ipvs.forth -e 'ipvs-services bye'

: setup-virtual-service ( vip port -- )
  ipvs-service-new
  IP_VS_CONN_F_MASQ set-flags
  IP_VS_SVC_F_PERSISTENT set-svc-flags
  ipvs-add-service ;

: add-real-server ( rip weight -- )
  ipvs-dest-new
  IP_VS_DEST_F_AVAILABLE set-dest-flags
  ipvs-add-dest ;

\ the short form of the integration test
: web-svc 80.80.80.80 80 rr add-svc ;

\ update_weights_live: many weights, one batch, all or nothing, connections stay
variable live-svc
: update-weights-live ( rip1 w1 ... ripN wN n svc -- )
  live-svc !  ipvs-begin  0 ?do  >r live-svc @ swap 80 r> ipvs-set-weight  loop  ipvs-commit ;

81.81.81.81 443 setup-virtual-service
10.0.0.1 100 add-real-server
10.0.0.2 100 add-real-server
web-svc
10.0.0.1 100 add-real-server
10.0.0.2 50 add-real-server
10.0.0.1 20  10.0.0.2 80  2  80.80.80.80 80 ipvs-service-new  update-weights-live
ipvs-reconcile      \ what AFD owned before and this file no longer declares goes
