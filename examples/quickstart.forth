\ quickstart.forth: the design document's Quick Start.
\ Run: ./afd examples/quickstart.forth        (port 80: as root)
\      AFD_PORT=8080 ./afd examples/quickstart.forth
\
\ Changed from the document (see doc/samples.md): its backends 10.0.0.10 and 10.0.0.11 are
\ addresses of the author's network; here they are loopback addresses, served by two demo
\ backends that AFD itself starts, so the example runs on any machine.

"quickstart backend 10" 127.0.0.10 8010 http-static-server
"quickstart backend 11" 127.0.0.11 8011 http-static-server

: web-pool
  pool-create "web"
  127.0.0.10 8010 100 add-backend
  127.0.0.11 8011 100 add-backend
  round-robin set-algorithm ;

: main
  web-pool
  80 listen-port
  handle-requests ;

main
