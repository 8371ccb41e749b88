\ Integer matrix multiply C = A x B of 200x200 cell matrices (row-major),
\ repeated REPS times.  A(i,j) = (i+2j) mod 17 - 8,  B(i,j) = (3i+j) mod 13 - 6.
\ Prints a checksum of C: the sum over every element of (k+1)*C[k], k the
\ element's row-major index.

200 constant n
3 constant reps
create a  n n * cells allot
create b  n n * cells allot
create c  n n * cells allot

: elem ( i j m -- addr )  >r swap n * + cells r> + ;

: init ( -- )
  n 0 do
    n 0 do
      j i 2* + 17 mod 8 -   j i a elem !
      j 3 * i + 13 mod 6 -  j i b elem !
    loop
  loop ;

\ Dot product of the row of A at a-addr with the column of B at b-addr.
: dot ( a-addr b-addr -- n )
  0 rot rot                      ( sum a b )
  n 0 do
    over @ over @ *              ( sum a b p )
    >r rot r> + rot rot          ( sum a b )
    n cells +  swap cell+ swap
  loop
  2drop ;

: mmul ( -- )
  n 0 do
    n 0 do
      j 0 a elem  0 i b elem  dot  j i c elem !
    loop
  loop ;

: checksum ( -- n )
  0  n n * 0 do  c i cells + @  i 1+ *  +  loop ;

: main ( -- )
  init
  reps 0 do mmul loop
  ." matmul: checksum " checksum . cr ;
