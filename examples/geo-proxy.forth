\ geo-proxy.forth: the design document's geo-route routing live requests by the client's
\ address. A region per pool; each pool's backend is a demo server AFD serves itself.
\   ./afd examples/geo-proxy.forth     then, from another shell (127.0.0.0/8 is all loopback):
\   curl --interface 127.0.0.2 127.0.0.1:19010    -> us-east
\   curl --interface 127.0.0.4 127.0.0.1:19010    -> eu
\   curl 127.0.0.1:19010                          -> default
s" advanced-routing.forth" included

"us-east" 127.0.0.1 19011 http-static-server
"us-west" 127.0.0.1 19012 http-static-server
"eu"      127.0.0.1 19013 http-static-server
"asia"    127.0.0.1 19014 http-static-server
"default" 127.0.0.1 19015 http-static-server
pool-create "us-east-pool" 127.0.0.1 19011 1 add-backend
pool-create "us-west-pool" 127.0.0.1 19012 1 add-backend
pool-create "eu-pool"      127.0.0.1 19013 1 add-backend
pool-create "asia-pool"    127.0.0.1 19014 1 add-backend
pool-create "default-pool" 127.0.0.1 19015 1 add-backend

\ The regions: the design document's networks (table data only: never connected to) and
\ loopback addresses to try it with. geo-load reads the same from a file, "CIDR REGION".
10.0.0.0/8     "EU"      geo-add
192.168.1.0/24 "US-WEST" geo-add
127.0.0.2      32 "US-EAST" geo-add
127.0.0.3      32 "US-WEST" geo-add
127.0.0.4      32 "EU"      geo-add
127.0.0.5      32 "ASIA"    geo-add

: handle-http-request ( packet -- action )
  client-ip geo-route get-pool packet-redirect ;

127.0.0.1 19010 listen
handle-requests
