\ inc/stack.fs -- helper for file.fs: leaves three cells on the stack.
1 2 3
