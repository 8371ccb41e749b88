\ two.fs: prints its name (command-line order)
." [two]"
