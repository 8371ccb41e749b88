\ err.fs: an undefined word on line 3, column 5
: fine 1 ;
1 2 frobnicate 3
." not reached"
