\ test_samples.fs: the design document's IPVS samples, as written there
include lib.fs
testing IPVS Integration: setup-virtual-service and add-real-server
: setup-virtual-service ( vip port -- )
  ipvs-service-new
  IP_VS_CONN_F_MASQ set-flags
  IP_VS_SVC_F_PERSISTENT set-svc-flags
  ipvs-add-service ;

: add-real-server ( rip weight -- )
  ipvs-dest-new
  IP_VS_DEST_F_AVAILABLE set-dest-flags
  ipvs-add-dest ;

T{ ipvs? -> -1 }T
T{ ipvs-service-count -> 0 }T
T{ 80.80.80.80 80 setup-virtual-service -> }T
T{ 10.0.0.1 100 add-real-server -> }T
T{ 10.0.0.2 50 add-real-server -> }T
variable vs  80.80.80.80 80 ipvs-service-new vs !
T{ ipvs-service-count -> 1 }T
T{ vs @ ipvs-service? -> -1 }T
T{ vs @ ipvs-dest-count -> 2 }T
T{ vs @ 10.0.0.1 80 ipvs-dest@ -> 100 IP_VS_CONN_F_MASQ }T
T{ vs @ 10.0.0.2 80 ipvs-dest@ -> 50 IP_VS_CONN_F_MASQ }T
T{ vs @ ipvs-svc-flags@ -> IP_VS_SVC_F_PERSISTENT 300 }T
T{ vs @ "wlc" sched? -> -1 }T

testing IPVS Management: the short form and update_weights_live
: web-svc 80.80.80.80 80 rr add-svc ;

T{ 81.81.81.81 80 rr add-svc -> }T
T{ 81.81.81.81 8080 rr add-svc -> }T
T{ ipvs-service-count -> 3 }T
T{ web-svc -> }T                     \ AFD's already: made to match (rr), not duplicated
T{ ipvs-service-count -> 3 }T
T{ vs @ "rr" sched? -> -1 }T
T{ vs @ ipvs-dest-count -> 2 }T      \ its destinations stay
: update-weights-live ( w1 w2 -- )
  ipvs-begin  >r vs @ 10.0.0.2 80 r> ipvs-set-weight  >r vs @ 10.0.0.1 80 r> ipvs-set-weight
  ipvs-commit ;
T{ 7 9 update-weights-live -> }T
T{ ipvs-last-changes -> 2 }T
T{ vs @ 10.0.0.1 80 ipvs-dest@ drop -> 7 }T
T{ vs @ 10.0.0.2 80 ipvs-dest@ drop -> 9 }T
