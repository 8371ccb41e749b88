\ inc-err.fs: includes a file that fails
." before"
include lib/bad.fs
." after"
