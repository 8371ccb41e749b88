\ Sieve of Eratosthenes, the classic BYTE benchmark: 8190 flags where
\ flag i stands for the odd number 2i+3, run ITERATIONS times.
\ Prints the number of primes found by the last pass (1899).

8190 constant size
1500 constant iterations
create flags size allot

: primes ( -- n )
  flags size 1 fill
  0  size 0 do
    flags i + c@ if
      i 2* 3 +          ( count prime )
      dup i +           ( count prime k )
      begin dup size < while
        0 over flags + c!
        over +
      repeat
      2drop 1+
    then
  loop ;

: main ( -- )
  0  iterations 0 do drop primes loop
  ." sieve: " . ." primes" cr ;
