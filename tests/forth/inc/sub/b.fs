\ inc/sub/b.fs -- helper for file.fs: includes files by paths relative to
\ this file's own directory, before and after a nested include returns.
s" ../c.fs" included
include d.fs
1 inc-b +!
