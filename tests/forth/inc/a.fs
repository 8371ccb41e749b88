\ inc/a.fs -- helper for file.fs: counts how often it is loaded.
1 inc-a-count +!
