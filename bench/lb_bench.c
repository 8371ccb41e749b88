/* lb_bench.c: nanoseconds per pick of each balancing algorithm, one thread, for pools of
 * several sizes, and the time to build each algorithm's per-worker state (what a worker
 * pays after a configuration change; the Maglev table dominates).
 *
 * build: cc -std=gnu17 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o build/lb_bench \
 *            bench/lb_bench.c src/lb/[a-z]*.c -lpthread -lm   (or link build/libafd.a)
 * usage: lb_bench [PICKS]   (default 2000000 picks per algorithm and size) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <afd/lb.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	return z ^ (z >> 31);
}

/* A pool of n backends of weights 1..4, one in ten down. */
static struct lb_pool *make_pool(const struct lb_algo *a, uint32_t n)
{
	struct lb_pool *pool = lb_pool_new("bench", a);
	for (uint32_t i = 0; i < n; i++) {
		lb_pool_add(pool, 0x0a000000u + i, 80, 1 + i % 4);
		pool->backends[i].up = i % 10 != 9;
		pool->backends[i].active = i % 7;
	}
	return pool;
}

static double build_ns(const struct lb_algo *a, struct lb_pool *pool)
{
	double t0 = now_ns();
	struct lb_state *s = a->build(pool);
	double t = now_ns() - t0;
	a->free(s);
	return t;
}

static double pick_ns(struct lb_pool *pool, long picks)
{
	struct lb_picker p;
	uint64_t seed = 1, sink = 0;
	lb_picker_init(&p, pool);
	lb_pick(&p, NULL, NULL);	/* the build is measured apart */
	double t0 = now_ns();
	for (long k = 0; k < picks; k++) {
		struct lb_key key = { .hash = next_rand(&seed), .rand = next_rand(&seed) };
		struct lb_backend *b = lb_pick(&p, &key, NULL);
		sink += b ? b->index : 0;
	}
	double t = (now_ns() - t0) / picks;
	lb_picker_fini(&p);
	return sink == 1 ? -t : t;	/* keeps the loop from being optimized away */
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 8, 100, 1000, 4096 };
	long picks = argc > 1 ? atol(argv[1]) : 2000000;
	printf("%-22s %6s %12s %12s\n", "algorithm", "n", "ns/pick", "build us");
	for (const struct lb_algo *a = lb_algo_first(); a; a = a->next)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			struct lb_pool *pool = make_pool(a, sizes[i]);
			long np = sizes[i] > 100 ? picks / (sizes[i] / 100) : picks;
			printf("%-22s %6u %12.1f %12.1f\n", a->name, sizes[i], pick_ns(pool, np),
			       build_ns(a, pool) / 1e3);
			lb_pool_free(pool);
		}
	return 0;
}
