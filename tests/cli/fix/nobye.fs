\ nobye.fs: no BYE at the end; afd must exit by itself
: greet ." loaded" cr ;
greet
