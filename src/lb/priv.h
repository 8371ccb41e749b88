/* priv.h: what the balancing algorithms share and nothing outside src/lb/ needs. */
#ifndef AFD_LB_PRIV_H
#define AFD_LB_PRIV_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <afd/lb.h>

#define LB_WEIGHT_MAX 1000000
#define LB_EWMA_TAU_NS 10e9		/* peak-EWMA time constant: 10 s */

/* The built-in algorithms, one file each; algo.c registers them in this order. */
extern struct lb_algo lb_algo_rr, lb_algo_wrr, lb_algo_leastconn, lb_algo_p2c,
	lb_algo_ewma, lb_algo_srchash, lb_algo_maglev;

static inline bool lb_tried(const uint64_t *tried, uint32_t i)
{
	return tried && (tried[i / 64] >> (i % 64) & 1);
}

/* May this pick return b? */
static inline bool lb_candidate(const struct lb_backend *b, const uint64_t *tried)
{
	return lb_backend_usable(b) && !lb_tried(tried, b->index);
}

static inline int64_t lb_active(const struct lb_backend *b)
{
	int64_t a = __atomic_load_n(&b->st->active, __ATOMIC_RELAXED);
	return a < 0 ? 0 : a;	/* a decrement seen before its increment */
}

/* a/wa < b/wb, cross-multiplied in 128 bits so no count or weight can overflow it. */
static inline bool lb_lighter(int64_t a, uint32_t wa, int64_t b, uint32_t wb)
{
	return (unsigned __int128)a * wb < (unsigned __int128)b * wa;
}

/* A bijective 64-bit finalizer: every input bit flips about half the output bits. */
static inline uint64_t lb_mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 29;
	x *= 0xa0761d6478bd642full;
	return x ^ (x >> 32);
}

/* Two words hashed together, for "key against backend" scores. */
static inline uint64_t lb_mix2(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)(a ^ 0x9e3779b97f4a7c15ull) *
			      (b ^ 0xe7037ed1a0b428dbull);
	return lb_mix64((uint64_t)r ^ (uint64_t)(r >> 64));
}

/* A uniform integer in [0, n) from the high half of x (multiply-shift, no division). */
static inline uint32_t lb_range(uint64_t x, uint32_t n)
{
	return (uint32_t)(((x >> 32) * (uint64_t)n) >> 32);
}

/* How much of a peak-EWMA value survives from `then` to `now`: exp(-dt/tau). */
static inline double lb_ewma_keep(uint64_t then, uint64_t now)
{
	return now <= then ? 1.0 : exp(-(double)(now - then) / LB_EWMA_TAU_NS);
}

/* The hash of a backend's address (ip:port, network byte order), the same on every worker
 * and every run, so hash-based algorithms map keys the same way everywhere. */
uint64_t lb_backend_hash(const struct lb_backend *b, uint64_t seed);

/* The two-choice algorithms (random-two-choices, peak-ewma) share sample.c: a state built
 * by lb_sample_build, and lb_sample_two, which draws up to two distinct candidates
 * uniformly at random and returns how many it found (0, 1 or 2). */
struct lb_state *lb_sample_build(const struct lb_pool *pool);
void lb_sample_free(struct lb_state *state);
int lb_sample_two(struct lb_pool *pool, struct lb_state *state, uint64_t rand,
		  const uint64_t *tried, struct lb_backend *out[2]);

#endif
