\ core2012.fs -- CORE EXT words added by Forth 2012 that gforth 0.7.3 lacks:
\ BUFFER: (6.2.0825) and HOLDS (6.2.1675).  run.sh skips this file for gforth.

decimal
 0 constant f0
-1 constant f1

testing BUFFER:
100 buffer: bf1
8 buffer: bf2
T{ bf1 bf2 = -> f0 }T
T{ bf1 aligned -> bf1 }T
T{ bf2 aligned -> bf2 }T
T{ 12345 bf1 ! bf1 @ -> 12345 }T
T{ -1 bf2 ! bf2 @ bf1 @ -> -1 12345 }T
T{ bf1 100 255 fill bf1 99 chars + c@ -> 255 }T
T{ bf2 @ -> -1 }T
: bf1-addr ( -- addr ) bf1 ;
T{ bf1-addr -> bf1 }T
T{ bf1 100 chars + bf2 u> 0= bf2 8 chars + bf1 u> 0= or -> f1 }T
0 buffer: bf0
T{ bf0 0<> -> f1 }T

testing HOLDS
T{ 0 0 <# s" abc" holds #> s" abc" t-same -> f1 }T
T{ 123 0 <# #s s" x=" holds #> s" x=123" t-same -> f1 }T
T{ 42 0 <# s" kg" holds bl hold #s #> s" 42 kg" t-same -> f1 }T
T{ 0 0 <# s" " holds #> nip -> 0 }T
T{ 7 0 <# s" cd" holds s" ab" holds #s #> s" 7abcd" t-same -> f1 }T
: holds-in-def ( n -- c-addr u ) 0 <# s" %" holds #s s" =" holds #> ;
T{ 50 holds-in-def s" =50%" t-same -> f1 }T
