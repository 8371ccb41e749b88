\ Doubly recursive Fibonacci: fib(34), computed REPS times.
\ Prints the result, 5702887.

3 constant reps

: fib ( n -- fib[n] )
  dup 2 < if exit then
  dup 1- recurse  swap 2 - recurse  + ;

: main ( -- )
  0  reps 0 do drop 34 fib loop
  ." fib: " . cr ;
