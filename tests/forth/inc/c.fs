\ inc/c.fs -- helper for file.fs: loaded from inc/sub/b.fs as ../c.fs.
1 inc-c-count +!
