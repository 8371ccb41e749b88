\ tools.fs -- tests for the Forth 2012 PROGRAMMING-TOOLS word set (15.6):
\ [IF] [ELSE] [THEN] (nested, spanning lines), [DEFINED] [UNDEFINED], and
\ ? .S DUMP WORDS SEE, which are only checked for leaving the stack alone
\ (their output is not compared).

decimal
 0 constant f0
-1 constant f1
 0 invert 1 rshift invert constant nmin

testing [IF] [ELSE] [THEN] on one line
T{ true [if] 1 [else] 2 [then] -> 1 }T
T{ false [if] 1 [else] 2 [then] -> 2 }T
T{ true [if] 3 [then] -> 3 }T
T{ false [if] 3 [then] -> }T
T{ 5 [if] 4 [then] -> 4 }T
T{ -1 [if] 4 [then] -> 4 }T
T{ 0 [if] [else] 6 [then] -> 6 }T
T{ 1 [if] [else] 6 [then] -> }T

testing nested [IF]
T{ true [if] 1 true [if] 2 [else] 3 [then] [else] 4 [then] -> 1 2 }T
T{ true [if] 1 false [if] 2 [else] 3 [then] [else] 4 [then] -> 1 3 }T
T{ false [if] 1 true [if] 2 [else] 3 [then] [else] 4 [then] -> 4 }T
T{ false [if] 1 false [if] 2 [else] 3 [then] 5 [else] 4 [then] -> 4 }T
T{ false [if] [if] [else] [then] [if] [then] 7 [else] 8 [then] -> 8 }T
T{ true [if] 1 [else] [if] 2 [else] 3 [then] 9 [then] -> 1 }T
T{ false [if] false [if] 1 [else] 2 [then] [else] false [if] 3 [else] 4 [then] [then] -> 4 }T

testing [IF] [ELSE] [THEN] across lines
T{ true [if]
   11
[else]
   22
[then] -> 11 }T
T{ false [if]
   11
[else]
   22
[then] -> 22 }T
T{ false [if]
   this text is skipped, even words that do not exist: xyzzy-undefined
   true [if] nested-undefined [else] also-undefined [then]
   ( an unclosed comment is not parsed either
[else]
   33
[then] -> 33 }T
T{ false [if] 1
[then] -> }T

testing case-insensitive [IF] [ELSE] [THEN] (environmental: AFD and gforth ignore case)
T{ false [IF] 1 [ELSE] 2 [THEN] -> 2 }T
T{ false [If] 1 [Else] 2 [Then] -> 2 }T

testing [IF] inside a definition
: cond-def ( -- n ) [ true ] [if] 10 [else] 20 [then] ;
T{ cond-def -> 10 }T
: cond-def2 ( -- n ) [ false ] [if] 10 [else] 20 [then] ;
T{ cond-def2 -> 20 }T

testing [DEFINED] [UNDEFINED]
: tools-defined-word ;
T{ [defined] dup -> f1 }T
T{ [defined] tools-defined-word -> f1 }T
T{ [defined] no-such-tools-word-xyz -> f0 }T
T{ [undefined] dup -> f0 }T
T{ [undefined] no-such-tools-word-xyz -> f1 }T
T{ [undefined] tools-defined-word -> f0 }T
T{ [defined] [if] -> f1 }T
T{ [defined] dup [if] 1 [else] 2 [then] -> 1 }T
T{ [undefined] dup [if] 1 [else] 2 [then] -> 2 }T
: def-in-def ( -- flag ) [ [defined] swap ] literal ;
T{ def-in-def -> f1 }T

testing ? .S DUMP WORDS SEE leave the stack unchanged
variable tv  123 tv !
T{ tv ? -> }T
T{ 1 2 3 tv ? -> 1 2 3 }T
T{ .s -> }T
T{ 4 5 6 .s -> 4 5 6 }T
T{ -1 nmin .s 2drop -> }T
create dbuf 32 chars allot  dbuf 32 char A fill
T{ dbuf 32 dump -> }T
T{ 7 dbuf 5 dump -> 7 }T
T{ dbuf 0 dump -> }T
T{ words -> }T
T{ 8 words -> 8 }T
: see-me ( n -- n' ) dup 0> if 1+ else 1- then ;
T{ see see-me -> }T
T{ 9 see see-me -> 9 }T
T{ see dup -> }T
T{ 3 see-me -5 see-me -> 4 -6 }T
cr
