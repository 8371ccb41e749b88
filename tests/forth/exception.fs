\ exception.fs -- tests for the Forth 2012 EXCEPTION word set (9.6):
\ CATCH THROW, and ABORT / ABORT" (CORE, with the exception-set
\ semantics of 9.6.2.0670 and 9.6.2.0680: THROW codes -1 and -2).

decimal
 0 constant f0
-1 constant f1

testing CATCH without THROW
: nop ( -- ) ;
T{ ' nop catch -> 0 }T
: ok-word ( a b -- a+b ) + ;
T{ 3 4 ' ok-word catch -> 7 0 }T
T{ 9 ' dup catch -> 9 9 0 }T
T{ :noname 1 2 3 ; catch -> 1 2 3 0 }T

testing THROW 0 is a no-op
T{ 0 throw -> }T
T{ 5 0 throw -> 5 }T
: thr0 ( -- n ) 1 0 throw 2 ;
T{ thr0 -> 1 2 }T
T{ ' thr0 catch -> 1 2 0 }T

testing simple THROW and CATCH
: thr ( n -- ) throw ;
T{ 1 ' thr catch nip -> 1 }T
T{ 77 ' thr catch nip -> 77 }T
T{ -77 ' thr catch nip -> -77 }T
T{ 5 6 -1 ' thr catch nip -> 5 6 -1 }T
: thr-after ( -- n ) 5 throw 99 ;
T{ ' thr-after catch -> 5 }T
: thr-if ( flag -- n ) if 42 throw then 7 ;
T{ 0 ' thr-if catch -> 7 0 }T
T{ 1 ' thr-if catch nip -> 42 }T

testing the data stack depth is restored by THROW
: junk-thr ( -- ) 1 2 3 4 5 6 7 8 123 throw ;
T{ ' junk-thr catch -> 123 }T
T{ 10 20 ' junk-thr catch -> 10 20 123 }T
: eat-thr ( a b c -- ) drop drop drop 9 throw ;
: 3nip ( a b c d -- d ) >r drop drop drop r> ;
T{ 1 2 3 ' eat-thr catch 3nip -> 9 }T
T{ 100 1 2 3 ' eat-thr catch 3nip -> 100 9 }T
: eat-test ( -- n code ) depth >r 1 2 3 ['] eat-thr catch depth r> - swap >r >r drop drop drop r> r> ;
T{ eat-test -> 4 9 }T
: grow-thr ( a -- ) drop 1 2 3 4 5 8 throw ;
: grow-test ( -- n code ) depth >r 0 ['] grow-thr catch depth r> - swap >r >r drop r> r> ;
T{ grow-test -> 2 8 }T

testing nested CATCH and THROW through several words
: lvl3 ( n -- ) dup 0> if throw then drop 333 ;
: lvl2 ( n -- x ) 222 swap lvl3 ;
: lvl1 ( n -- x y ) 111 swap lvl2 ;
T{ 0 ' lvl1 catch -> 111 222 333 0 }T
T{ 8 ' lvl1 catch nip -> 8 }T
: inner-catch ( n -- code ) ['] lvl1 catch dup if nip then ;
: outer ( n -- code1 code2 ) inner-catch 55 ;
T{ 4 ' outer catch -> 4 55 0 }T
: rethrow ( n -- ) ['] lvl1 catch ?dup if 1+ throw then 2drop drop ;
T{ 3 ' rethrow catch nip -> 4 }T
T{ 0 ' rethrow catch -> 0 }T
: catch-twice ( -- a b ) 10 ['] thr catch nip 20 ['] thr catch nip ;
T{ catch-twice -> 10 20 }T
: deep ( n -- ) dup 0= if 1000 throw then 1- recurse ;
T{ 50 ' deep catch nip -> 1000 }T
T{ 1 2 50 ' deep catch nip -> 1 2 1000 }T

testing the return stack is restored by THROW
: rs-thr ( -- ) 1 >r 2 >r 3 >r 66 throw ;
: rs-catch ( -- code x ) 5 >r ['] rs-thr catch r> ;
T{ rs-catch -> 66 5 }T
: loop-thr ( -- ) 10 0 do i 5 = if i throw then loop ;
T{ ' loop-thr catch -> 5 }T
: loop-catch ( -- i*x ) 3 0 do ['] loop-thr catch i loop ;
T{ loop-catch -> 5 0 5 1 5 2 }T

testing CATCH restores the input source
: thr-in-eval ( -- ) s" 1 2 77 throw 3" evaluate ;
T{ ' thr-in-eval catch -> 77 }T
T{ s" 1 2 77 throw 3" ' evaluate catch nip nip -> 77 }T
T{ s" 5 6" ' evaluate catch -> 5 6 0 }T

testing ABORT and ABORT"
: ab1 ( -- ) 1 2 abort 3 ;
T{ ' ab1 catch -> -1 }T
T{ 9 ' ab1 catch -> 9 -1 }T
T{ ' abort catch -> -1 }T
: ab2 ( flag -- ) abort" this message is not shown" 4 ;
T{ 0 ' ab2 catch -> 4 0 }T
T{ 1 ' ab2 catch nip -> -2 }T
T{ -1 ' ab2 catch nip -> -2 }T
T{ 7 8 true ' ab2 catch nip -> 7 8 -2 }T
: ab3 ( n -- x ) dup 10 > abort" too big" 2* ;
T{ 3 ' ab3 catch -> 6 0 }T
T{ 30 ' ab3 catch nip -> -2 }T
: ab4 ( -- code ) ['] ab1 catch ;
T{ ab4 -> -1 }T

testing CATCH catches errors of the text interpreter
: undef-eval ( -- ) s" no-such-word-xyzzy" evaluate ;
T{ ' undef-eval catch 0<> -> f1 }T
: tick-undef ( -- ) s" ' no-such-word-xyzzy" evaluate ;
T{ ' tick-undef catch 0<> -> f1 }T
T{ 3 4 ' undef-eval catch drop -> 3 4 }T

testing CATCH frames are unlinked when the xt returns normally
: ok-then-throw ( -- ) ['] nop catch drop 99 throw ;
T{ ' ok-then-throw catch -> 99 }T
: after-catch ( -- a code b ) 1 ['] junk-thr catch 2 ;
T{ after-catch -> 1 123 2 }T
T{ after-catch after-catch -> 1 123 2 1 123 2 }T

testing THROW from a DOES> body, a deferred word and with extreme codes
: thrower ( code "name" -- ) create , does> @ throw ;
31 thrower throw31
T{ ' throw31 catch -> 31 }T
defer deferred-thr
' junk-thr is deferred-thr
T{ ' deferred-thr catch -> 123 }T
0 invert 1 rshift invert constant code-min
T{ code-min ' thr catch nip -> code-min }T
T{ -1 ' thr catch nip -> -1 }T
T{ -4095 ' thr catch nip -> -4095 }T
