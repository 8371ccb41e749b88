\ afd.fs: AFD under test in bench/proxy/run.sh. One worker, round-robin over the two
\ benchmark backends, keep-alive to clients and backends (AFD keeps backend connections
\ alive by itself). One listener per mode, on the same pool:
\   127.0.0.1:18001  HTTP (L7)
\   127.0.0.1:18002  TCP (L4, tcp-mode user-relay: bytes copied through userspace)
\   127.0.0.1:18004  TCP (L4, tcp-mode kernel-relay: BPF sockmap, the kernel moves bytes)
\ The timeouts are raised so the idle-connection test's clients, which send nothing, are
\ not closed while it measures.

: bench-pool ( -- )
  pool-create "web"
  127.0.0.1 19001 1 add-backend
  127.0.0.1 19002 1 add-backend
  round-robin set-algorithm ;

bench-pool
127.0.0.1 18001 listen
127.0.0.1 18002 listen tcp-mode user-relay
127.0.0.1 18004 listen tcp-mode kernel-relay
60000 client-timeout
60000 idle-timeout
1 workers
handle-requests
