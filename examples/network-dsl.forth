\ network-dsl.forth: the design document's "Network Configuration DSL" samples: a weighted
\ pool, the health-check loop, and host-header routing.
\ Run: AFD_PORT=8080 ./afd examples/network-dsl.forth
\      curl localhost:8080/                          -> the web pool
\      curl -H 'Host: api.example.com' localhost:8080/  -> the api pool
\ Changes from the document (doc/samples.md): loopback backends instead of 192.168.1.x,
\ served by AFD's demo server; health-check-web ends with 2drop (the sample's loop leaves
\ the pool and the last backend on the stack).

"web one" 127.0.0.1 9101 http-static-server
"web two" 127.0.0.1 9102 http-static-server
"web three" 127.0.0.1 9103 http-static-server
"api" 127.0.0.1 9104 http-static-server

\ Define a weighted round-robin pool
: web-pool ( -- )
  pool-create "web-backends"
  127.0.0.1 9101 100 add-backend  \ IP port weight
  127.0.0.1 9102 200 add-backend
  127.0.0.1 9103 150 add-backend
  weighted-round-robin set-algorithm ;

\ Health checking
: health-check-web ( -- )
  "web-backends" get-pool
  BEGIN
    each-backend
    dup http-health-check
    if backend-enable else backend-disable then
  WHILE drop REPEAT 2drop ;

\ Main load balancing logic
: handle-http-request ( packet -- action )
  dup http-parse
  host-header "api.example.com" string= if
    "api-pool"
  else
    "web-pool"
  then
  get-pool
  next-backend
  packet-redirect ;

pool-create "api-pool"  127.0.0.1 9104 1 add-backend  "/" http-check
pool-create "web-pool"  127.0.0.1 9101 1 add-backend  127.0.0.1 9102 1 add-backend  "/" http-check
web-pool  "/" http-check  health-check-web
80 listen-port
handle-requests
