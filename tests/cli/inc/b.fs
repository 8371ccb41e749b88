\ inc/b.fs: included by sub/a.fs
: from-b 7 ;
." b "
