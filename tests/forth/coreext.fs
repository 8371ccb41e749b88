\ coreext.fs -- tests for the Forth 2012 CORE EXT word set (6.2).
\ Output words (.( .R U.R) are checked in output.fs.  BUFFER: and HOLDS,
\ which gforth 0.7.3 lacks, are in core2012.fs.

decimal
 0 constant f0
-1 constant f1
 0 invert 1 rshift constant nmax
 nmax invert constant nmin

testing TRUE FALSE
T{ true -> -1 }T
T{ false -> 0 }T
T{ true 0= -> false }T
T{ false invert -> true }T

testing 0<> 0> <> U>
T{ 0 0<> -> f0 }T
T{ 1 0<> -> f1 }T
T{ -1 0<> -> f1 }T
T{ nmin 0<> -> f1 }T
T{ 0 0> -> f0 }T
T{ 1 0> -> f1 }T
T{ -1 0> -> f0 }T
T{ nmax 0> -> f1 }T
T{ nmin 0> -> f0 }T
T{ 1 1 <> -> f0 }T
T{ 1 2 <> -> f1 }T
T{ -1 1 <> -> f1 }T
T{ nmin nmin <> -> f0 }T
T{ 1 0 u> -> f1 }T
T{ 0 1 u> -> f0 }T
T{ 3 3 u> -> f0 }T
T{ -1 0 u> -> f1 }T
T{ 0 -1 u> -> f0 }T
T{ nmin nmax u> -> f1 }T
T{ nmax nmin u> -> f0 }T

testing NIP TUCK PICK ROLL
T{ 1 2 nip -> 2 }T
T{ 1 2 3 nip -> 1 3 }T
T{ 1 2 tuck -> 2 1 2 }T
T{ 1 2 3 tuck -> 1 3 2 3 }T
T{ 1 2 3 0 pick -> 1 2 3 3 }T
T{ 1 2 3 1 pick -> 1 2 3 2 }T
T{ 1 2 3 2 pick -> 1 2 3 1 }T
T{ 9 0 pick -> 9 9 }T
T{ 1 2 3 0 roll -> 1 2 3 }T
T{ 1 2 3 1 roll -> 1 3 2 }T
T{ 1 2 3 2 roll -> 2 3 1 }T
T{ 1 2 3 4 3 roll -> 2 3 4 1 }T
T{ 5 0 roll -> 5 }T
T{ 1 2 3 4 5 6 7 8 9 10 9 roll -> 2 3 4 5 6 7 8 9 10 1 }T
T{ 1 2 3 4 5 6 7 8 9 10 9 pick -> 1 2 3 4 5 6 7 8 9 10 1 }T
T{ 1 2 3 4 3 roll 3 roll 3 roll -> 4 1 2 3 }T
T{ 1 2 3 4 3 roll 3 roll 3 roll 3 roll -> 1 2 3 4 }T

testing WITHIN
T{ 1 0 5 within -> f1 }T
T{ 0 0 5 within -> f1 }T
T{ 4 0 5 within -> f1 }T
T{ 5 0 5 within -> f0 }T
T{ -1 0 5 within -> f0 }T
T{ 0 -5 5 within -> f1 }T
T{ -5 -5 5 within -> f1 }T
T{ 5 -5 5 within -> f0 }T
T{ 3 3 3 within -> f0 }T
T{ 10 5 2 within -> f1 }T
T{ 3 5 2 within -> f0 }T
T{ 1 5 2 within -> f1 }T
T{ nmin nmax nmin 1+ within -> f1 }T
T{ nmax nmax nmin 1+ within -> f1 }T
T{ 0 nmax nmin 1+ within -> f0 }T
T{ nmax nmin nmax within -> f0 }T
T{ nmax 1- nmin nmax within -> f1 }T
T{ -1 0 -1 within -> f0 }T
T{ -2 0 -1 within -> f1 }T

testing 2>R 2R> 2R@
: t2r1 ( x y -- x y x y ) 2>r 2r@ 2r> ;
T{ 1 2 t2r1 -> 1 2 1 2 }T
: t2r2 ( x y -- y x ) 2>r r> r> ;
T{ 1 2 t2r2 -> 2 1 }T
: t2r3 ( x y -- x y ) >r >r 2r> swap ;
T{ 1 2 t2r3 -> 1 2 }T
: t2r4 ( x y z -- y z x ) >r 2>r r> 2r> ;
T{ 1 2 3 t2r4 -> 2 3 1 }T
: t2r5 ( x y -- x y ) 2>r 2r@ 2drop 2r> ;
T{ nmin nmax t2r5 -> nmin nmax }T

testing :NONAME
:noname 1 2 + ; constant nn1
T{ nn1 execute -> 3 }T
T{ :noname ( n -- 2n ) dup + ; 21 swap execute -> 42 }T
:noname ( n -- n! ) dup 2 < if drop 1 else dup 1- recurse * then ; constant nn-fact
T{ 6 nn-fact execute -> 720 }T
variable nn-xt
:noname 99 ; nn-xt !
T{ nn-xt @ execute -> 99 }T
: call-nn ( -- ) nn-xt @ execute ;
T{ call-nn -> 99 }T

testing ?DO
: qd1 ( limit start -- i*x ) ?do i loop ;
T{ 5 5 qd1 -> }T
T{ 5 2 qd1 -> 2 3 4 }T
T{ -1 -3 qd1 -> -3 -2 }T
T{ nmin nmax qd1 -> nmax }T
: qd2 ( limit start -- i*x ) ?do i -1 +loop ;
T{ 2 2 qd2 -> }T
T{ 0 2 qd2 -> 2 1 0 }T
: qd3 ( limit start -- i*x ) ?do i 3 +loop ;
T{ 0 0 qd3 -> }T
T{ 10 0 qd3 -> 0 3 6 9 }T
: qd4 ( -- i*x ) 4 1 ?do i 2 = if leave then i loop 99 ;
T{ qd4 -> 1 99 }T
: qd5 ( -- i*x ) 3 0 ?do 0 0 ?do 1000 loop i loop ;
T{ qd5 -> 0 1 2 }T

testing AGAIN
: ag1 ( -- n ) 0 begin 1+ dup 10 = if exit then again ;
T{ ag1 -> 10 }T
: ag2 ( n -- 2^k ) 1 begin 2* over 0 do loop swap 1- swap over 0= if nip exit then again ;
T{ 3 ag2 -> 8 }T

testing CASE OF ENDOF ENDCASE
: cs1 ( n -- m )
   case
     1 of 100 endof
     2 of 200 endof
     -1 of -100 endof
     999 swap
   endcase ;
T{ 1 cs1 -> 100 }T
T{ 2 cs1 -> 200 }T
T{ -1 cs1 -> -100 }T
T{ 3 cs1 -> 999 }T
T{ 0 cs1 -> 999 }T
: cs2 ( n -- ) case endcase ;
T{ 5 cs2 -> }T
: cs3 ( n -- m ) case 7 of 70 endof endcase ;
T{ 7 cs3 -> 70 }T
T{ 8 cs3 -> }T
: cs4 ( a b -- m )
   case
     1 of case 1 of 11 endof 2 of 12 endof 10 swap endcase endof
     2 of case 1 of 21 endof 20 swap endcase endof
     drop 0 swap
   endcase ;
T{ 1 1 cs4 -> 11 }T
T{ 2 1 cs4 -> 12 }T
T{ 3 1 cs4 -> 10 }T
T{ 1 2 cs4 -> 21 }T
T{ 5 2 cs4 -> 20 }T
T{ 1 3 cs4 -> 0 }T
: cs6 ( n -- n' ) case nmin of 1 endof nmax of 2 endof dup endcase ;
T{ nmin cs6 -> 1 }T
T{ nmax cs6 -> 2 }T
T{ 0 cs6 -> 0 }T

testing C"
: cq1 c" hello" ;
: cq2 c" " ;
T{ cq1 count nip -> 5 }T
T{ cq1 c@ -> 5 }T
T{ cq1 count s" hello" t-same -> f1 }T
T{ cq2 c@ -> 0 }T
T{ cq1 cq1 = -> f1 }T
: cq-find c" dup" find ;
T{ cq-find -> ' dup -1 }T

testing COMPILE,
: comp-sq ( -- ) ['] dup compile, ['] * compile, ; immediate
: use-comp-sq ( n -- n*n ) comp-sq ;
T{ 7 use-comp-sq -> 49 }T
:noname ( n -- n+1 ) 1+ ; constant inc-xt
: comp-inc ( -- ) inc-xt compile, ; immediate
: use-comp-inc ( n -- n+2 ) comp-inc comp-inc ;
T{ 40 use-comp-inc -> 42 }T
: comp-n ( n "name" -- ) ' swap 0 ?do dup compile, loop drop ; immediate
: four-times-2* ( n -- n*16 ) [ 4 ] comp-n 2* ;
T{ 1 four-times-2* -> 16 }T

testing DEFER IS DEFER@ DEFER! ACTION-OF
defer df1
' dup is df1
T{ 3 df1 -> 3 3 }T
' swap is df1
T{ 1 2 df1 -> 2 1 }T
T{ ' df1 defer@ -> ' swap }T
' over ' df1 defer!
T{ 1 2 df1 -> 1 2 1 }T
T{ ' df1 defer@ -> ' over }T
T{ action-of df1 -> ' over }T
: get-df1 ( -- xt ) action-of df1 ;
T{ get-df1 -> ' over }T
: set-df1 ( xt -- ) is df1 ;
' drop set-df1
T{ 1 2 df1 -> 1 }T
T{ get-df1 -> ' drop }T
: use-df1 ( ... ) df1 ;
' negate is df1
T{ 5 use-df1 -> -5 }T
' invert is df1
T{ 5 use-df1 -> -6 }T
defer df2
:noname 77 ; is df2
T{ df2 -> 77 }T
: df-recurse ( n -- ) dup 0> if dup 1- df2 then ;
' df-recurse is df2
T{ 3 df2 -> 3 2 1 0 }T

testing VALUE TO
111 value val1
-1 value val2
T{ val1 -> 111 }T
T{ val2 -> -1 }T
T{ 222 to val1 val1 -> 222 }T
: set-val1 ( n -- ) to val1 ;
T{ 333 set-val1 val1 -> 333 }T
: get-val1 ( -- n ) val1 ;
T{ 444 to val1 get-val1 -> 444 }T
T{ nmin to val2 val2 -> nmin }T
0 value val3
: incr-val3 ( -- ) val3 1+ to val3 ;
T{ incr-val3 incr-val3 incr-val3 val3 -> 3 }T

testing ERASE PAD
create erbuf 8 chars allot
: erbuf@ ( -- c1..c4 ) 4 0 do erbuf i chars + c@ loop ;
T{ erbuf 4 255 fill erbuf@ -> 255 255 255 255 }T
T{ erbuf 4 erase erbuf@ -> 0 0 0 0 }T
T{ erbuf 4 255 fill erbuf char+ 2 erase erbuf@ -> 255 0 0 255 }T
T{ erbuf 4 255 fill erbuf 0 erase erbuf@ -> 255 255 255 255 }T
T{ pad 0<> -> f1 }T
T{ 42 pad c! pad c@ -> 42 }T
T{ pad 84 chars 7 fill pad 83 chars + c@ -> 7 }T
T{ pad pad = -> f1 }T

testing HEX
T{ base @ hex base @ decimal base @ -> 10 16 10 }T
T{ hex FF decimal -> 255 }T
T{ hex 10 decimal -> 16 }T
T{ hex -1F decimal -> -31 }T
T{ hex 7FFFFFFFFFFFFFFF decimal -> nmax }T

testing PARSE PARSE-NAME
T{ char | parse abc| nip -> 3 }T
T{ char | parse | nip -> 0 }T
T{ char ; parse one two; s" one two" t-same -> f1 }T
T{ s" char | parse abc def" evaluate nip -> 7 }T
T{ s" char x parse x" evaluate nip -> 0 }T
T{ s" char x parse abx" evaluate s" ab" t-same -> f1 }T
T{ s" char | parse" evaluate nip -> 0 }T
T{ s" bl parse  " evaluate nip -> 0 }T
T{ parse-name abc nip -> 3 }T
T{ parse-name     spaced s" spaced" t-same -> f1 }T
T{ s" parse-name" evaluate nip -> 0 }T
T{ s" parse-name     " evaluate nip -> 0 }T
T{ s" parse-name   xyz" evaluate s" xyz" t-same -> f1 }T
T{ s" parse-name ab 7" evaluate rot rot s" ab" t-same -> 7 f1 }T
: pn2 ( "a" "b" -- u1 u2 ) parse-name nip parse-name nip ;
T{ pn2 abc de -> 3 2 }T
T{ s" pn2 x" evaluate -> 1 0 }T

testing SOURCE-ID
T{ source-id 0<> -> f1 }T
T{ source-id -1 <> -> f1 }T
T{ s" source-id" evaluate -> -1 }T
: sid ( -- n ) source-id ;
T{ s" sid" evaluate -> -1 }T
T{ sid -> source-id }T

testing REFILL
T{ refill
99 -> true 99 }T
variable rf-v
T{ 0 rf-v ! refill 1 rf-v ! rf-v @
rf-v @ -> true 0 }T
T{ s" refill" evaluate -> false }T

testing SAVE-INPUT RESTORE-INPUT
create ri-spec 16 cells allot
variable ri-len
variable ri-count
variable ri-flag
: save-it ( -- ) save-input dup ri-len ! 0 ?do ri-spec i cells + ! loop ;
: restore-it ( -- )
   ri-len @ 0 ?do ri-spec ri-len @ 1- i - cells + @ loop
   ri-len @ restore-input ri-flag ! ;
: again<3 ( -- ) ri-count @ 3 < if restore-it then ;
T{ 0 ri-count ! 0 ri-flag ! s" save-it 1 ri-count +! again<3 ri-count @" evaluate -> 3 }T
T{ ri-flag @ -> f0 }T
0 ri-count ! 0 ri-flag ! save-it 1 ri-count +! again<3
T{ ri-count @ ri-flag @ -> 3 f0 }T

testing MARKER
T{ here marker mk1 mk1 here = -> f1 }T
marker mk2
: mk2-word 123 ;
T{ mk2-word -> 123 }T
mk2
T{ bl word mk2-word find nip -> 0 }T
T{ bl word mk2 find nip -> 0 }T
T{ here marker mk3 100 allot mk3 here = -> f1 }T

testing UNUSED
align
T{ unused 0> -> f1 }T
T{ unused 16 allot unused - -16 allot -> 16 }T
T{ unused 5 , unused - -1 cells allot -> 1 cells }T

testing S\" (\n is assumed to be LF, as on POSIX systems)
: sb1 s\" a\tb" ;
T{ sb1 nip -> 3 }T
T{ sb1 drop char+ c@ -> 9 }T
T{ s\" \a" drop c@ -> 7 }T
T{ s\" \b" drop c@ -> 8 }T
T{ s\" \e" drop c@ -> 27 }T
T{ s\" \f" drop c@ -> 12 }T
T{ s\" \l" drop c@ -> 10 }T
T{ s\" \n" nip -> 1 }T
T{ s\" \n" drop c@ -> 10 }T
T{ s\" \q" drop c@ -> 34 }T
T{ s\" \r" drop c@ -> 13 }T
T{ s\" \t" drop c@ -> 9 }T
T{ s\" \v" drop c@ -> 11 }T
T{ s\" \z" drop c@ -> 0 }T
T{ s\" \z" nip -> 1 }T
T{ s\" \"" drop c@ -> 34 }T
T{ s\" \\" drop c@ -> 92 }T
T{ s\" \\" nip -> 1 }T
T{ s\" \x41" drop c@ -> 65 }T
T{ s\" \xff" drop c@ -> 255 }T
T{ s\" \x7E\x20" drop dup c@ swap char+ c@ -> 126 32 }T
T{ s\" \m" nip -> 2 }T
T{ s\" \m" drop dup c@ swap char+ c@ -> 13 10 }T
T{ s\" ab\"cd" nip -> 5 }T
: sb3 s\" a\\b\"c" ;
T{ sb3 nip -> 5 }T
T{ sb3 drop 1 chars + c@ -> 92 }T
T{ sb3 drop 3 chars + c@ -> 34 }T
T{ s\" plain" s" plain" t-same -> f1 }T
T{ s\" " nip -> 0 }T
: sb2 s\" x\x30\zy" ;
T{ sb2 nip -> 4 }T
T{ sb2 drop 1 chars + c@ -> 48 }T
T{ sb2 drop 2 chars + c@ -> 0 }T

testing [COMPILE]
: my-then [compile] then ; immediate
: use-my-then ( flag -- n ) if 1 my-then 2 ;
T{ 0 use-my-then -> 2 }T
T{ 5 use-my-then -> 1 2 }T
: my-dup [compile] dup ;
T{ 3 my-dup -> 3 3 }T

testing \ comments
T{ 1 \ 2
-> 1 }T
T{ s" 1 \ 2 3" evaluate -> 1 }T
T{ s" \" evaluate -> }T
T{ 4 5 \ }T \ nothing here is seen
-> 4 5 }T

testing CASE inside loops, VALUE in loops, ?DO with LEAVE
: case-loop ( -- i*x ) 6 0 do i case 1 of 10 endof 3 of leave endof 100 swap endcase loop ;
T{ case-loop -> 100 10 100 }T
0 value acc
: sum-to ( n -- ) 0 to acc 1+ 1 ?do acc i + to acc loop ;
T{ 100 sum-to acc -> 5050 }T
T{ 0 sum-to acc -> 0 }T
: qd-leave ( n -- i*x ) 0 ?do i leave loop ;
T{ 5 qd-leave -> 0 }T
T{ 0 qd-leave -> }T
