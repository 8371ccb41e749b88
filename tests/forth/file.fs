\ file.fs -- tests for INCLUDED INCLUDE REQUIRED REQUIRE (FILE 11.6) with
\ paths relative to the including file.  Helper files are in inc/:
\   inc/a.fs         adds 1 to inc-a-count
\   inc/once.fs      adds 1 to inc-once-count (for REQUIRE / REQUIRED)
\   inc/sub/b.fs     includes ../c.fs then d.fs (both relative to inc/sub/)
\                    and adds 1 to inc-b
\   inc/sub/d.fs     adds 1 to inc-d-count
\   inc/c.fs         adds 1 to inc-c-count
\   inc/stack.fs     leaves 1 2 3 on the data stack
\   inc/defs.fs      defines the word inc-defined-word
\   inc/source-id.fs stores its SOURCE-ID in inc-sid
\ These files only use variables defined here, so they must be loaded from
\ this file.

decimal
 0 constant f0
-1 constant f1

variable inc-a-count     0 inc-a-count !
variable inc-once-count  0 inc-once-count !
variable inc-c-count     0 inc-c-count !
variable inc-b           0 inc-b !
variable inc-d-count     0 inc-d-count !
variable inc-sid         0 inc-sid !

testing INCLUDED
T{ s" inc/a.fs" included inc-a-count @ -> 1 }T
T{ s" inc/a.fs" included inc-a-count @ -> 2 }T
T{ s" inc/stack.fs" included -> 1 2 3 }T
T{ 9 s" inc/stack.fs" included -> 9 1 2 3 }T
: inc-a ( -- ) s" inc/a.fs" included ;
T{ inc-a inc-a-count @ -> 3 }T

testing INCLUDE
T{ include inc/a.fs inc-a-count @ -> 4 }T
T{ include inc/stack.fs -> 1 2 3 }T

testing nested relative includes: inc/sub/b.fs includes ../c.fs and d.fs
T{ s" inc/sub/b.fs" included inc-b @ inc-c-count @ inc-d-count @ -> 1 1 1 }T
T{ include inc/sub/b.fs inc-b @ inc-c-count @ inc-d-count @ -> 2 2 2 }T
T{ include inc/a.fs inc-a-count @ -> 5 }T

testing definitions made in an included file
T{ s" inc/defs.fs" included inc-defined-word -> 4242 }T

testing SOURCE-ID inside an included file
T{ s" inc/source-id.fs" included inc-sid @ 0<> -> f1 }T
T{ inc-sid @ -1 <> -> f1 }T
T{ inc-sid @ source-id <> -> f1 }T
T{ source-id 0<> -> f1 }T

testing REQUIRED and REQUIRE include a file only once
T{ s" inc/once.fs" required inc-once-count @ -> 1 }T
T{ s" inc/once.fs" required inc-once-count @ -> 1 }T
T{ require inc/once.fs inc-once-count @ -> 1 }T
T{ require inc/once.fs require inc/once.fs inc-once-count @ -> 1 }T

testing REQUIRED skips a file that was INCLUDED before
T{ s" inc/c.fs" required inc-c-count @ -> 2 }T
T{ require inc/c.fs inc-c-count @ -> 2 }T

testing REQUIRE and REQUIRED skip any file included before
T{ require inc/a.fs inc-a-count @ -> 5 }T
T{ s" inc/sub/d.fs" required inc-d-count @ -> 2 }T
T{ s" inc/stack.fs" required -> }T
