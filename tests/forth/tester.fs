\ tester.fs -- AFD's Hayes-style test harness (written for AFD).
\
\ Usage:  T{ <code> -> <expected stack> }T
\   T{  remembers the data-stack depth;
\   ->  moves the cells the code left (above that depth) into a buffer;
\   }T  compares depth and every cell of the expected values with them.
\ A failing test prints one line "FAIL: <source line>" and counts a failure.
\ test-summary prints exactly one line: "#passed N #failed M".
\ testing <rest of line> is a section header: the line is skipped.
\
\ Only standard CORE words are used, so the file runs on gforth 0.7.3 as well
\ as on any Forth 2012 system.

decimal

variable #passed   0 #passed !
variable #failed   0 #failed !
variable t-base         \ data-stack depth when T{ ran
variable t-got          \ number of cells left by the code, as seen by ->
64 constant t-max       \ at most this many result cells per test
create t-results  t-max cells allot

: testing ( "rest-of-line" -- )  source swap drop >in ! ;

: t-fail ( -- )  1 #failed +!  ." FAIL: " source type cr ;
: t-pass ( -- )  1 #passed +! ;

\ Drop everything above the depth recorded by T{ (nothing if below it).
: t-clean ( i*x -- )
   begin depth t-base @ > while drop repeat ;

: T{ ( -- )  depth t-base ! ;

: -> ( i*x -- )
   depth t-base @ -  dup t-got !
   dup 0< if drop exit then
   dup t-max > if drop t-clean exit then
   dup 0= if drop exit then
   0 do  t-results i cells + !  loop ;

: }T ( j*x -- )
   depth t-base @ -                     ( j )
   dup t-got @ = 0=  t-got @ 0<  or  t-got @ t-max >  or
   if  drop t-clean t-fail exit  then
   -1 swap                              ( j*x flag j )
   dup 0= if drop else
      0 do  swap t-results i cells + @ =  and  loop
   then
   if t-pass else t-fail then ;

\ Helper for string results: true if both strings have the same characters.
: t-same ( c-addr1 u1 c-addr2 u2 -- flag )
   rot over = 0= if drop drop drop 0 exit then     ( c-addr1 c-addr2 u )
   dup 0= if drop drop drop -1 exit then
   0 do
      over i chars + c@  over i chars + c@  = 0= if
         drop drop 0 unloop exit
      then
   loop
   drop drop -1 ;

: t-u.0 ( u -- )  0 <# #s #> type ;

: test-summary ( -- )
   base @ decimal
   ." #passed " #passed @ t-u.0  ."  #failed " #failed @ t-u.0 cr
   base ! ;
