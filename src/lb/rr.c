/* rr.c: round-robin, the word `round-robin`. Backends in turn, skipping those that cannot
 * take the request. Weights count only as zero or not (weighted-round-robin honours them).
 *
 * The cursor is the pool's, shared by every worker: one atomic add per pick buys an exact
 * rotation across workers (what a user watching `curl` expects), for a cost that is noise
 * beside proxying a request. */
#include <stdlib.h>
#include "priv.h"

static struct lb_state *rr_build(const struct lb_pool *pool)
{
	return calloc(1, 1);	/* no per-worker state; non-NULL means "built" */
}

static void rr_free(struct lb_state *state)
{
	free(state);
}

static struct lb_backend *rr_pick(struct lb_pool *pool, struct lb_state *state,
				  const struct lb_key *key, const uint64_t *tried)
{
	uint32_t n = pool->n;
	if (n == 0)
		return NULL;
	uint32_t i = (uint32_t)(__atomic_fetch_add(&pool->rr_next, 1, __ATOMIC_RELAXED) % n);
	for (uint32_t k = 0; k < n; k++) {
		struct lb_backend *b = &pool->backends[i];
		if (++i == n)
			i = 0;
		if (lb_candidate(b, tried)) {
			if (k)	/* skipped some: the next pick starts after this one */
				__atomic_store_n(&pool->rr_next, i, __ATOMIC_RELAXED);
			return b;
		}
	}
	return NULL;
}

struct lb_algo lb_algo_rr = {
	.name = "round-robin",
	.build = rr_build,
	.free = rr_free,
	.pick = rr_pick,
};
