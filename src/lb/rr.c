/* rr.c: round-robin, the word `round-robin`. Backends in turn, skipping those that cannot
 * take the request. Weights count only as zero or not (weighted-round-robin honours them).
 *
 * The cursor is per worker, so workers share no counter and no cache line; each worker
 * starts at a random place so that a burst of first requests on every worker does not all
 * land on backend 0. */
#include <stdlib.h>
#include "priv.h"

struct rr_state {
	uint32_t next;		/* the backend to try first */
	bool started;
};

static struct lb_state *rr_build(const struct lb_pool *pool)
{
	return calloc(1, sizeof(struct rr_state));
}

static void rr_free(struct lb_state *state)
{
	free(state);
}

static struct lb_backend *rr_pick(struct lb_pool *pool, struct lb_state *state,
				  const struct lb_key *key, const uint64_t *tried)
{
	struct rr_state *st = (struct rr_state *)state;
	uint32_t n = pool->n;
	if (!st->started) {
		st->next = lb_range(key->rand, n);
		st->started = true;
	}
	for (uint32_t k = 0, i = st->next; k < n; k++) {
		struct lb_backend *b = &pool->backends[i];
		if (++i == n)
			i = 0;
		if (lb_candidate(b, tried)) {
			st->next = i;
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
