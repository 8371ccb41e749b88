\ test_errors.fs: bad input is refused, with nothing half-applied
include lib.fs
variable s

testing unknown scheduler
T{ 10.5.0.1 80 "nosuch" ' add-svc error-of >r 2drop 2drop r> -> -266 }T
T{ ipvs-service-count -> 0 }T
T{ 10.5.0.1 80 "a-very-long-scheduler-name" ' add-svc error-of >r 2drop 2drop r> -> -24 }T
T{ 10.5.0.1 80 ipvs-service-new "nosuch" set-pe ' ipvs-add-service error-of nip -> -266 }T
T{ ipvs-service-count -> 0 }T

testing bad addresses, ports, weights, protocols, flags
T{ "300.1.1.1 80 rr add-svc" ' evaluate error-of >r 2drop r> -> -258 }T
T{ "2001:db8::zz" 80 ' ipvs-service-new6 error-of >r drop 2drop r> -> -258 }T
T{ "fe80::1" 5 ipvs-dest-new6 drop "garbage" 5 ' ipvs-dest-new6 error-of >r 2drop drop r> -> -258 }T
T{ 10.5.0.1 70000 ' ipvs-service-new error-of nip nip -> -24 }T
T{ -1 80 ' ipvs-service-new error-of nip nip -> -258 }T
T{ 10.0.0.1 -5 ' ipvs-dest-new error-of nip nip -> -24 }T
T{ 10.5.0.1 80 ipvs-service-new 47 ' set-protocol error-of nip nip -> -24 }T
T{ 10.5.0.1 80 ipvs-service-new 64 ' set-svc-flags error-of nip nip -> -24 }T
T{ 10.5.0.1 80 ipvs-service-new 5 ' set-flags error-of nip nip -> -24 }T
T{ 10.5.0.1 80 ipvs-service-new 255.0.255.0 ' set-netmask error-of nip nip -> -24 }T
T{ 12345 ' ipvs-add-service error-of nip -> -12 }T          \ not a service handle
T{ 10.5.0.1 80 ipvs-service-new ' ipvs-add-dest error-of nip -> -12 }T   \ a service is no destination
T{ ipvs-service-count -> 0 }T

testing a destination the kernel refuses: the service stays as it was
T{ 10.5.0.1 80 rr add-svc  10.5.0.1 80 ipvs-service-new s ! -> }T
T{ 224.0.0.1 1 ipvs-dest-new ' ipvs-add-dest error-of nip -> -266 }T   \ multicast: not unicast
T{ 0.0.0.0 1 ipvs-dest-new ' ipvs-add-dest error-of nip -> -266 }T
T{ s @ ipvs-dest-count -> 0 }T
T{ 10.0.0.1 1 ipvs-dest-new ipvs-add-dest s @ ipvs-dest-count -> 1 }T

testing duplicate service: one AFD does not own is never taken over
T{ "/run/someone-else.owned" ipvs-owner-file 10.5.0.2 80 wrr add-svc "/run/afd-ipvs.owned" ipvs-owner-file -> }T
T{ 10.5.0.2 80 rr ' add-svc error-of >r 2drop 2drop r> -> -266 }T
T{ 10.5.0.2 80 ipvs-service-new wrr sched? -> -1 }T       \ still someone else's, unchanged
T{ ipvs-service-count -> 2 }T

testing words out of place
T{ ' ipvs-commit error-of -> -12 }T
T{ ipvs-begin ' ipvs-begin error-of ipvs-abort -> -12 }T
T{ 99 ' ipvs-change-error error-of nip -> -24 }T
