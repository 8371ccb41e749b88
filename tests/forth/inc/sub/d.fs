\ inc/sub/d.fs -- helper for file.fs: loaded from inc/sub/b.fs as d.fs.
1 inc-d-count +!
