\ Bubble sort of 6000 cells filled from a 16-bit linear congruential
\ sequence, sorted ascending, then checked.  Repeated PASSES times.
\ Prints the sum of i*a[i] over the sorted array as a checksum.

6000 constant n
2 constant passes
create ary n cells allot
variable seed

: random ( -- u )  seed @ 1309 * 13849 + 65535 and  dup seed ! ;

: fill-array ( -- )
  74755 seed !
  n 0 do random  ary i cells + ! loop ;

: bubble ( -- )
  n 1 do
    n i - 0 do
      ary i cells +  dup @  over cell+ @   ( addr a b )
      2dup > if  >r over cell+ !  r> swap !  else  2drop drop  then
    loop
  loop ;

: inversions ( -- n )   \ adjacent pairs out of order; 0 when sorted
  0  n 1- 0 do
    ary i cells +  dup @ swap cell+ @  > if 1+ then
  loop ;

: checksum ( -- n )
  0  n 0 do  ary i cells + @ i * +  loop ;

: main ( -- )
  passes 0 do fill-array bubble loop
  inversions if ." bubble: NOT SORTED" cr exit then
  ." bubble: sorted, checksum " checksum . cr ;
