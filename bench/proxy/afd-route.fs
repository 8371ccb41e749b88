\ afd-route.fs: afd.fs's HTTP listener plus a routing word: the design document's
\ host-header routing (examples/network-dsl.forth), twelve interpreted words per request.
\ Both pools hold the same two benchmark backends, so only the word's cost differs.
\   127.0.0.1:18003  HTTP (L7) routed by handle-http-request

pool-create "api-pool"
127.0.0.1 19001 1 add-backend
127.0.0.1 19002 1 add-backend
round-robin set-algorithm

pool-create "web-pool"
127.0.0.1 19001 1 add-backend
127.0.0.1 19002 1 add-backend
round-robin set-algorithm

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

127.0.0.1 18003 listen
60000 client-timeout
60000 idle-timeout
1 workers
handle-requests
