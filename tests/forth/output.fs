\ output.fs -- tests of printed output: . U. .R U.R ? TYPE EMIT CR SPACE
\ SPACES ." .( and numeric output in other bases.  Run without the tester:
\   <forth> tests/forth/output.fs -e bye
\ and compare stdout with tests/forth/output.expected (run.sh does this).
\ Each line prints a label and the output between [ and ] so that spaces
\ are visible.  The file defines only words whose names start with "out-".

decimal
: out-[ ( -- ) [char] [ emit ;
: out-] ( -- ) [char] ] emit cr ;

.( dot-paren: [) .( hello from .() .( ]) cr
: out-1 ." dot-quote: " out-[ ." abc def" out-] ; out-1
: out-2 ." dot-quote-empty: " out-[ ." " out-] ; out-2
: out-3 ." dot: " out-[ 0 . 1 . -1 . 42 . out-] ; out-3
: out-4 ." dot-max: " out-[ 0 invert 1 rshift . out-] ; out-4
: out-5 ." dot-min: " out-[ 0 invert 1 rshift invert . out-] ; out-5
: out-6 ." u-dot: " out-[ 0 u. 7 u. -1 u. out-] ; out-6
: out-7 ." dot-r: " out-[ 5 4 .r -5 4 .r 123 3 .r 12345 2 .r 0 1 .r out-] ; out-7
: out-8 ." dot-r-zero: " out-[ 7 0 .r -7 0 .r out-] ; out-8
: out-9 ." u-dot-r: " out-[ 5 4 u.r 123 3 u.r 12345 2 u.r -1 22 u.r out-] ; out-9
: out-10 ." type: " out-[ s" some text" type s" " type out-] ; out-10
: out-11 ." emit: " out-[ 65 emit 98 emit [char] ! emit bl emit [char] . emit out-] ; out-11
: out-12 ." space: " out-[ space out-] ; out-12
: out-13 ." spaces: " out-[ 3 spaces [char] | emit 0 spaces [char] | emit -4 spaces [char] | emit out-] ; out-13
: out-14 ." cr: " out-[ cr ." second line" out-] ; out-14
: out-15 ." hex: " out-[ hex 255 . -1 . -1 u. 0 . 10 . decimal out-] ; out-15
: out-16 ." hex-dot-r: " out-[ hex 255 6 .r 171 4 u.r decimal out-] ; out-16
: out-17 ." binary: " out-[ 2 base ! 5 . -2 . 1 63 lshift u. decimal out-] ; out-17
: out-18 ." base-36: " out-[ 36 base ! 35 . 36 . 1295 . decimal out-] ; out-18
variable out-v
: out-19 ." question: " out-[ -77 out-v ! out-v ? 0 out-v ! out-v ? out-] ; out-19
: out-20 ." pictured: " out-[ -1234 dup abs 0 <# # # [char] . hold #s rot sign #> type out-] ; out-20
: out-21 ." mixed: " out-[ 1 . ." x" 2 . space 3 u. out-] ; out-21
: out-22 ." decimal-after: " out-[ 10 . out-] ; out-22
