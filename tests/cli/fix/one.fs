\ one.fs: prints its name (command-line order)
." [one]"
