\ lib.fs: helpers of the IPVS test files (run by guest.sh under tester.fs)
\ error-of ( xt -- code ) run xt, give its THROW code (0 if none); the stack as CATCH left it
\ must be dropped by the caller when xt had inputs
: error-of ( i*x xt -- j*x code ) catch ;
\ sched? ( svc c-addr u -- flag ) is the kernel's scheduler of svc this one?
: sched? ( svc c-addr u -- flag ) rot ipvs-scheduler@ string= ;
