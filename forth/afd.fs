\ afd.fs: the AFD dialect's words written in Forth.
\ "text" literals, IPv4 literals (10.0.0.1) and CIDR literals (10.0.0.0/8) are read by the
\ outer interpreter; string= ip>str .ip are primitives.

: cidr-mask ( prefix -- mask )  \ netmask of a prefix length, 0..32
  dup 0= if drop 0 exit then  32 swap - $ffffffff swap lshift $ffffffff and ;
: in-cidr? ( ip addr prefix -- flag )  \ is ip inside addr/prefix?
  cidr-mask >r r@ and swap r> and = ;
: .cidr ( addr prefix -- ) swap ip>str type [char] / emit 0 .r space ;
: >= ( n1 n2 -- flag ) < 0= ;  \ the design document's rate-limit-check uses it
: <= ( n1 n2 -- flag ) > 0= ;
