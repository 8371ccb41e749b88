\ test_words.fs: every IPVS word against the kernel's table
include lib.fs
variable s  variable d

testing schedulers: the ones AFD names, any other name the kernel has
: sched-svc ( port c-addr u -- svc ) rot 10.1.0.1 swap ipvs-service-new -rot set-scheduler ;
T{ 1001 rr sched-svc dup ipvs-add-service rr sched? -> -1 }T
T{ 1002 wrr sched-svc dup ipvs-add-service wrr sched? -> -1 }T
T{ 1003 lc sched-svc dup ipvs-add-service lc sched? -> -1 }T
T{ 1004 wlc sched-svc dup ipvs-add-service wlc sched? -> -1 }T
T{ 1005 sh sched-svc dup ipvs-add-service sh sched? -> -1 }T
T{ 1006 mh sched-svc dup ipvs-add-service mh sched? -> -1 }T
T{ 1007 sed sched-svc dup ipvs-add-service sed sched? -> -1 }T
T{ 1008 nq sched-svc dup ipvs-add-service nq sched? -> -1 }T
T{ 1009 dh sched-svc dup ipvs-add-service dh sched? -> -1 }T
T{ 1010 fo sched-svc dup ipvs-add-service fo sched? -> -1 }T
T{ 1011 ovf sched-svc dup ipvs-add-service ovf sched? -> -1 }T
T{ 1012 lblc sched-svc dup ipvs-add-service lblc sched? -> -1 }T
T{ 1013 "lblcr" sched-svc dup ipvs-add-service "lblcr" sched? -> -1 }T
T{ ipvs-service-count -> 13 }T
T{ 10.1.0.1 1014 "twos" ' add-svc error-of >r 2drop 2drop r> -> -266 }T
T{ ipvs-service-count -> 13 }T
T{ 10.1.0.1 1014 "sh" add-svc  10.1.0.1 1014 ipvs-service-new IP_VS_SVC_F_SCHED_SH_PORT set-svc-flags
   IP_VS_SVC_F_SCHED_SH_FALLBACK set-svc-flags dup ipvs-edit-service ipvs-svc-flags@
   -> IP_VS_SVC_F_SCHED_SH_PORT IP_VS_SVC_F_SCHED_SH_FALLBACK or 0 }T
ipvs-flush

testing protocols, firewall marks, IPv6
T{ 10.2.0.1 53 ipvs-service-new IPPROTO_UDP set-protocol dup s ! ipvs-add-service -> }T
T{ 10.2.0.1 53 ipvs-service-new ipvs-service? -> 0 }T          \ TCP :53 is another service
T{ s @ ipvs-service? -> -1 }T
T{ 10.2.0.1 9999 ipvs-service-new IPPROTO_SCTP set-protocol dup ipvs-add-service ipvs-service? -> -1 }T
T{ 7 ipvs-fwmark-service-new IP_VS_CONN_F_DROUTE set-flags dup s ! ipvs-add-service -> }T
T{ 10.0.0.7 3 ipvs-dest-new ipvs-add-dest  s @ 10.0.0.7 0 ipvs-dest@ -> 3 IP_VS_CONN_F_DROUTE }T
T{ 7 ipvs-fwmark-service-new6 dup ipvs-add-service ipvs-service? -> -1 }T
T{ "2001:db8::1" 443 ipvs-service-new6 dup s ! ipvs-add-service -> }T
T{ "2001:db8::10" 5 ipvs-dest-new6 ipvs-add-dest  s @ ipvs-dest-count -> 1 }T
T{ s @ "2001:db8::10" 443 ipvs-dest6@ -> 5 IP_VS_CONN_F_MASQ }T
T{ s @ "2001:db8::99" 443 ipvs-dest6@ -> -1 -1 }T
T{ s @ "2001:db8::10" 443 77 ipvs-set-weight6  s @ "2001:db8::10" 443 ipvs-dest6@ -> 77 IP_VS_CONN_F_MASQ }T
T{ "2001:db8::11" 5 ipvs-dest-new6 443 set-dest-port ipvs-add-dest  s @ ipvs-dest-count -> 2 }T
T{ "2001:db8::11" 5 ipvs-dest-new6 443 set-dest-port ipvs-del-dest  s @ ipvs-dest-count -> 1 }T
T{ s @ 64 set-netmask 60 set-persistence dup ipvs-edit-service ipvs-svc-flags@ -> IP_VS_SVC_F_PERSISTENT 60 }T
T{ ipvs-service-count -> 5 }T
ipvs-flush

testing forwarding methods, thresholds, destination flags
T{ 10.3.0.1 80 ipvs-service-new dup s ! ipvs-add-service -> }T
T{ 10.0.0.1 1 ipvs-dest-new ipvs-add-dest  s @ 10.0.0.1 80 ipvs-dest@ -> 1 IP_VS_CONN_F_MASQ }T
T{ 10.0.0.2 2 ipvs-dest-new IP_VS_CONN_F_DROUTE set-flags ipvs-add-dest  s @ 10.0.0.2 80 ipvs-dest@ -> 2 IP_VS_CONN_F_DROUTE }T
T{ 10.0.0.3 3 ipvs-dest-new IP_VS_CONN_F_TUNNEL set-flags ipvs-add-dest  s @ 10.0.0.3 80 ipvs-dest@ -> 3 IP_VS_CONN_F_TUNNEL }T
T{ 10.0.0.4 4 ipvs-dest-new IP_VS_CONN_F_TUNNEL_TYPE_GUE 6080 set-tunnel ipvs-add-dest  s @ 10.0.0.4 80 ipvs-dest@ -> 4 IP_VS_CONN_F_TUNNEL }T
T{ 10.0.0.5 5 ipvs-dest-new 8080 set-dest-port 100 10 set-thresholds ipvs-add-dest  s @ 10.0.0.5 8080 ipvs-dest@ -> 5 IP_VS_CONN_F_MASQ }T
T{ 10.0.0.6 6 ipvs-dest-new 0 set-dest-flags ipvs-add-dest  s @ 10.0.0.6 80 ipvs-dest@ -> 0 IP_VS_CONN_F_MASQ }T
T{ 10.0.0.6 6 ipvs-dest-new IP_VS_DEST_F_AVAILABLE set-dest-flags ipvs-add-dest  s @ 10.0.0.6 80 ipvs-dest@ -> 6 IP_VS_CONN_F_MASQ }T
T{ s @ ipvs-dest-count -> 6 }T
T{ 10.0.0.1 1 ipvs-dest-new 10 20 set-thresholds ' ipvs-add-dest error-of nip -> -266 }T   \ upper < lower
T{ 10.0.0.1 1 ipvs-dest-new IP_VS_DEST_F_OVERLOAD ' set-dest-flags error-of nip nip -> -24 }T

testing edit and delete
T{ 10.0.0.1 42 ipvs-dest-new ipvs-edit-dest  s @ 10.0.0.1 80 ipvs-dest@ drop -> 42 }T
T{ 10.0.0.1 43 ipvs-dest-new ipvs-add-dest   s @ 10.0.0.1 80 ipvs-dest@ drop -> 43 }T   \ there: edited
T{ s @ 10.0.0.1 80 44 ipvs-set-weight  s @ 10.0.0.1 80 ipvs-dest@ drop -> 44 }T
T{ 10.0.0.1 0 ipvs-dest-new ipvs-del-dest  s @ 10.0.0.1 80 ipvs-dest@ -> -1 -1 }T
T{ 10.0.0.1 0 ipvs-dest-new ' ipvs-del-dest error-of nip -> -266 }T      \ gone already
T{ 10.3.0.1 80 ipvs-service-new lc set-scheduler dup ipvs-edit-service lc sched? -> -1 }T
T{ 10.3.0.1 80 ipvs-service-new 120 set-persistence 255.255.255.0 set-netmask dup ipvs-edit-service ipvs-svc-flags@ -> IP_VS_SVC_F_PERSISTENT 120 }T
T{ 10.3.0.1 80 ipvs-service-new IP_VS_SVC_F_PERSISTENT clear-svc-flags dup ipvs-edit-service ipvs-svc-flags@ nip -> 0 }T
T{ 10.3.0.1 80 ipvs-service-new dup ipvs-del-service ipvs-service? -> 0 }T
T{ 10.3.0.1 80 ipvs-service-new ' ipvs-del-service error-of nip -> -266 }T
T{ ipvs-service-count -> 0 }T

testing timeouts, listing, flush
T{ 900 120 300 ipvs-set-timeouts ipvs-timeouts -> 900 120 300 }T
T{ 0 60 0 ipvs-set-timeouts ipvs-timeouts -> 900 60 300 }T
T{ 10.4.0.1 80 rr add-svc 10.4.0.1 80 ipvs-service-new ipvs-use-service 10.0.0.9 1 ipvs-dest-new ipvs-add-dest -> }T
T{ ipvs-services -> }T
T{ ipvs-flush ipvs-service-count -> 0 }T
