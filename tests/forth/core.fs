\ core.fs -- tests for the Forth 2012 CORE word set (6.1).
\ Environmental assumptions (true of AFD and of 64-bit gforth): cells are
\ 64 bits, two's-complement arithmetic wraps around on overflow (+ - * 1+
\ 2* ...), an aligned address is a multiple of the cell size, and 1 CHARS is
\ one address unit.
\ The "random" sections at the end hold values computed offline (Python
\ big integers) for UM* M* UM/MOD FM/MOD SM/REM */ */MOD, <# #S #>, >NUMBER.
\ Words tested elsewhere: output words (. U. TYPE EMIT CR SPACE SPACES .")
\ in output.fs, ABORT and ABORT" in exception.fs.  ACCEPT, KEY and QUIT need
\ an interactive terminal and are not tested.
\ Division rounding (floored or symmetric) is implementation-defined; the
\ tests accept either, as long as / MOD /MOD */ */MOD agree with each other.

decimal

testing constants used below
 0 constant f0                        \ false flag
-1 constant f1                        \ true flag: all bits set
 0 invert constant ones               \ largest unsigned number
 ones 1 rshift constant nmax          \ largest signed number
 nmax invert constant nmin            \ smallest signed number
 nmin constant hibit                  \ only the top bit set
 1 62 lshift constant two^62
 1 32 lshift constant two^32

testing the constants themselves
T{ f0 -> 0 }T
T{ f1 -> -1 }T
T{ ones -> -1 }T
T{ nmax -> 9223372036854775807 }T
T{ nmin -> -9223372036854775808 }T
T{ two^62 -> 4611686018427387904 }T
T{ two^32 -> 4294967296 }T
T{ 1 cells -> 8 }T

testing DECIMAL BASE
T{ base @ -> 10 }T
T{ 16 base ! base @ decimal base @ -> 16 10 }T
T{ 2 base ! 1010 decimal -> 10 }T
T{ 8 base ! 777 decimal -> 511 }T
T{ 36 base ! Z decimal -> 35 }T
T{ 16 base ! FF decimal -> 255 }T

testing 0= 0< = < > U<
T{ 0 0= -> f1 }T
T{ 1 0= -> f0 }T
T{ -1 0= -> f0 }T
T{ nmin 0= -> f0 }T
T{ 0 0< -> f0 }T
T{ -1 0< -> f1 }T
T{ 1 0< -> f0 }T
T{ nmin 0< -> f1 }T
T{ nmax 0< -> f0 }T
T{ 0 0 = -> f1 }T
T{ 7 7 = -> f1 }T
T{ -7 -7 = -> f1 }T
T{ 7 -7 = -> f0 }T
T{ nmin nmax = -> f0 }T
T{ 1 2 < -> f1 }T
T{ 2 1 < -> f0 }T
T{ 3 3 < -> f0 }T
T{ -1 0 < -> f1 }T
T{ 0 -1 < -> f0 }T
T{ nmin nmax < -> f1 }T
T{ nmax nmin < -> f0 }T
T{ nmin 0 < -> f1 }T
T{ nmin nmin 1+ < -> f1 }T
T{ nmax 1- nmax < -> f1 }T
T{ 2 1 > -> f1 }T
T{ 1 2 > -> f0 }T
T{ 4 4 > -> f0 }T
T{ 0 -1 > -> f1 }T
T{ nmax nmin > -> f1 }T
T{ nmin nmax > -> f0 }T
T{ 1 2 u< -> f1 }T
T{ 2 1 u< -> f0 }T
T{ 5 5 u< -> f0 }T
T{ 0 -1 u< -> f1 }T
T{ -1 0 u< -> f0 }T
T{ nmax nmin u< -> f1 }T
T{ nmin nmax u< -> f0 }T
T{ -2 -1 u< -> f1 }T

testing AND OR XOR INVERT
T{ 0 0 and -> 0 }T
T{ -1 0 and -> 0 }T
T{ -1 -1 and -> -1 }T
T{ 12 10 and -> 8 }T
T{ 0 0 or -> 0 }T
T{ 12 10 or -> 14 }T
T{ -1 0 or -> -1 }T
T{ 12 10 xor -> 6 }T
T{ -1 -1 xor -> 0 }T
T{ -1 0 xor -> -1 }T
T{ hibit 1 xor -> nmin 1+ }T
T{ 0 invert -> -1 }T
T{ -1 invert -> 0 }T
T{ 5 invert -> -6 }T
T{ nmax invert -> nmin }T

testing 2* 2/ LSHIFT RSHIFT
T{ 0 2* -> 0 }T
T{ 1 2* -> 2 }T
T{ -1 2* -> -2 }T
T{ two^62 2* -> hibit }T
T{ hibit 2* -> 0 }T
T{ nmax 2* -> -2 }T
T{ 0 2/ -> 0 }T
T{ 1 2/ -> 0 }T
T{ 6 2/ -> 3 }T
T{ 7 2/ -> 3 }T
T{ -1 2/ -> -1 }T
T{ -2 2/ -> -1 }T
T{ -3 2/ -> -2 }T
T{ nmin 2/ -> -4611686018427387904 }T
T{ nmax 2/ -> 4611686018427387903 }T
T{ 1 0 lshift -> 1 }T
T{ 1 1 lshift -> 2 }T
T{ 1 63 lshift -> hibit }T
T{ 3 62 lshift -> hibit two^62 or }T
T{ -1 8 lshift -> -256 }T
T{ 255 4 lshift -> 4080 }T
T{ 1 0 rshift -> 1 }T
T{ 1 1 rshift -> 0 }T
T{ 256 4 rshift -> 16 }T
T{ -1 1 rshift -> nmax }T
T{ hibit 63 rshift -> 1 }T
T{ -1 60 rshift -> 15 }T
T{ -8 1 rshift -> 9223372036854775804 }T

testing stack words: DROP DUP OVER ROT SWAP ?DUP DEPTH 2DROP 2DUP 2OVER 2SWAP
T{ 1 2 drop -> 1 }T
T{ 0 drop -> }T
T{ 4 dup -> 4 4 }T
T{ -9 dup -> -9 -9 }T
T{ 1 2 over -> 1 2 1 }T
T{ 1 2 3 rot -> 2 3 1 }T
T{ 1 2 3 rot rot -> 3 1 2 }T
T{ 1 2 3 rot rot rot -> 1 2 3 }T
T{ 1 2 swap -> 2 1 }T
T{ 0 ?dup -> 0 }T
T{ 5 ?dup -> 5 5 }T
T{ -1 ?dup -> -1 -1 }T
T{ depth -> 0 }T
T{ 0 depth -> 0 1 }T
T{ 0 1 depth -> 0 1 2 }T
T{ 1 2 3 2drop -> 1 }T
T{ 1 2 2dup -> 1 2 1 2 }T
T{ 1 2 3 4 2over -> 1 2 3 4 1 2 }T
T{ 1 2 3 4 2swap -> 3 4 1 2 }T
T{ 1 2 3 4 5 2swap -> 1 4 5 2 3 }T

testing >R R> R@
: rs1 ( x -- x x ) >r r@ r> ;
: rs2 ( x y -- y x ) >r >r r> r> swap ;
: rs3 ( x y -- x y ) >r >r r> r> ;
T{ 7 rs1 -> 7 7 }T
T{ nmin rs1 -> nmin nmin }T
T{ 1 2 rs2 -> 2 1 }T
T{ 1 2 rs3 -> 1 2 }T
: rs4 ( -- x ) 11 >r 22 >r r> r> - ;
T{ rs4 -> 11 }T

testing + - 1+ 1- ABS NEGATE
T{ 0 0 + -> 0 }T
T{ 2 3 + -> 5 }T
T{ -2 3 + -> 1 }T
T{ -2 -3 + -> -5 }T
T{ nmax 1 + -> nmin }T
T{ -1 1 + -> 0 }T
T{ nmin -1 + -> nmax }T
T{ 5 3 - -> 2 }T
T{ 3 5 - -> -2 }T
T{ 0 1 - -> -1 }T
T{ nmin 1 - -> nmax }T
T{ nmax -1 - -> nmin }T
T{ 0 1+ -> 1 }T
T{ -1 1+ -> 0 }T
T{ nmax 1+ -> nmin }T
T{ ones 1+ -> 0 }T
T{ 2 1- -> 1 }T
T{ 0 1- -> -1 }T
T{ nmin 1- -> nmax }T
T{ 0 abs -> 0 }T
T{ 9 abs -> 9 }T
T{ -9 abs -> 9 }T
T{ nmax abs -> nmax }T
T{ nmin 1+ abs -> nmax }T
T{ nmin abs -> hibit }T
T{ 0 negate -> 0 }T
T{ 3 negate -> -3 }T
T{ -3 negate -> 3 }T
T{ nmax negate -> nmin 1+ }T
T{ nmin 1+ negate -> nmax }T

testing MIN MAX
T{ 1 2 min -> 1 }T
T{ 2 1 min -> 1 }T
T{ -1 1 min -> -1 }T
T{ 3 3 min -> 3 }T
T{ nmin nmax min -> nmin }T
T{ nmax nmin min -> nmin }T
T{ 0 -1 min -> -1 }T
T{ 1 2 max -> 2 }T
T{ 2 1 max -> 2 }T
T{ -1 1 max -> 1 }T
T{ nmin nmax max -> nmax }T
T{ nmax nmin max -> nmax }T
T{ 0 -1 max -> 0 }T

testing S>D *
T{ 0 s>d -> 0 0 }T
T{ 7 s>d -> 7 0 }T
T{ -7 s>d -> -7 -1 }T
T{ nmax s>d -> nmax 0 }T
T{ nmin s>d -> nmin -1 }T
T{ 0 0 * -> 0 }T
T{ 6 7 * -> 42 }T
T{ -6 7 * -> -42 }T
T{ -6 -7 * -> 42 }T
T{ -1 -1 * -> 1 }T
T{ two^32 two^32 * -> 0 }T
T{ two^62 2 * -> hibit }T
T{ nmax 2 * -> -2 }T
T{ 123456789 1000000000 * -> 123456789000000000 }T

testing UM* M*
T{ 0 0 um* -> 0 0 }T
T{ 3 5 um* -> 15 0 }T
T{ 0 -1 um* -> 0 0 }T
T{ -1 1 um* -> -1 0 }T
T{ -1 2 um* -> -2 1 }T
T{ -1 -1 um* -> 1 -2 }T
T{ hibit 2 um* -> 0 1 }T
T{ two^32 two^32 um* -> 0 1 }T
T{ hibit hibit um* -> 0 two^62 }T
T{ 0 0 m* -> 0 0 }T
T{ 3 5 m* -> 15 0 }T
T{ -3 5 m* -> -15 -1 }T
T{ -3 -5 m* -> 15 0 }T
T{ -1 -1 m* -> 1 0 }T
T{ nmin 1 m* -> nmin -1 }T
T{ nmin -1 m* -> hibit 0 }T
T{ nmin nmin m* -> 0 two^62 }T
T{ nmax nmax m* -> 1 two^62 1- }T
T{ nmax nmin m* -> hibit two^62 negate }T
T{ two^32 two^32 m* -> 0 1 }T
T{ two^32 negate two^32 m* -> 0 -1 }T

testing UM/MOD
T{ 0 0 1 um/mod -> 0 0 }T
T{ 1 0 1 um/mod -> 0 1 }T
T{ 7 0 2 um/mod -> 1 3 }T
T{ 100 0 7 um/mod -> 2 14 }T
T{ -1 0 -1 um/mod -> 0 1 }T
T{ -1 0 1 um/mod -> 0 -1 }T
T{ 0 1 2 um/mod -> 0 hibit }T
T{ 0 1 4 um/mod -> 0 two^62 }T
T{ -1 1 -1 um/mod -> 1 2 }T
T{ 5 1 -1 um/mod -> 6 1 }T
T{ -1 -2 -1 um/mod -> -2 -1 }T
T{ -1 -1 um* -1 um/mod -> 0 -1 }T
T{ 987654321 123456789 um* 123456789 um/mod -> 0 987654321 }T
T{ nmax 2 um* 2 um/mod -> 0 nmax }T

testing FM/MOD
T{ 0 s>d 5 fm/mod -> 0 0 }T
T{ 7 s>d 2 fm/mod -> 1 3 }T
T{ -7 s>d 2 fm/mod -> 1 -4 }T
T{ 7 s>d -2 fm/mod -> -1 -4 }T
T{ -7 s>d -2 fm/mod -> -1 3 }T
T{ -10 s>d 3 fm/mod -> 2 -4 }T
T{ 10 s>d -3 fm/mod -> -2 -4 }T
T{ -10 s>d -3 fm/mod -> -1 3 }T
T{ 12 s>d 4 fm/mod -> 0 3 }T
T{ -12 s>d 4 fm/mod -> 0 -3 }T
T{ 1 s>d nmin fm/mod -> nmin 1+ -1 }T
T{ -1 s>d nmin fm/mod -> -1 0 }T
T{ nmin s>d 1 fm/mod -> 0 nmin }T
T{ nmin s>d nmin fm/mod -> 0 1 }T
T{ nmax s>d nmax fm/mod -> 0 1 }T
T{ nmax s>d 1 fm/mod -> 0 nmax }T
T{ nmin s>d 2 fm/mod -> 0 two^62 negate }T
T{ 0 1 4 fm/mod -> 0 two^62 }T
T{ 0 -1 4 fm/mod -> 0 two^62 negate }T
T{ 1 -1 4 fm/mod -> 1 two^62 negate }T
T{ nmax nmax m* nmax fm/mod -> 0 nmax }T
T{ nmin nmin m* nmin fm/mod -> 0 nmin }T
T{ nmin nmax m* nmax fm/mod -> 0 nmin }T

testing SM/REM
T{ 0 s>d 5 sm/rem -> 0 0 }T
T{ 7 s>d 2 sm/rem -> 1 3 }T
T{ -7 s>d 2 sm/rem -> -1 -3 }T
T{ 7 s>d -2 sm/rem -> 1 -3 }T
T{ -7 s>d -2 sm/rem -> -1 3 }T
T{ -10 s>d 3 sm/rem -> -1 -3 }T
T{ 10 s>d -3 sm/rem -> 1 -3 }T
T{ -10 s>d -3 sm/rem -> -1 3 }T
T{ 1 s>d nmin sm/rem -> 1 0 }T
T{ -1 s>d nmin sm/rem -> -1 0 }T
T{ nmin s>d 1 sm/rem -> 0 nmin }T
T{ nmin s>d nmin sm/rem -> 0 1 }T
T{ nmax s>d -1 sm/rem -> 0 nmax negate }T
T{ 0 -1 4 sm/rem -> 0 two^62 negate }T
T{ 1 -1 4 sm/rem -> -3 two^62 negate 1+ }T
T{ nmax nmax m* nmax sm/rem -> 0 nmax }T
T{ nmin nmin m* nmin sm/rem -> 0 nmin }T
T{ nmin nmax m* nmin sm/rem -> 0 nmax }T

testing / MOD /MOD */ */MOD agree with FM/MOD or SM/REM
-7 2 / -4 = constant floored?
: ref/mod ( n1 n2 -- rem quot ) >r s>d r> floored? if fm/mod else sm/rem then ;
: ref*/mod ( n1 n2 n3 -- rem quot ) >r m* r> floored? if fm/mod else sm/rem then ;
T{ -7 2 / -> -7 2 ref/mod nip }T
T{ 0 3 /mod -> 0 0 }T
T{ 7 3 /mod -> 1 2 }T
T{ 9 3 /mod -> 0 3 }T
T{ 7 3 / -> 2 }T
T{ 7 3 mod -> 1 }T
T{ -7 3 /mod -> -7 3 ref/mod }T
T{ 7 -3 /mod -> 7 -3 ref/mod }T
T{ -7 -3 /mod -> -7 -3 ref/mod }T
T{ -7 3 / -> -7 3 ref/mod nip }T
T{ 7 -3 / -> 7 -3 ref/mod nip }T
T{ -7 -3 / -> -7 -3 ref/mod nip }T
T{ -7 3 mod -> -7 3 ref/mod drop }T
T{ 7 -3 mod -> 7 -3 ref/mod drop }T
T{ -7 -3 mod -> -7 -3 ref/mod drop }T
T{ nmin 1 / -> nmin }T
T{ nmax -1 / -> nmin 1+ }T
T{ nmin nmin / -> 1 }T
T{ nmin nmax /mod -> nmin nmax ref/mod }T
T{ nmax nmin /mod -> nmax nmin ref/mod }T
T{ -6 -2 / -> 3 }T
T{ -6 2 mod -> 0 }T
T{ 1 7 mod -> 1 }T
T{ 6 7 3 */ -> 14 }T
T{ -6 7 3 */ -> -14 }T
T{ 5 5 3 */ -> 8 }T
T{ -5 5 3 */ -> -5 5 3 ref*/mod nip }T
T{ 5 -5 3 */mod -> 5 -5 3 ref*/mod }T
T{ 5 5 3 */mod -> 1 8 }T
T{ nmax nmax nmax */ -> nmax }T
T{ nmin nmin nmin */ -> nmin }T
T{ nmin 2 2 */ -> nmin }T
T{ nmax 2 3 */mod -> 2 6148914691236517204 }T
T{ 1000000000000 1000000000000 1000000000 */ -> 1000000000000000 }T
T{ nmin 3 -7 */mod -> nmin 3 -7 ref*/mod }T
T{ nmax -3 5 */mod -> nmax -3 5 ref*/mod }T

testing ! @ +! C! C@ 2! 2@ CELL+ CHAR+ CELLS CHARS
variable v1
T{ 123 v1 ! v1 @ -> 123 }T
T{ -1 v1 ! v1 @ -> -1 }T
T{ nmin v1 ! v1 @ -> nmin }T
T{ 10 v1 ! 5 v1 +! v1 @ -> 15 }T
T{ -20 v1 +! v1 @ -> -5 }T
T{ 0 v1 ! -1 v1 +! v1 @ -> -1 }T
create b1 4 cells allot
T{ 7 8 b1 2! b1 2@ -> 7 8 }T
T{ b1 @ -> 8 }T
T{ b1 cell+ @ -> 7 }T
T{ -1 nmin b1 2! b1 2@ -> -1 nmin }T
T{ b1 cell+ b1 - -> 1 cells }T
T{ b1 2 cells + b1 cell+ cell+ = -> f1 }T
T{ 0 cells -> 0 }T
T{ 3 cells -> 24 }T
T{ 1 chars 1 < -> f0 }T
T{ 1 chars 1 cells > -> f0 }T
T{ 0 chars -> 0 }T
T{ b1 char+ b1 - -> 1 chars }T
T{ 65 b1 c! b1 c@ -> 65 }T
T{ 255 b1 c! b1 c@ -> 255 }T
T{ 0 b1 c! b1 c@ -> 0 }T
T{ 1 b1 char+ c! 2 b1 c! b1 char+ c@ b1 c@ -> 1 2 }T

testing VARIABLE CONSTANT
variable v2
T{ 77 v2 ! v2 @ -> 77 }T
T{ v1 v2 = -> f0 }T
T{ v2 aligned -> v2 }T
99 constant c99
-5 constant cm5
T{ c99 -> 99 }T
T{ cm5 -> -5 }T
T{ : usec c99 cm5 + ; usec -> 94 }T

testing HERE , C, ALLOT ALIGN ALIGNED
T{ here 1 cells allot here swap - -> 1 cells }T
T{ here 0 allot here = -> f1 }T
T{ here 40 allot -40 allot here = -> f1 }T
align
here 1 , 2 , constant two-cells
T{ two-cells @ two-cells cell+ @ -> 1 2 }T
T{ here 1 , 2 , here swap - -> 2 cells }T
T{ here 9 c, here swap - -> 1 chars }T
here 1 chars - constant the-char
T{ the-char c@ -> 9 }T
T{ align here aligned here = -> f1 }T
T{ align here 1 cells mod -> 0 }T
T{ 0 aligned -> 0 }T
T{ 1 aligned -> 1 cells }T
T{ 1 cells 1- aligned -> 1 cells }T
T{ 1 cells aligned -> 1 cells }T
T{ 1 cells 1+ aligned -> 2 cells }T
T{ align here 3 c, align here swap - -> 1 cells }T
T{ align here 1 allot align here swap - -> 1 cells }T

testing IF ELSE THEN
: gi1 ( flag -- n ) if 1 then ;
: gi2 ( flag -- n ) if 1 else 2 then ;
: gi3 ( n -- m ) dup 0< if drop -1 else 0> if 1 else 0 then then ;
T{ 0 gi1 -> }T
T{ 1 gi1 -> 1 }T
T{ -1 gi1 -> 1 }T
T{ nmin gi1 -> 1 }T
T{ 0 gi2 -> 2 }T
T{ 5 gi2 -> 1 }T
T{ -9 gi3 -> -1 }T
T{ 0 gi3 -> 0 }T
T{ 9 gi3 -> 1 }T

testing BEGIN UNTIL WHILE REPEAT
: bu1 ( n -- 0..n ) begin dup 1- dup 0= until ;
T{ 3 bu1 -> 3 2 1 0 }T
T{ 1 bu1 -> 1 0 }T
: bw1 ( n -- n*2^k ) begin dup 100 < while 2* repeat ;
T{ 3 bw1 -> 192 }T
T{ 200 bw1 -> 200 }T
: bw2 ( n -- n' code ) begin dup 10 < while dup 5 <> while 1+ repeat 100 else 200 then ;
T{ 0 bw2 -> 5 100 }T
T{ 5 bw2 -> 5 100 }T
T{ 7 bw2 -> 10 200 }T
T{ 12 bw2 -> 12 200 }T
: bw3 ( -- sum ) 0 5 begin dup while swap over + swap 1- repeat drop ;
T{ bw3 -> 15 }T

testing DO LOOP I J
: dl1 ( limit start -- i*x ) do i loop ;
T{ 4 1 dl1 -> 1 2 3 }T
T{ 2 -1 dl1 -> -1 0 1 }T
T{ 1 0 dl1 -> 0 }T
T{ nmin nmax dl1 -> nmax }T
T{ 0 -1 dl1 -> -1 }T
T{ 1 -1 dl1 -> -1 0 }T
T{ nmin 1+ nmax 1- dl1 -> nmax 1- nmax nmin }T
: dl2 ( -- sum ) 0 100 0 do i + loop ;
T{ dl2 -> 4950 }T
: dl3 ( -- i*x ) 3 0 do 2 0 do i j loop loop ;
T{ dl3 -> 0 0 1 0 0 1 1 1 0 2 1 2 }T
: dl4 ( -- n ) 0 3 0 do 3 0 do 4 0 do 1+ loop loop loop ;
T{ dl4 -> 36 }T

testing +LOOP with positive, negative and large steps
variable step
: pl1 ( limit start -- i*x ) do i step @ +loop ;
T{ 2 step ! 10 0 pl1 -> 0 2 4 6 8 }T
T{ 3 step ! 10 0 pl1 -> 0 3 6 9 }T
T{ 5 step ! 10 0 pl1 -> 0 5 }T
T{ 10 step ! 10 0 pl1 -> 0 }T
T{ 100 step ! 10 0 pl1 -> 0 }T
T{ 1 step ! 3 0 pl1 -> 0 1 2 }T
T{ -1 step ! 0 3 pl1 -> 3 2 1 0 }T
T{ -2 step ! 0 10 pl1 -> 10 8 6 4 2 0 }T
T{ -3 step ! 0 10 pl1 -> 10 7 4 1 }T
T{ -1 step ! 5 5 pl1 -> 5 }T
T{ -5 step ! -10 0 pl1 -> 0 -5 -10 }T
T{ -1 step ! -2 1 pl1 -> 1 0 -1 -2 }T
T{ -1 step ! nmax nmin 1+ pl1 -> nmin 1+ nmin nmax }T
T{ nmax step ! nmin 0 pl1 -> 0 nmax }T
T{ nmax step ! nmin 1+ 0 pl1 -> 0 nmax }T
T{ hibit step ! 0 hibit pl1 -> hibit 0 }T
T{ nmin step ! nmax 0 pl1 -> 0 nmin }T
T{ two^62 step ! 0 0 pl1 -> 0 two^62 hibit hibit two^62 + }T
T{ 1 step ! nmin nmax 1- pl1 -> nmax 1- nmax }T
T{ 1 step ! 1 -2 pl1 -> -2 -1 0 }T
T{ two^62 negate step ! 0 0 pl1 -> 0 }T
T{ two^62 negate step ! 1 0 pl1 -> 0 two^62 negate hibit two^62 }T

testing LEAVE UNLOOP EXIT
: lv1 ( -- i*x ) 10 0 do i dup 3 = if leave then loop ;
T{ lv1 -> 0 1 2 3 }T
: lv2 ( -- i*x ) 3 0 do 10 0 do i 1 = if leave then i j loop loop ;
T{ lv2 -> 0 0 0 1 0 2 }T
: lv3 ( -- i*x ) 5 0 do i leave 1000 loop ;
T{ lv3 -> 0 }T
: ue1 ( -- n ) 10 0 do i 4 = if i unloop exit then loop 99 ;
T{ ue1 -> 4 }T
: ue2 ( -- i j ) 5 0 do 5 0 do j 2 = i 3 = and if i j unloop unloop exit then loop loop -1 ;
T{ ue2 -> 3 2 }T
: ex1 ( -- n ) 1 exit 2 ;
T{ ex1 -> 1 }T
: ex2 ( flag -- n ) if 10 exit then 20 ;
T{ 1 ex2 -> 10 }T
T{ 0 ex2 -> 20 }T

testing RECURSE
: fact ( n -- n! ) dup 2 < if drop 1 else dup 1- recurse * then ;
T{ 0 fact -> 1 }T
T{ 5 fact -> 120 }T
T{ 20 fact -> 2432902008176640000 }T
: fib ( n -- fib ) dup 2 < if exit then dup 1- recurse swap 2 - recurse + ;
T{ 10 fib -> 55 }T
T{ 20 fib -> 6765 }T
: cnt-down ( n -- n..0 ) dup 0> if dup 1- recurse then ;
T{ 3 cnt-down -> 3 2 1 0 }T

testing : ; and visibility of the word being defined
: dup1 ( -- n ) 1 ;
: dup1 ( -- n m ) dup1 2 ;
T{ dup1 -> 1 2 }T
T{ : nop ; nop -> }T
T{ : nop2 ( x -- x ) ; 5 nop2 -> 5 }T

testing ' ['] EXECUTE
T{ 3 4 ' + execute -> 7 }T
T{ ' dup ' dup = -> f1 }T
: tick-plus ( -- xt ) ['] + ;
T{ tick-plus ' + = -> f1 }T
T{ 10 2 tick-plus execute -> 12 }T
: exec-twice ( x xt -- ) dup >r execute r> execute ;
T{ 3 ' 2* exec-twice -> 12 }T
: ex-gi2 ['] gi2 ;
T{ 0 ex-gi2 execute -> 2 }T

testing CHAR [CHAR] BL
T{ char A -> 65 }T
T{ char a -> 97 }T
T{ char zebra -> 122 }T
T{ char 0 -> 48 }T
: cc1 [char] * ;
: cc2 [char] hello ;
T{ cc1 -> 42 }T
T{ cc2 -> 104 }T
T{ bl -> 32 }T

testing [ ] LITERAL STATE
: lit1 [ 3 4 + ] literal ;
T{ lit1 -> 7 }T
: lit2 [ nmin ] literal [ -1 ] literal ;
T{ lit2 -> nmin -1 }T
T{ state @ -> 0 }T
: state? state @ ; immediate
: st1 state? literal ;
T{ st1 0<> -> f1 }T
T{ state? -> 0 }T
: st2 [ state @ ] literal ;
T{ st2 -> 0 }T

testing IMMEDIATE POSTPONE
: imm1 123 ; immediate
: use-imm1 imm1 literal ;
T{ use-imm1 -> 123 }T
: pp-dup postpone dup ; immediate
: use-pp-dup ( x -- x x ) pp-dup ;
T{ 5 use-pp-dup -> 5 5 }T
: pp-imm postpone imm1 postpone literal ; immediate
: use-pp-imm pp-imm ;
T{ use-pp-imm -> 123 }T
: my-if postpone if ; immediate
: my-then postpone then ; immediate
: use-my-if ( flag -- n ) my-if 1 else 2 my-then ;
T{ 1 use-my-if -> 1 }T
T{ 0 use-my-if -> 2 }T
: pp-lit ( x -- ) postpone literal ; immediate
: use-pp-lit [ 77 ] pp-lit ;
T{ use-pp-lit -> 77 }T
: comp-plus postpone + ;
: use-comp-plus [ comp-plus ] ;
T{ 2 3 use-comp-plus -> 5 }T

testing CREATE DOES> >BODY
create cr1
T{ cr1 here = -> f1 }T
T{ ' cr1 >body -> cr1 }T
create cr2 5 , 6 ,
T{ cr2 @ cr2 cell+ @ -> 5 6 }T
T{ ' cr2 >body -> cr2 }T
: konst ( x "name" -- ) create , does> @ ;
42 konst k42
-1 konst km1
T{ k42 -> 42 }T
T{ km1 -> -1 }T
T{ ' k42 >body @ -> 42 }T
7 ' k42 >body !
T{ k42 -> 7 }T
: counter ( "name" -- ) create 0 , does> dup @ 1+ dup rot ! ;
counter ctr
T{ ctr ctr ctr -> 1 2 3 }T
: arr ( n "name" -- ) create cells allot does> swap cells + ;
4 arr ar4
T{ 11 0 ar4 ! 22 3 ar4 ! 0 ar4 @ 3 ar4 @ -> 11 22 }T
T{ 1 ar4 0 ar4 - -> 1 cells }T
T{ ' ar4 >body -> 0 ar4 }T
: two-does ( "name" -- ) create 5 , does> @ 10 + does> @ 20 + ;
two-does td
T{ td -> 15 }T
T{ td -> 25 }T
T{ td -> 25 }T
: mk-adder ( n "name" -- ) create , does> @ + ;
100 mk-adder add100
T{ 5 add100 -> 105 }T
: use-adder add100 add100 ;
T{ 1 use-adder -> 201 }T

testing S" COUNT
T{ s" abc" nip -> 3 }T
T{ s" " nip -> 0 }T
T{ s" abc" drop c@ -> 97 }T
T{ s" hello world" s" hello world" t-same -> f1 }T
: sq1 s" string in a definition" ;
T{ sq1 nip -> 22 }T
T{ sq1 drop 8 chars + c@ -> char n }T
T{ sq1 sq1 t-same -> f1 }T
T{ sq1 drop sq1 drop = -> f1 }T
: sq2 s" " ;
T{ sq2 nip -> 0 }T
create cs1 3 c, char x c, char y c, char z c,
T{ cs1 count -> cs1 char+ 3 }T
T{ cs1 count s" xyz" t-same -> f1 }T
T{ cs1 count drop c@ -> char x }T

testing WORD
T{ bl word abc count nip -> 3 }T
T{ bl word    padded count nip -> 6 }T
T{ char ; word ab c; count s" ab c" t-same -> f1 }T
: gw1 ( -- c-addr u ) bl word count ;
T{ gw1 testword s" testword" t-same -> f1 }T
T{ s" gw1 " evaluate nip -> 0 }T
T{ s" gw1" evaluate nip -> 0 }T
T{ char , word aaa, count s" aaa" t-same -> f1 }T

testing FIND
: imm2 ; immediate
T{ bl word dup find -> ' dup -1 }T
T{ bl word imm2 find -> ' imm2 1 }T
T{ bl word gi2 find -> ' gi2 -1 }T
T{ bl word no-such-word-in-afd find nip -> 0 }T
T{ bl word no-such-word-in-afd dup find drop = -> f1 }T
: find-it ( "name" -- xt flag ) bl word find ;
T{ 3 4 find-it + drop execute -> 7 }T
T{ find-it imm2 nip -> 1 }T

testing >NUMBER
: >num ( c-addr u -- ud u' ) 0 0 2swap >number nip ;
T{ s" 0" >num -> 0 0 0 }T
T{ s" 1234" >num -> 1234 0 0 }T
T{ s" 12x4" >num -> 12 0 2 }T
T{ s" x" >num -> 0 0 1 }T
T{ s" " >num -> 0 0 0 }T
T{ s" -5" >num -> 0 0 2 }T
T{ 5 0 s" 3" >number nip -> 53 0 0 }T
T{ s" 18446744073709551615" >num -> -1 0 0 }T
T{ s" 18446744073709551616" >num -> 0 1 0 }T
T{ s" 36893488147419103231" >num -> -1 1 0 }T
T{ s" 12345678901234567890123" >num -> 4807115922877859019 669 0 }T
T{ 16 base ! s" FF" >num decimal -> 255 0 0 }T
T{ 16 base ! s" 1G" >num decimal -> 1 0 1 }T
T{ 2 base ! s" 1012" >num decimal -> 5 0 1 }T
T{ 36 base ! s" ZZ" >num decimal -> 1295 0 0 }T
: s123 s" 123abc" ;
T{ 0 0 s123 >number -> 123 0 s123 swap 3 chars + swap 3 - }T

testing <# # #S #> HOLD SIGN
: fmt ( n -- c-addr u ) dup abs 0 <# #s rot sign #> ;
: ufmt ( u -- c-addr u ) 0 <# #s #> ;
T{ 0 ufmt s" 0" t-same -> f1 }T
T{ 7 ufmt s" 7" t-same -> f1 }T
T{ 1234567 ufmt s" 1234567" t-same -> f1 }T
T{ -1 ufmt s" 18446744073709551615" t-same -> f1 }T
T{ hibit ufmt s" 9223372036854775808" t-same -> f1 }T
T{ 0 fmt s" 0" t-same -> f1 }T
T{ -42 fmt s" -42" t-same -> f1 }T
T{ 42 fmt s" 42" t-same -> f1 }T
T{ nmin fmt s" -9223372036854775808" t-same -> f1 }T
T{ nmax fmt s" 9223372036854775807" t-same -> f1 }T
T{ -1 -1 <# #s #> s" 340282366920938463463374607431768211455" t-same -> f1 }T
T{ 0 1 <# #s #> s" 18446744073709551616" t-same -> f1 }T
T{ 5 0 <# # # # #> s" 005" t-same -> f1 }T
T{ 123 0 <# # #> nip -> 1 }T
T{ 123 0 <# # 2drop 0 0 #> nip -> 1 }T
: #quot ( ud -- ud' ) <# # >r >r 0 0 #> 2drop r> r> ;
: #squot ( ud -- ud' ) <# #s >r >r 0 0 #> 2drop r> r> ;
T{ 123 0 #quot -> 12 0 }T
T{ 0 1 #quot -> 1844674407370955161 0 }T
T{ 123 0 #squot -> 0 0 }T
T{ -1 -1 #squot -> 0 0 }T
T{ 1234 0 <# # # char . hold #s #> s" 12.34" t-same -> f1 }T
T{ 0 0 <# char c hold char b hold char a hold #> s" abc" t-same -> f1 }T
T{ 0 0 <# #> nip -> 0 }T
T{ 0 0 <# -1 sign #> s" -" t-same -> f1 }T
T{ 0 0 <# 0 sign 1 sign #> nip -> 0 }T
T{ 0 0 <# nmin sign #> s" -" t-same -> f1 }T
T{ 255 16 base ! ufmt decimal s" FF" t-same -> f1 }T
T{ 16 base ! -1 ufmt decimal s" FFFFFFFFFFFFFFFF" t-same -> f1 }T
T{ 48879 16 base ! ufmt decimal s" BEEF" t-same -> f1 }T
T{ 10 2 base ! ufmt decimal s" 1010" t-same -> f1 }T
T{ 2 base ! hibit ufmt decimal nip -> 64 }T
T{ 35 36 base ! ufmt decimal s" Z" t-same -> f1 }T
T{ 64 8 base ! ufmt decimal s" 100" t-same -> f1 }T
: money ( n -- c-addr u ) dup abs 0 <# # # [char] . hold #s [char] $ hold rot sign #> ;
T{ -1999 money s" -$19.99" t-same -> f1 }T
T{ 5 money s" $0.05" t-same -> f1 }T

testing FILL MOVE
create buf 16 chars allot
: buf! ( c1..c8 -- ) 8 0 do 7 i - chars buf + c! loop ;
: buf@ ( -- c1..c8 ) 8 0 do buf i chars + c@ loop ;
T{ 1 2 3 4 5 6 7 8 buf! buf@ -> 1 2 3 4 5 6 7 8 }T
T{ buf 8 0 fill buf@ -> 0 0 0 0 0 0 0 0 }T
T{ buf 3 chars + 2 65 fill buf@ -> 0 0 0 65 65 0 0 0 }T
T{ buf 0 99 fill buf@ -> 0 0 0 65 65 0 0 0 }T
T{ buf 8 7 fill buf@ -> 7 7 7 7 7 7 7 7 }T
T{ 1 2 3 4 5 6 7 8 buf! buf buf 4 chars + 4 move buf@ -> 1 2 3 4 1 2 3 4 }T
T{ 1 2 3 4 5 6 7 8 buf! buf 2 chars + buf 3 move buf@ -> 3 4 5 4 5 6 7 8 }T
T{ 1 2 3 4 5 6 7 8 buf! buf buf char+ 6 move buf@ -> 1 1 2 3 4 5 6 8 }T
T{ 1 2 3 4 5 6 7 8 buf! buf char+ buf 6 move buf@ -> 2 3 4 5 6 7 7 8 }T
T{ 1 2 3 4 5 6 7 8 buf! buf buf 0 move buf@ -> 1 2 3 4 5 6 7 8 }T
T{ 1 2 3 4 5 6 7 8 buf! buf buf 8 move buf@ -> 1 2 3 4 5 6 7 8 }T
create cbuf 4 cells allot
T{ 5 6 cbuf 2! cbuf cbuf 2 cells + 2 cells move cbuf 2 cells + 2@ -> 5 6 }T

testing EVALUATE
T{ s" 1 2 +" evaluate -> 3 }T
T{ s" " evaluate -> }T
T{ s"    " evaluate -> }T
: ev1 ( -- n ) s" 3 4 *" evaluate ;
T{ ev1 -> 12 }T
: ev-inner s" 5 6" ;
T{ s" ev-inner evaluate" evaluate -> 5 6 }T
T{ s" : ev-def 42 ;" evaluate ev-def -> 42 }T
: ev-imm s" dup +" evaluate ; immediate
: use-ev-imm ( n -- 2n ) ev-imm ;
T{ 21 use-ev-imm -> 42 }T
T{ s" source nip" evaluate -> 10 }T
T{ s" >in @" evaluate -> 5 }T
T{ s" 1 ( comment ) 2" evaluate -> 1 2 }T
T{ s" nmax nmin" evaluate -> nmax nmin }T

testing SOURCE >IN
T{ source nip 0> -> f1 }T
T{ source drop 10 s" T{ source " t-same -> f1 }T
T{ >in @ -> 9 }T
: skip-rest ( -- ) source nip >in ! ;
T{ s" 1 skip-rest 2 3" evaluate -> 1 }T
variable rescans
: rescan? ( -- ) rescans @ 3 < if 0 >in ! then ;
T{ 0 rescans ! s" 1 rescans +! rescan?" evaluate rescans @ -> 3 }T
T{ s" 1 13 >in ! 2 3" evaluate -> 1 3 }T
: back1 ( -- ) -1 >in +! ;
T{ s" 7 back1" evaluate -> 7 1 }T

testing ENVIRONMENT?
: env= ( c-addr u x -- flag ) \ answer right, or query declined
   >r environment? if r> = else r> drop true then ;
T{ s" no-such-environment-query-xyz" environment? -> f0 }T
T{ s" MAX-N" nmax env= -> f1 }T
T{ s" MAX-U" -1 env= -> f1 }T
T{ s" ADDRESS-UNIT-BITS" 8 env= -> f1 }T
T{ s" FLOORED" floored? env= -> f1 }T
: env>= ( c-addr u n -- flag ) >r environment? if r> < 0= else r> drop true then ;
T{ s" /COUNTED-STRING" 255 env>= -> f1 }T
T{ s" MAX-CHAR" 255 env>= -> f1 }T
T{ s" /HOLD" 130 env>= -> f1 }T
T{ s" /PAD" 84 env>= -> f1 }T
T{ s" RETURN-STACK-CELLS" 1 env>= -> f1 }T
T{ s" STACK-CELLS" 1 env>= -> f1 }T

testing numbers in the text interpreter
T{ 0 -> 0 }T
T{ -0 -> 0 }T
T{ 9223372036854775807 -> nmax }T
T{ -9223372036854775808 -> nmin }T
T{ 16 base ! 7FFFFFFFFFFFFFFF decimal -> nmax }T
T{ #100 -> 100 }T
T{ $10 -> 16 }T
T{ %101 -> 5 }T
T{ #-7 -> -7 }T
T{ $-1F -> -31 }T
T{ %-11 -> -3 }T
T{ 16 base ! #10 decimal -> 10 }T
T{ 2 base ! $A0 decimal -> 160 }T
T{ 16 base ! -A decimal -> -10 }T
T{ 'a' -> 97 }T
T{ 'Z' -> 90 }T

testing SOURCE and >IN are restored after EVALUATE
variable sv-a  variable sv-u  variable sv-in
: keeps-source? ( -- flag )
   source sv-u ! sv-a !  >in @ sv-in !
   s" 1 2 2drop" evaluate
   source sv-u @ = swap sv-a @ = and  >in @ sv-in @ = and ;
T{ keeps-source? -> f1 }T
T{ s" keeps-source?" evaluate -> f1 }T
: ev-inner2 ( -- c-addr u ) s" 9 >in @ drop drop" ;
: ev-nest ( -- 1 2 ) s" 1 ev-inner2 evaluate 2" evaluate ;
T{ s" 5 ev-nest 6" evaluate -> 5 1 2 6 }T

testing EVALUATE can switch STATE
: ev-state ( n -- n+1 ) [ s" ] 1+ [" evaluate ] ;
T{ 41 ev-state -> 42 }T
: ev-compile ( -- ) s" 2* 1+" evaluate ; immediate
: use-ev-compile ( n -- 2n+1 ) ev-compile ;
T{ 20 use-ev-compile -> 41 }T

testing parsing immediate words and POSTPONE of parsing words
: [my-char] ( "c" -- ) char postpone literal ; immediate
: use-my-char [my-char] q ;
T{ use-my-char -> 113 }T
: my-tick ( "name" -- ) postpone ['] ; immediate
: use-my-tick my-tick swap ;
T{ use-my-tick -> ' swap }T
: my-s ( "ccc<quote>" -- ) postpone s" ; immediate
: use-my-s my-s postponed string" ;
T{ use-my-s s" postponed string" t-same -> f1 }T
: pp-k42 postpone k42 ; immediate
: use-pp-k42 pp-k42 ;
T{ use-pp-k42 -> 7 }T

testing longer loops, deeper stacks and recursion
: count-up ( n -- n ) 0 swap 0 ?do 1+ loop ;
T{ 1000000 count-up -> 1000000 }T
: push-n ( n -- 0..n-1 ) 0 ?do i loop ;
: drop-n ( x*n n -- ) 0 ?do drop loop ;
: deep-stack ( n -- n ) depth >r push-n depth r> - 1+ dup >r drop-n r> ;
T{ 500 deep-stack -> 500 }T
: sum-n ( x*n n -- sum ) 1 ?do + loop ;
T{ 200 push-n 200 sum-n -> 19900 }T
: rdepth ( n -- 0 ) dup 0> if 1- recurse then ;
T{ 1000 rdepth -> 0 }T
: nest-loops ( -- n ) 0 10 0 do 10 0 do 10 0 do 10 0 do 1+ loop loop loop loop ;
T{ nest-loops -> 10000 }T

testing LEAVE and J with +LOOP and nested negative steps
: lv-plus ( -- i*x ) 100 0 do i dup 30 > if leave then 10 +loop ;
T{ lv-plus -> 0 10 20 30 40 }T
: j-neg ( -- i*x ) 0 4 do 0 2 do j i -1 +loop -2 +loop ;
T{ j-neg -> 4 2 4 1 4 0 2 2 2 1 2 0 0 2 0 1 0 0 }T
: leave-begin ( -- n ) 0 10 0 do begin 1+ dup 5 mod 0= until dup 20 > if leave then loop ;
T{ leave-begin -> 25 }T

testing a long string literal
: long-s ( -- c-addr u ) s" 0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz" ;
T{ long-s nip -> 108 }T
T{ long-s drop 107 chars + c@ -> char z }T
T{ long-s drop 36 chars + c@ -> char 0 }T

testing data written with , and C, survives later definitions
create keep-data 11 , 22 , 33 ,
: later-def ( -- ) ;
variable later-var
T{ keep-data @ keep-data cell+ @ keep-data 2 cells + @ -> 11 22 33 }T

testing random UM* (expected values computed offline)
T{ 241504980136427 2550201721 um* -> 4971585046150387475 33387 }T
T{ 62 8263561335416204375 um* -> -4168031268062773998 27 }T
T{ 114 2065858531152772298 um* -> -4299800406808129036 12 }T
T{ 8116 36201701214948 um* -> 293813007060517968 0 }T
T{ 281307876677937 238 um* -> 66951274649349006 0 }T
T{ 44618579884945 -2282443877813825316 um* -> -578727553448378212 39097854705031 }T
T{ 82299595304309 700177373 um* -> -3314047134428048127 3123 }T
T{ 7445942967893683342 14770 um* -> -2910531666643773252 5961 }T
T{ 70 6077250980124684937 um* -> 1132454913408258422 23 }T
T{ 48338017495570388 -4950903170077703188 um* -> -2072181450902637712 35364625383779385 }T
T{ 129 81 um* -> 10449 0 }T
T{ -2308613583880804330 8228453516183093822 um* -> -7787360135757274796 7198660969276902067 }T
testing random M*
T{ 131115323147676 2052621510 m* -> -7863451901693966680 14589 }T
T{ 2106446126978815479 102 m* -> -6503423932675440534 11 }T
T{ 1334264415143578511 -7692362022701726111 m* -> 6794243656487598895 -556393305739012376 }T
T{ 26908 624513918597170704 m* -> -563329536732218944 910 }T
T{ 20303 12576778715114 m* -> 255346338252959542 0 }T
T{ 112403815241903 -1187648429683680922 m* -> 5066639176126344378 -7236844297784 }T
T{ 6656657305872695496 3974946349 m* -> 3953625931089089320 1434391649 }T
T{ 63297 45146 m* -> 2857606362 0 }T
T{ 1269056407121250756 4076087453135485987 m* -> -3448832616342026804 280417231231630960 }T
T{ 5691899346776217790 27695 m* -> -8722444954476416286 8545 }T
T{ 4697883708698352656 14 m* -> -8016604373061269280 3 }T
T{ 5895039739387893205 60027 m* -> -2341129733263233193 19182 }T
testing random UM/MOD
T{ -6258153219358927210 22148 142429467647681 um/mod -> 93361632348289 2868582485 }T
T{ -4484758806725472377 7 883054079106948976 um/mod -> 34432967625206439 162 }T
T{ 1296344161741726749 22 63 um/mod -> 31 6462297044180188290 }T
T{ -4857284128093910115 1242394632539445225 1868759542721623073 um/mod -> 1279834182111450462 -6182921307283399073 }T
T{ 3591152310705034221 102376599509673 -7153284287400966990 um/mod -> 2398792717403138375 167221999814539 }T
T{ -2911437590369017587 182613123335665277 918629435037957795 um/mod -> 692376754891698606 3667003714652996629 }T
T{ -2869254374836962578 2736711311 4034660454 um/mod -> 3070811116 -5934312420837521029 }T
T{ 6681735077592638541 0 103282445815981 um/mod -> 83810419379708 64693 }T
T{ 8135096898466740303 13 77 um/mod -> 1 3220035972164817030 }T
T{ -8003983335293831493 811279408 3529973985 um/mod -> 2520456761 4239539352324533954 }T
T{ 1798477664851641796 0 177310298198097 um/mod -> 19310228343925 10143 }T
T{ -3808569115590611265 102149799 1468415386 um/mod -> 874735981 1283241262613715789 }T
testing random FM/MOD
T{ -1738016864915596318 7 2545448276142364748 fm/mod -> 745383984646025974 57 }T
T{ 6617808670062804734 22201395210889 118471317848556 fm/mod -> 101700752334630 3456899635894011138 }T
T{ 6685163317025061980 542343868298515239 8326569759046006219 fm/mod -> 4725491494888850239 1201512606986743735 }T
T{ -2188796423100601046 857580527891701931 4307462107003530773 fm/mod -> 2330427331715394937 3672596096642108973 }T
T{ -5497608773468288967 4122 40200 fm/mod -> 1 1891801696694801319 }T
T{ 4135809675420741541 33478000938375 279898257414033 fm/mod -> 199949940190180 2206373562719629617 }T
T{ -7553074901888172892 450005071932357756 1205543974664461670 fm/mod -> 611821962123928910 6885794768389024553 }T
T{ 1996097884766446718 270712110 2737998081896994881 fm/mod -> 1943650993661564853 1823871625 }T
T{ 464102103278609207 0 166484473291936 fm/mod -> 109876213983575 2787 }T
T{ -4163462208337555507 6235709180044 1063894941708165301 fm/mod -> 236674077888750430 108120197636883 }T
T{ 2140844935561106450 0 40019041820024 fm/mod -> 26293398922570 53495 }T
T{ 7529102561323421710 18318042518609692 4815320291796852376 fm/mod -> 2503620190531319606 70173575545487001 }T
testing random SM/REM
T{ 378663809277 0 3764488581 sm/rem -> 2214951177 100 }T
T{ 1068220 0 4484 sm/rem -> 1028 238 }T
T{ -1978716021053050090 44417275621 90012041639969 sm/rem -> 41945140561478 9102716713456336 }T
T{ 425475256397 0 218 sm/rem -> 135 1951721359 }T
T{ 6912637 0 60332 sm/rem -> 34789 114 }T
T{ -3942226738155445967 683082865 3785686077798328637 sm/rem -> 2405769003445645254 3328499655 }T
T{ -8621714039215483676 -12721776160737 -4818094820502891053 sm/rem -> -1625170677519403916 48707083970512 }T
T{ 8098238090269257 0 240 sm/rem -> 57 33742658709455 }T
T{ 8666407537253625432 21 3699229580256993312 sm/rem -> 230467997655924984 107 }T
T{ -5037466492784291526 21 58 sm/rem -> 28 6910187984979755931 }T
T{ 6782340709800014358 986979177548 11406598575511 sm/rem -> 9943269663852 1596142107902613734 }T
T{ 2425406 0 87 sm/rem -> 20 27878 }T
testing random */ and */MOD with non-negative operands
T{ 3107240679987798405 1819766668 2023823478 */mod -> 1509530130 2793945756812418095 }T
T{ 3107240679987798405 1819766668 2023823478 */ -> 2793945756812418095 }T
T{ 2371132275489839116 19759 7688 */mod -> 7164 6094069020734096135 }T
T{ 2371132275489839116 19759 7688 */ -> 6094069020734096135 }T
T{ 17 16 8732 */mod -> 272 0 }T
T{ 17 16 8732 */ -> 0 }T
T{ 111 72053232863104 8032821936881044604 */mod -> 7997908847804544 0 }T
T{ 111 72053232863104 8032821936881044604 */ -> 0 }T
T{ 137104176728106 523596019611957821 2568633198681763329 */mod -> 1548798233981520690 27947626482384 }T
T{ 137104176728106 523596019611957821 2568633198681763329 */ -> 27947626482384 }T
T{ 272931243 13138 7 */mod -> 3 512252952933 }T
T{ 272931243 13138 7 */ -> 512252952933 }T
T{ 4170108960 2107416952 34494 */mod -> 11538 254773534933353 }T
T{ 4170108960 2107416952 34494 */ -> 254773534933353 }T
T{ 9947 1472377097 1030861360432702147 */mod -> 14645734983859 0 }T
T{ 9947 1472377097 1030861360432702147 */ -> 0 }T
T{ 105 8234047072813901003 201650644830045 */mod -> 21093734798310 4287489 }T
T{ 105 8234047072813901003 201650644830045 */ -> 4287489 }T
T{ 64 5107779387425729635 79071074526312 */mod -> 30498480889504 4134228 }T
T{ 64 5107779387425729635 79071074526312 */ -> 4134228 }T
T{ 4515617474081557045 7417 3248912180245829530 */mod -> 2548051288897807525 10308 }T
T{ 4515617474081557045 7417 3248912180245829530 */ -> 10308 }T
T{ 1625624953 1769545105980242142 2534231842 */mod -> 614693740 1135103991697264433 }T
T{ 1625624953 1769545105980242142 2534231842 */ -> 1135103991697264433 }T
testing random */MOD with signs, against M* and FM/MOD or SM/REM
T{ 29605 4259873478373921158 6880177602947653867 */mod -> 29605 4259873478373921158 6880177602947653867 ref*/mod }T
T{ 20911 -5493580300309760517 21483271 */mod -> 20911 -5493580300309760517 21483271 ref*/mod }T
T{ 1491588838 20995 360222931 */mod -> 1491588838 20995 360222931 ref*/mod }T
T{ 79202237593169795 4069940580279902124 2762014405903571381 */mod -> 79202237593169795 4069940580279902124 2762014405903571381 ref*/mod }T
T{ 157 2325735896 12644 */mod -> 157 2325735896 12644 ref*/mod }T
T{ 132 6194440628475572154 877184948 */mod -> 132 6194440628475572154 877184948 ref*/mod }T
T{ 57 1902463372902245876 4209139682339370324 */mod -> 57 1902463372902245876 4209139682339370324 ref*/mod }T
T{ 50054054177093 226 -2273022886171002269 */mod -> 50054054177093 226 -2273022886171002269 ref*/mod }T
testing random doubles through <# #S #> and >NUMBER
T{ 8755541034650625674 43013137185 <# #s #> s" 793452333467810236538497066634" t-same -> f1 }T
T{ s" 793452333467810236538497066634" >num -> 8755541034650625674 43013137185 0 }T
T{ 5705365436803904847 38036261484 <# #s #> s" 701645181121749240571374662991" t-same -> f1 }T
T{ s" 701645181121749240571374662991" >num -> 5705365436803904847 38036261484 0 }T
T{ -3369552106285263804 40708 <# #s #> s" 750945134944535851471940" t-same -> f1 }T
T{ s" 750945134944535851471940" >num -> -3369552106285263804 40708 0 }T
T{ 6292434189803731496 0 <# #s #> s" 6292434189803731496" t-same -> f1 }T
T{ s" 6292434189803731496" >num -> 6292434189803731496 0 0 }T
T{ 4015622963967661541 34457618760 <# #s #> s" 635630874659188691518637577701" t-same -> f1 }T
T{ s" 635630874659188691518637577701" >num -> 4015622963967661541 34457618760 0 }T
T{ -2596498323047882110 29321 <# #s #> s" 540892833230988424602242" t-same -> f1 }T
T{ s" 540892833230988424602242" >num -> -2596498323047882110 29321 0 }T
T{ 5145918995194261137 2913174368163779422 <# #s #> s" 53738582011607765531824173442741907089" t-same -> f1 }T
T{ s" 53738582011607765531824173442741907089" >num -> 5145918995194261137 2913174368163779422 0 }T
T{ 6234624229668923856 1568028378 <# #s #> s" 28925018195514524893212682704" t-same -> f1 }T
T{ s" 28925018195514524893212682704" >num -> 6234624229668923856 1568028378 0 }T
T{ -6397770002356374475 0 <# #s #> s" 12048974071353177141" t-same -> f1 }T
T{ s" 12048974071353177141" >num -> -6397770002356374475 0 0 }T
T{ 7957387460515680783 759137829247748150 <# #s #> s" 14003621252804631716076074174709191183" t-same -> f1 }T
T{ s" 14003621252804631716076074174709191183" >num -> 7957387460515680783 759137829247748150 0 }T
T{ -6857017185031459310 -7730376511742619050 <# 16 base ! #s decimal #> s" 94B82F85158ED256A0D6FB3343736E12" t-same -> f1 }T
T{ 3260356551932242265 6957837537248853084 <# 16 base ! #s decimal #> s" 608F34603C98BC5C2D3F1D028709E959" t-same -> f1 }T
T{ -3564677773500443622 7005841363811770452 <# 16 base ! #s decimal #> s" 6139BF9A12BD2054CE87B87393C6941A" t-same -> f1 }T
T{ -667834370356522947 4649638186156740081 <# 16 base ! #s decimal #> s" 4086D54BA3F6CDF1F6BB602DB21A503D" t-same -> f1 }T
