\ core.fs: Core, Core Ext, Double and String words written in Forth.
\ Loaded into every VM at creation; the primitives are in src/forth/.

32 constant bl          ( -- char )
-1 constant true        ( -- true )
0 constant false        ( -- false )
8 constant cell         ( -- n )  \ gforth's name for one cell's size

: decimal ( -- ) 10 base ! ;
: hex ( -- ) 16 base ! ;
: noop ( -- ) ;
: space ( -- ) bl emit ;
: spaces ( n -- ) begin dup 0> while space 1- repeat drop ;

\ Exceptions
: abort ( i*x -- ) ( R: j*x -- ) -1 throw ;
: abort" ( "ccc<quote>" -- ) ( run: i*x x1 -- | i*x )
  postpone if [char] " parse postpone sliteral postpone (abort") postpone then ;
  immediate

\ Doubles
: dabs ( d -- ud ) dup 0< if dnegate then ;
: d>s ( d -- n ) drop ;
: m+ ( d1 n -- d2 ) s>d d+ ;
: d0= ( xd -- flag ) or 0= ;
: d0< ( d -- flag ) nip 0< ;
: d= ( xd1 xd2 -- flag ) rot = -rot = and ;
: d< ( d1 d2 -- flag ) rot 2dup = if 2drop u< else > nip nip then ;
: d2* ( xd1 -- xd2 ) 2dup d+ ;
: 2constant ( x1 x2 "name" -- ) create , , does> ( -- x1 x2 ) 2@ ;
: 2variable ( "name" -- ) create 0 , 0 , ;
: 2literal ( x1 x2 -- ) swap postpone literal postpone literal ; immediate

\ Numeric output
: . ( n -- ) dup abs 0 <# #s rot sign #> type space ;
: u. ( u -- ) 0 <# #s #> type space ;
: d. ( d -- ) tuck dabs <# #s rot sign #> type space ;
: ud. ( ud -- ) <# #s #> type space ;
: .r ( n1 n2 -- ) >r dup abs 0 <# #s rot sign #> r> over - spaces type ;
: u.r ( u n -- ) >r 0 <# #s #> r> over - spaces type ;
: d.r ( d n -- ) >r tuck dabs <# #s rot sign #> r> over - spaces type ;
: ? ( a-addr -- ) @ . ;
: holds ( c-addr u -- ) begin dup while 1- 2dup + c@ hold repeat 2drop ;

\ Memory and strings
: erase ( addr u -- ) 0 fill ;
: blank ( c-addr u -- ) bl fill ;
: /string ( c-addr1 u1 n -- c-addr2 u2 ) rot over + -rot - ;
: -trailing ( c-addr u1 -- c-addr u2 )
  begin dup while 2dup + 1- c@ bl = while 1- repeat then ;
: buffer: ( u "name" -- ) create allot ;

\ Deferred words
: is ( xt "name" -- )
  state @ if postpone ['] postpone defer! else ' defer! then ; immediate
: action-of ( "name" -- xt )
  state @ if postpone ['] postpone defer@ else ' defer@ then ; immediate

\ CASE: the count of ENDOFs to resolve stays on top of the control-flow stack.
\ AFD dialect: an OF right after a string literal compares strings, so a CASE can select
\ on a ( c-addr u ) pair:  region case "EU" of ... endof ... endcase
\ The count then carries a flag, and ENDCASE drops a two-cell selector.
1 40 lshift constant (string-case)
: case ( C: -- 0 ) 0 ; immediate
: of ( C: n -- orig n+1 ) ( x1 x2 -- | x1 ) ( c-addr1 u1 c-addr2 u2 -- | c-addr1 u1 )
  (string-literal?) if
    1+ (string-case) or >r
    postpone 2over postpone string= postpone if postpone 2drop r>
  else
    1+ >r postpone over postpone = postpone if postpone drop r>
  then ; immediate
: endof ( C: orig1 n -- orig2 n ) >r postpone else r> ; immediate
: endcase ( C: orig1 ... origN N -- ) ( x -- ) ( c-addr u -- )
  dup (string-case) and if postpone 2drop else postpone drop then
  (string-case) invert and 0 ?do postpone then loop ; immediate

: .( ( "ccc<paren>" -- ) [char] ) parse type ; immediate
