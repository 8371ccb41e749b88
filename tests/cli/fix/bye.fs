\ bye.fs: BYE in the middle of a file
." [before-bye]"
bye
." [after-bye]"
