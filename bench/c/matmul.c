/* Integer matrix multiply C = A x B of 200x200 matrices (row-major),
 * repeated REPS times.  A(i,j) = (i+2j) mod 17 - 8,  B(i,j) = (3i+j) mod 13 - 6.
 * Checksum: sum over every element of (k+1)*C[k], k the row-major index.
 * Same work and output as bench/matmul.fs. */
#include <stdio.h>
#include <stdint.h>

#define N 200
#define REPS 3

static int64_t a[N][N], b[N][N], c[N][N];

static void init(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (i + 2 * j) % 17 - 8;
            b[i][j] = (3 * i + j) % 13 - 6;
        }
}

static void mmul(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int64_t sum = 0;
            for (int k = 0; k < N; k++)
                sum += a[i][k] * b[k][j];
            c[i][j] = sum;
        }
}

int main(void)
{
    init();
    for (int r = 0; r < REPS; r++)
        mmul();
    int64_t sum = 0, *p = &c[0][0];
    for (int64_t k = 0; k < N * N; k++)
        sum += p[k] * (k + 1);
    printf("matmul: checksum %lld\n", (long long)sum);
    return 0;
}
