/* Sieve of Eratosthenes, the classic BYTE benchmark: 8190 flags where
 * flag i stands for the odd number 2i+3, run ITERATIONS times.
 * Same work and output as bench/sieve.fs. */
#include <stdio.h>
#include <string.h>

#define SIZE 8190
#define ITERATIONS 1500

static char flags[SIZE];

static long primes(void)
{
    long count = 0;
    memset(flags, 1, SIZE);
    for (long i = 0; i < SIZE; i++) {
        if (flags[i]) {
            long prime = i + i + 3;
            for (long k = i + prime; k < SIZE; k += prime)
                flags[k] = 0;
            count++;
        }
    }
    return count;
}

int main(void)
{
    long count = 0;
    for (int n = 0; n < ITERATIONS; n++)
        count = primes();
    printf("sieve: %ld primes\n", count);
    return 0;
}
