\ fast-checksum exactly as the design document writes it ("QBE Backend"): it compiles to IL
\ of the listing's shape (afd --emit-qbe tests/jit/fast-checksum.fs; doc/jit.md). As written
\ it steps the length up, not down (`4 + swap 4 - swap` on ( addr len )), so it only ends for
\ len <= 0; `checksum` below is the loop that was meant, over cells.
: fast-checksum ( addr len -- checksum )
  0 >r                    \ Running sum
  BEGIN
    dup 0>                \ While length > 0
  WHILE
    over @ r> + >r        \ Add word to sum
    4 + swap 4 - swap     \ Next word
  REPEAT
  2drop r> ;

: checksum ( addr len -- sum )
  0 >r  begin dup 0> while  over @ r> + >r  swap cell+ swap cell -  repeat  2drop r> ;

create words 1 , 2 , 3 , 4 , 5 ,
