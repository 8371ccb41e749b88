\ demo.fs: what `make run` starts (afd --demo): two demo backends served by AFD itself on
\ loopback, and a load balancer on port 8080 in front of them (AFD_PORT overrides it).

"backend one" 127.0.0.1 9001 http-static-server
"backend two" 127.0.0.1 9002 http-static-server

: demo-pool ( -- )
  pool-create "demo"
  127.0.0.1 9001 1 add-backend
  127.0.0.1 9002 1 add-backend
  round-robin set-algorithm ;

: main ( -- )
  demo-pool
  127.0.0.1 8080 listen
  ." AFD demo: try  curl http://localhost:8080/  (it alternates between two backends)" cr
  ." Ctrl-C stops it." cr
  handle-requests ;

main
