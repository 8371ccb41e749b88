/* Doubly recursive Fibonacci: fib(34), computed REPS times.
 * Same work and output as bench/fib.fs. */
#include <stdio.h>

#define REPS 3

static long fib(long n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

int main(void)
{
    volatile long arg = 34;   /* keeps gcc from computing fib once for all REPS */
    long r = 0;
    for (int i = 0; i < REPS; i++)
        r = fib(arg);
    printf("fib: %ld\n", r);
    return 0;
}
