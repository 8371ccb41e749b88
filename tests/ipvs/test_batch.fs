\ test_batch.fs: batches (ipvs-begin ... ipvs-commit), all or nothing, and 1,000 weights
include lib.fs
variable s
: svc ( -- svc ) s @ ;
\ dest-ip ( i -- ip ) 10.10.x.y, the i-th destination
: dest-ip ( i -- ip ) 10.10.0.1 + ;
: add-dests ( n -- ) 0 do i dest-ip 1 ipvs-dest-new ipvs-add-dest loop ;
: weights ( n base -- ) swap 0 do svc i dest-ip 80 3 pick i + ipvs-set-weight loop drop ;
: weights-ok? ( n base -- flag )
  -1 rot 0 do svc i dest-ip 80 ipvs-dest@ drop 2 pick i + = and loop nip ;

testing a service and its destinations as one batch
T{ ipvs-begin 80.80.80.80 80 rr add-svc 80.80.80.80 80 ipvs-service-new s ! 100 add-dests ipvs-commit -> }T
T{ ipvs-last-changes -> 101 }T
T{ svc ipvs-dest-count -> 100 }T

testing live weights, one batch (update_weights_live)
T{ ipvs-begin 100 1000 weights ipvs-commit ipvs-last-changes -> 100 }T
T{ 100 1000 weights-ok? -> -1 }T
T{ svc 0 dest-ip 80 ipvs-dest@ -> 1000 IP_VS_CONN_F_MASQ }T    \ the method stays

testing a failed batch changes nothing
: bad-batch ( -- ) ipvs-begin 100 2000 weights svc 10.99.0.1 80 5 ipvs-set-weight ipvs-commit ;
T{ ' bad-batch error-of -> -266 }T
T{ 100 1000 weights-ok? -> -1 }T                    \ all undone
T{ ipvs-last-changes -> 101 }T
T{ 100 ipvs-change-error -> -2 }T                   \ the kernel's ENOENT, for that change
T{ 99 ipvs-change-error -> 0 }T
: dup-batch ( -- ) ipvs-begin 10.80.0.1 80 rr add-svc 10.80.0.1 80 ipvs-service-new ipvs-use-service
  3 add-dests 1 add-dests ipvs-commit ;
T{ ' dup-batch error-of -> -266 }T                  \ a destination twice
T{ 10.80.0.1 80 ipvs-service-new ipvs-service? -> 0 }T   \ the new service went too
T{ ipvs-service-count -> 1 }T
80.80.80.80 80 ipvs-service-new ipvs-use-service

testing each change on its own (ipvs-commit-each)
T{ ipvs-begin 100 3000 weights svc 10.99.0.1 80 5 ipvs-set-weight ipvs-commit-each -> 1 }T
T{ 100 3000 weights-ok? -> -1 }T                    \ what the kernel took stays
T{ 100 ipvs-change-error -> -2 }T

testing 1,000 weight changes in one batch
: more-dests ( -- ) ipvs-begin 900 0 do i 100 + dest-ip 1 ipvs-dest-new ipvs-add-dest loop ipvs-commit ;
T{ more-dests -> }T
T{ svc ipvs-dest-count -> 1000 }T
T{ ipvs-begin 1000 5000 weights ipvs-commit ipvs-last-changes -> 1000 }T
T{ 1000 5000 weights-ok? -> -1 }T
T{ ipvs-begin ipvs-commit ipvs-last-changes -> 0 }T
