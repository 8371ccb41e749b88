\ advanced-routing.forth: the design document's "Advanced Routing" samples, as they run in
\ AFD (doc/samples.md says what changed and why). Definitions only: include this file from a
\ configuration (examples/geo-proxy.forth) or a script (tests/forth/policy.fs).

\ Geographic load balancing. geoip-lookup gives the region of the client's address: from a
\ table of prefixes (geo-add, geo-load) or a MaxMind database (geoip-mmdb). Gives the pool's
\ name ( c-addr u ); get-pool turns it into the pool.
: geo-route ( client-ip -- pool )
  geoip-lookup
  case
    "US-EAST" of "us-east-pool" endof
    "US-WEST" of "us-west-pool" endof
    "EU"      of "eu-pool" endof
    "ASIA"    of "asia-pool" endof
    "default-pool" 2swap  \ Default case
  endcase ;

\ Rate limiting with token bucket (needs `rate burst rate-limit` first)
: rate-limit-check ( client-ip -- allow? )
  rate-limit-bucket-get
  dup bucket-tokens@ 1 >=
  if
    1 bucket-consume true
  else
    drop false
  then ;

\ Circuit breaker pattern (backend-send blocks: scripts and the main VM only)
: backend-with-breaker ( backend-id request -- response | error )
  over circuit-breaker-state@
  case
    CB_CLOSED of
      2dup backend-send nip
      dup error? if
        swap circuit-breaker-fail
      else
        swap circuit-breaker-success
      then
    endof
    CB_OPEN of
      2drop "Service Unavailable" error
    endof
    CB_HALF_OPEN of
      2dup backend-send nip
      dup error? if
        swap circuit-breaker-fail
        drop "Service Unavailable" error
      else
        swap circuit-breaker-success
      then
    endof
  endcase ;
