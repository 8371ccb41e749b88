\ inc/main.fs: includes sub/a.fs, relative to this file
include sub/a.fs
." main " from-b .
