/* lpm_bench.c: lookups per second in the longest-prefix-match table (src/lb/lpm.c) with
 * 100,000 random prefixes, lengths spread as in a BGP table (most /24 and shorter). Part of
 * `make bench`. usage: lpm_bench [PREFIXES [LOOKUPS]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <afd/lpm.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000, lookups = argc > 2 ? atol(argv[2]) : 20000000;
	static const int lens[] = { 8, 12, 16, 18, 20, 22, 23, 24, 24, 24, 24, 24, 24, 28, 32 };
	struct lb_lpm *b = lb_lpm_new();
	for (long i = 0; i < n; i++)
		lb_lpm_add(b, (uint32_t)next(), lens[next() % 15], (uint32_t)(next() % 200));
	double t0 = now();
	struct lb_lpm_table *t = lb_lpm_compile(b);
	double t1 = now();
	if (!t)
		return 1;
	uint32_t *ips = malloc(1 << 20 << 2);
	printf("lpm: %ld prefixes, compiled in %.1f ms, %.1f MiB\n", n, (t1 - t0) * 1e3,
	       (double)lb_lpm_table_bytes(t) / 1048576.0);
	for (int pass = 0; pass < 2; pass++) {
		/* random addresses; then addresses under the /28 and /32 prefixes, the lookups
		 * that go down all three levels (the prefixes' stream replayed) */
		long deep = 0;
		rng = 0x9e3779b97f4a7c15ull;
		for (long i = 0; pass && i < n && deep < 1 << 20; i++) {
			uint32_t a = (uint32_t)next();
			int len = lens[next() % 15];
			next();
			if (len > 24)
				ips[deep++] = a;
		}
		for (long i = 0; i < 1 << 20; i++)
			ips[i] = pass ? ips[i % deep] : (uint32_t)next();
		uint64_t sum = 0;
		double t2 = now();
		for (long i = 0; i < lookups; i++)
			sum += lb_lpm_find(t, ips[i & ((1 << 20) - 1)]);
		double t3 = now();
		printf("lpm: %.1f M lookups/s, %.1f ns/lookup (%s, checksum %llu)\n",
		       (double)lookups / (t3 - t2) / 1e6, (t3 - t2) * 1e9 / (double)lookups,
		       pass ? "addresses in /25../32 prefixes" : "random addresses",
		       (unsigned long long)sum);
	}
	lb_lpm_table_free(t);
	lb_lpm_free(b);
	free(ips);
	return 0;
}
