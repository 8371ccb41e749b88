\ afd.fs -- tests for the AFD dialect (not standard Forth; run.sh skips this
\ file on gforth):
\   "text" string literals ( -- c-addr u ), interpreted and compiled;
\   IPv4 literals a.b.c.d: one cell, the address in host byte order;
\   CIDR literals a.b.c.d/n ( -- addr prefix-len );
\   malformed IPv4/CIDR literals THROW;
\   string= ( c-addr1 u1 c-addr2 u2 -- flag ) and ip>str ( ip -- c-addr u );
\   ordinary double-cell literals (trailing dot) still work;
\   64-bit cells and case-insensitive names.

decimal
 0 constant f0
-1 constant f1

testing "text" string literals
T{ "abc" nip -> 3 }T
T{ "a b c" nip -> 5 }T
T{ "x" nip -> 1 }T
T{ "" nip -> 0 }T
T{ "abc" drop c@ -> 97 }T
T{ "abc" s" abc" string= -> f1 }T
: str-hello ( -- c-addr u ) "hello" ;
T{ str-hello nip -> 5 }T
T{ str-hello s" hello" string= -> f1 }T
T{ str-hello drop str-hello drop = -> f1 }T
: str-spaces ( -- c-addr u ) "one two  three" ;
T{ str-spaces nip -> 14 }T
T{ str-spaces s" one two  three" string= -> f1 }T
: str-two ( -- c-addr1 u1 c-addr2 u2 ) "first" "second" ;
T{ str-two drop drop nip -> 5 }T
T{ str-two nip nip nip -> 6 }T
T{ str-two s" second" string= rot rot s" first" string= -> f1 f1 }T
T{ s\" 1 \"x y\" nip" evaluate -> 1 3 }T

testing string=
T{ s" abc" s" abc" string= -> f1 }T
T{ s" abc" s" abd" string= -> f0 }T
T{ s" abc" s" ab" string= -> f0 }T
T{ s" ab" s" abc" string= -> f0 }T
T{ s" " s" " string= -> f1 }T
T{ s" a" s" " string= -> f0 }T
T{ s" abc" s" ABC" string= -> f0 }T
T{ str-hello str-hello string= -> f1 }T
T{ str-hello drop 4 str-hello string= -> f0 }T

testing IPv4 literals
T{ 192.168.1.10 -> 3232235786 }T
T{ 0.0.0.0 -> 0 }T
T{ 255.255.255.255 -> 4294967295 }T
T{ 10.0.0.1 -> 167772161 }T
T{ 127.0.0.1 -> 2130706433 }T
T{ 1.2.3.4 -> 16909060 }T
T{ 0.0.0.1 -> 1 }T
T{ 1.0.0.0 -> 16777216 }T
T{ 172.16.254.1 -> 2886794753 }T
: ip-in-def ( -- ip ) 10.1.2.3 ;
T{ ip-in-def -> 167838211 }T
: two-ips ( -- ip1 ip2 ) 8.8.8.8 8.8.4.4 ;
T{ two-ips -> 134744072 134743044 }T

testing CIDR literals
T{ 10.0.0.0/8 -> 167772160 8 }T
T{ 192.168.0.0/16 -> 3232235520 16 }T
T{ 0.0.0.0/0 -> 0 0 }T
T{ 1.2.3.4/32 -> 16909060 32 }T
T{ 172.16.0.0/12 -> 2886729728 12 }T
: cidr-in-def ( -- ip len ) 192.168.1.0/24 ;
T{ cidr-in-def -> 3232235776 24 }T

testing ip>str
T{ 192.168.1.10 ip>str s" 192.168.1.10" string= -> f1 }T
T{ 0 ip>str s" 0.0.0.0" string= -> f1 }T
T{ 4294967295 ip>str s" 255.255.255.255" string= -> f1 }T
T{ 167772161 ip>str "10.0.0.1" string= -> f1 }T
T{ 1.2.3.4 ip>str nip -> 7 }T
T{ 10.0.0.0/8 drop ip>str "10.0.0.0" string= -> f1 }T
: ip-round-trip ( ip -- flag ) dup ip>str evaluate = ;
T{ 8.8.4.4 ip-round-trip -> f1 }T
T{ 100.64.0.255 ip-round-trip -> f1 }T

testing malformed IPv4 and CIDR literals THROW
: bad-literal? ( c-addr u -- flag ) ['] evaluate catch dup if nip nip then 0<> ;
T{ s" 300.1.1.1" ['] evaluate catch nip nip 0<> -> f1 }T
T{ s" 300.1.1.1" bad-literal? -> f1 }T
T{ s" 256.0.0.0" bad-literal? -> f1 }T
T{ s" 1.2.3.256" bad-literal? -> f1 }T
T{ s" 10.0.0.0/33" bad-literal? -> f1 }T
T{ s" 1.2.3.4/" bad-literal? -> f1 }T
T{ s" 1.2.3.4/99" bad-literal? -> f1 }T
T{ 5 6 s" 300.1.1.1" bad-literal? -> 5 6 f1 }T
T{ s" 10.0.0.0/32" ['] evaluate catch -> 167772160 32 0 }T
T{ s" 0.0.0.0/0" ['] evaluate catch -> 0 0 0 }T
T{ s" 1.2.3.4" ['] evaluate catch -> 16909060 0 }T

testing double-cell literals still work
T{ 1. -> 1 0 }T
T{ -5. -> -5 -1 }T
T{ 0. -> 0 0 }T
T{ 123. -> 123 0 }T
: dbl-in-def ( -- d ) 7. ;
T{ dbl-in-def -> 7 0 }T

testing 64-bit cells
T{ -1 1 rshift -> 9223372036854775807 }T
T{ 1 cells -> 8 }T
T{ 1 63 lshift 0< -> f1 }T
T{ 4294967295 1+ -> 4294967296 }T

testing names are case-insensitive
: FooBar ( -- n ) 7 ;
T{ foobar -> 7 }T
T{ FOOBAR -> 7 }T
T{ FooBar -> 7 }T
T{ 1 DUP -> 1 1 }T
T{ 2 Dup Swap -> 2 2 }T
: lower-case-word ( -- n ) 8 ;
T{ LOWER-CASE-WORD -> 8 }T
T{ ' foobar ' FOOBAR = -> f1 }T

testing CASE ... OF on strings (an OF right after a string literal compares strings)
: str-case ( c-addr u -- n )
  case "US-EAST" of 1 endof "EU" of 2 endof s" ASIA" of 3 endof 0 -rot endcase ;
T{ "EU" str-case -> 2 }T
T{ "US-EAST" str-case -> 1 }T
T{ "ASIA" str-case -> 3 }T
T{ "MARS" str-case -> 0 }T
T{ "" str-case -> 0 }T
: str-case-pool ( c-addr u -- c-addr u )
  case "EU" of "eu-pool" endof "default-pool" 2swap endcase ;
T{ "EU" str-case-pool "eu-pool" string= -> true }T
T{ "XX" str-case-pool "default-pool" string= -> true }T
: num-case ( n -- n ) case 1 of 10 endof 2 of 20 endof 99 swap endcase ;
T{ 1 num-case -> 10 }T
T{ 2 num-case -> 20 }T
T{ 3 num-case -> 99 }T
