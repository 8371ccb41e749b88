\ string.fs -- tests for the Forth 2012 STRING word set (17.6):
\ -TRAILING /STRING BLANK CMOVE CMOVE> COMPARE SEARCH SLITERAL.

decimal
 0 constant f0
-1 constant f1

: str1 ( -- c-addr u ) s" abcdefgh" ;
: str2 ( -- c-addr u ) s" def" ;
: str3 ( -- c-addr u ) s" xyz" ;
: spaced ( -- c-addr u ) s" word   " ;
: allsp ( -- c-addr u ) s"     " ;

testing -TRAILING
T{ spaced -trailing nip -> 4 }T
T{ spaced -trailing drop spaced drop = -> f1 }T
T{ allsp -trailing nip -> 0 }T
T{ str1 -trailing nip -> 8 }T
T{ s"  lead" -trailing nip -> 5 }T
T{ s" a b  " -trailing nip -> 3 }T
T{ s" " -trailing nip -> 0 }T
T{ str1 drop 0 -trailing nip -> 0 }T

testing /STRING
T{ str1 0 /string -> str1 }T
T{ str1 3 /string -> str1 drop 3 chars + 5 }T
T{ str1 3 /string s" defgh" compare -> 0 }T
T{ str1 8 /string nip -> 0 }T
T{ str1 3 /string -3 /string -> str1 }T
T{ str1 -2 /string -> str1 drop 2 chars - 10 }T
T{ str1 1 /string 1 /string 1 /string nip -> 5 }T

testing BLANK
create bbuf 8 chars allot
: bbuf@ ( -- c1..c5 ) 5 0 do bbuf i chars + c@ loop ;
T{ bbuf 5 char x fill bbuf@ -> 120 120 120 120 120 }T
T{ bbuf 5 blank bbuf@ -> 32 32 32 32 32 }T
T{ bbuf 5 char x fill bbuf char+ 3 blank bbuf@ -> 120 32 32 32 120 }T
T{ bbuf 5 char x fill bbuf 0 blank bbuf@ -> 120 120 120 120 120 }T

testing CMOVE CMOVE>
create cbuf 16 chars allot
: cb! ( c1..c6 -- ) 6 0 do 5 i - chars cbuf + c! loop ;
: cb@ ( -- c1..c6 ) 6 0 do cbuf i chars + c@ loop ;
T{ 1 2 3 4 5 6 cb! cb@ -> 1 2 3 4 5 6 }T
T{ 1 2 3 4 5 6 cb! cbuf cbuf 3 chars + 3 cmove cb@ -> 1 2 3 1 2 3 }T
T{ 1 2 3 4 5 6 cb! cbuf 3 chars + cbuf 3 cmove cb@ -> 4 5 6 4 5 6 }T
T{ 1 2 3 4 5 6 cb! cbuf cbuf char+ 5 cmove cb@ -> 1 1 1 1 1 1 }T
T{ 1 2 3 4 5 6 cb! cbuf char+ cbuf 5 cmove cb@ -> 2 3 4 5 6 6 }T
T{ 1 2 3 4 5 6 cb! cbuf cbuf char+ 0 cmove cb@ -> 1 2 3 4 5 6 }T
T{ 1 2 3 4 5 6 cb! cbuf 3 chars + cbuf 3 cmove> cb@ -> 4 5 6 4 5 6 }T
T{ 1 2 3 4 5 6 cb! cbuf char+ cbuf 5 cmove> cb@ -> 6 6 6 6 6 6 }T
T{ 1 2 3 4 5 6 cb! cbuf cbuf char+ 5 cmove> cb@ -> 1 1 2 3 4 5 }T
T{ 1 2 3 4 5 6 cb! cbuf char+ cbuf 0 cmove> cb@ -> 1 2 3 4 5 6 }T
T{ str1 cbuf swap cmove cbuf 8 str1 compare -> 0 }T

testing COMPARE
T{ str1 str1 compare -> 0 }T
T{ str1 str1 2drop s" abcdefgh" compare -> 0 }T
T{ str1 str2 compare -> -1 }T
T{ str2 str1 compare -> 1 }T
T{ str1 str3 compare -> -1 }T
T{ str3 str1 compare -> 1 }T
T{ s" abc" s" abcd" compare -> -1 }T
T{ s" abcd" s" abc" compare -> 1 }T
T{ s" " s" " compare -> 0 }T
T{ s" " s" a" compare -> -1 }T
T{ s" a" s" " compare -> 1 }T
T{ s" abd" s" abc" compare -> 1 }T
T{ s" abc" s" abd" compare -> -1 }T
T{ s" B" s" a" compare -> -1 }T
T{ s" a" s" B" compare -> 1 }T
T{ s" abc" s" ABC" compare 0= -> f0 }T
T{ str1 drop 3 s" abc" compare -> 0 }T
T{ str1 drop 3 str1 drop 4 compare -> -1 }T
T{ str1 drop 0 str3 drop 0 compare -> 0 }T
create hb 2 chars allot  200 hb c!  100 hb char+ c!
T{ hb 1 hb char+ 1 compare -> 1 }T
T{ hb char+ 1 hb 1 compare -> -1 }T

testing SEARCH
T{ str1 str2 search -> str1 drop 3 chars + 5 f1 }T
T{ str1 str3 search -> str1 f0 }T
T{ str1 s" abc" search -> str1 f1 }T
T{ str1 s" gh" search -> str1 drop 6 chars + 2 f1 }T
T{ str1 s" ghi" search -> str1 f0 }T
T{ str1 s" h" search -> str1 drop 7 chars + 1 f1 }T
T{ str1 str1 search -> str1 f1 }T
T{ str2 str1 search -> str2 f0 }T
T{ str1 s" " search -> str1 f1 }T
T{ s" aaab" s" aab" search nip nip -> f1 }T
T{ s" abab" s" ba" search rot drop -> 3 f1 }T
T{ s" xxabcabc" s" abc" search drop nip -> 6 }T

testing SLITERAL
: sl1 [ str1 ] sliteral ;
T{ sl1 str1 compare -> 0 }T
T{ sl1 nip -> 8 }T
: sl2 [ s" " ] sliteral ;
T{ sl2 nip -> 0 }T
: sl3 [ s" with spaces " ] sliteral ;
T{ sl3 s" with spaces " compare -> 0 }T
: sl4 ( -- c-addr u ) [ str3 ] sliteral [ str2 ] sliteral 2swap ;
T{ sl4 str3 compare rot rot str2 compare -> 0 0 }T
