/* wrr.c: smooth weighted round-robin, the word `weighted-round-robin` (the nginx scheme).
 *
 * Every pick adds each candidate's weight to its running credit, takes the candidate with
 * the most credit and charges it the total weight of the candidates. Over sum(weights) picks
 * each backend is chosen exactly weight times, and the heavy ones are spread out instead of
 * coming in bursts: weights 5,1,1 give a a b a c a a. A backend that is down or tried earns
 * no credit meanwhile, so it does not come back owed a burst. Each pick is O(n). */
#include <stdlib.h>
#include "priv.h"

/* The state is the credits, one per backend (at least one, so n = 0 needs no case). */
static struct lb_state *wrr_build(const struct lb_pool *pool)
{
	size_t n = pool->n ? pool->n : 1;
	return calloc(n, sizeof(int64_t));
}

static void wrr_free(struct lb_state *state)
{
	free(state);
}

/* Credits stay within +-(sum of weights) <= 4096 * 10^6, far inside int64. */
static struct lb_backend *wrr_pick(struct lb_pool *pool, struct lb_state *state,
				   const struct lb_key *key, const uint64_t *tried)
{
	int64_t *credit = (int64_t *)state;
	int64_t total = 0;
	struct lb_backend *best = NULL;
	for (uint32_t i = 0; i < pool->n; i++) {
		struct lb_backend *b = &pool->backends[i];
		if (!lb_candidate(b, tried))
			continue;
		credit[i] += b->weight;
		total += b->weight;
		if (!best || credit[i] > credit[best->index])
			best = b;
	}
	if (best)
		credit[best->index] -= total;
	return best;
}

struct lb_algo lb_algo_wrr = {
	.name = "weighted-round-robin",
	.build = wrr_build,
	.free = wrr_free,
	.pick = wrr_pick,
};
