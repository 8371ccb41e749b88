\ inc/sub/a.fs: includes ../b.fs, relative to this file
include ../b.fs
." a "
