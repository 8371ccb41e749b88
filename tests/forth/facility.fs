\ facility.fs -- tests for MS (FACILITY EXT, 10.6.2.1905) and for the
\ microsecond clock UTIME ( -- ud ) (a gforth word that AFD also provides):
\ MS leaves the stack alone and waits at least as long as asked; UTIME never
\ goes backwards.

decimal
 0 constant f0
-1 constant f1

\ ( ud1 ud2 -- flag ) unsigned double-cell less-than, from CORE words only
: ud< ( lo1 hi1 lo2 hi2 -- flag )
   rot 2dup = if 2drop u< else swap u< nip nip then ;

testing the ud< helper itself
T{ 1 0 2 0 ud< -> f1 }T
T{ 2 0 1 0 ud< -> f0 }T
T{ 5 0 5 0 ud< -> f0 }T
T{ -1 0 0 1 ud< -> f1 }T
T{ 0 1 -1 0 ud< -> f0 }T

testing MS
T{ 1 ms -> }T
T{ 0 ms -> }T
T{ 7 8 2 ms -> 7 8 }T
: ms-in-def ( -- ) 3 ms ;
T{ 9 ms-in-def -> 9 }T

testing UTIME
T{ utime 2drop -> }T
T{ utime nip -> 0 }T
T{ utime 0= swap 0= and -> f0 }T
variable mono
: monotonic? ( n -- flag ) \ n readings, each >= the one before
   true mono !
   utime rot 0 ?do
      utime 2swap 2over 2swap ud< if false mono ! then
   loop 2drop mono @ ;
T{ 1000 monotonic? -> f1 }T
: elapsed-us ( ms -- us ) utime drop swap ms utime drop swap - ;
T{ 10 elapsed-us 10000 < -> f0 }T
T{ 10 elapsed-us 5000000 < -> f1 }T
T{ 0 elapsed-us 0< -> f0 }T
