/* Bubble sort of 6000 cells filled from a 16-bit linear congruential
 * sequence, sorted ascending, then checked.  Repeated PASSES times.
 * Same work and output as bench/bubble.fs. */
#include <stdio.h>
#include <stdint.h>

#define N 6000
#define PASSES 2

static int64_t ary[N];
static int64_t seed;

static int64_t random16(void)
{
    seed = (seed * 1309 + 13849) & 65535;
    return seed;
}

static void fill_array(void)
{
    seed = 74755;
    for (int i = 0; i < N; i++)
        ary[i] = random16();
}

static void bubble(void)
{
    for (int i = 1; i < N; i++)
        for (int j = 0; j < N - i; j++)
            if (ary[j] > ary[j + 1]) {
                int64_t t = ary[j];
                ary[j] = ary[j + 1];
                ary[j + 1] = t;
            }
}

static int sorted(void)
{
    for (int i = 0; i < N - 1; i++)
        if (ary[i] > ary[i + 1])
            return 0;
    return 1;
}

int main(void)
{
    for (int p = 0; p < PASSES; p++) {
        fill_array();
        bubble();
    }
    if (!sorted()) {
        printf("bubble: NOT SORTED\n");
        return 0;
    }
    int64_t sum = 0;
    for (int i = 0; i < N; i++)
        sum += ary[i] * i;
    printf("bubble: sorted, checksum %lld\n", (long long)sum);
    return 0;
}
