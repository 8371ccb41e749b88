/* sample.c: two distinct candidates drawn at random, for the two-choice algorithms.
 *
 * A few random probes find them at once when most backends can be picked. When the probes
 * keep landing on backends that are down or tried, count the candidates and take two by
 * rank: two passes, but it always ends. Either way every pair has the same chance.
 *
 * The state is a per-worker counter folded into key->rand, so a caller passing the same
 * number (or none) twice does not get the same pair every time. */
#include <stdlib.h>
#include "priv.h"

#define PROBES 8
#define GOLDEN 0x9e3779b97f4a7c15ull

struct lb_state *lb_sample_build(const struct lb_pool *pool)
{
	return calloc(1, sizeof(uint64_t));
}

void lb_sample_free(struct lb_state *state)
{
	free(state);
}

static int by_probes(struct lb_pool *pool, uint64_t rand, const uint64_t *tried,
		     struct lb_backend *out[2])
{
	int got = 0;
	for (int k = 1; k <= PROBES && got < 2; k++) {
		struct lb_backend *b = &pool->backends[lb_range(lb_mix64(rand + k * GOLDEN), pool->n)];
		if (lb_candidate(b, tried) && (got == 0 || b != out[0]))
			out[got++] = b;
	}
	return got;
}

static int by_rank(struct lb_pool *pool, uint64_t rand, const uint64_t *tried,
		   struct lb_backend *out[2])
{
	uint32_t m = 0;
	for (uint32_t i = 0; i < pool->n; i++)
		m += lb_candidate(&pool->backends[i], tried);
	if (m == 0)
		return 0;
	uint64_t x = lb_mix64(rand);
	uint32_t r0 = lb_range(x, m), r1 = lb_range(x << 32, m - 1);
	r1 += r1 >= r0;		/* uniform over the other m - 1 ranks */
	for (uint32_t i = 0, rank = 0; i < pool->n; i++) {
		struct lb_backend *b = &pool->backends[i];
		if (!lb_candidate(b, tried))
			continue;
		if (rank == r0)
			out[0] = b;
		else if (rank == r1)
			out[1] = b;
		rank++;
	}
	return m < 2 ? 1 : 2;
}

int lb_sample_two(struct lb_pool *pool, struct lb_state *state, uint64_t rand,
		  const uint64_t *tried, struct lb_backend *out[2])
{
	uint64_t *seq = (uint64_t *)state;
	if (!pool->n)
		return 0;
	rand = lb_mix64(rand ^ ++*seq * GOLDEN);
	return by_probes(pool, rand, tried, out) == 2 ? 2 : by_rank(pool, rand, tried, out);
}
