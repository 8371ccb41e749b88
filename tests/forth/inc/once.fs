\ inc/once.fs -- helper for file.fs: loaded by REQUIRE / REQUIRED only.
1 inc-once-count +!
