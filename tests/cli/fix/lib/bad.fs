\ lib/bad.fs: division by zero on line 2, column 7
  1 0 / .
