\ drop-tcp-syn: the design document's BPF sample, verbatim. A packet word: it runs in the
\ interpreter on a packet chosen with `packet`, and compiles to eBPF for XDP:
\   afd --emit-bpf drop-tcp-syn examples/drop-tcp-syn.forth
\ `&` is the document's spelling of AND; the packet vocabulary defines it (doc/bpf.md).
: drop-tcp-syn packet-parse tcp? if tcp-flags SYN & if XDP_DROP exit then then XDP_PASS ;
: pass-all ( -- verdict ) XDP_PASS ;
