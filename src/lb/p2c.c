/* p2c.c: the power of two random choices, the word `random-two-choices`. Two distinct
 * candidates at random, the one with fewer connections in flight for its weight wins.
 *
 * Nearly as good as least-connections at spreading load, at O(1) per pick instead of O(n),
 * and without its herd behaviour: workers reading the same stale counts do not all rush to
 * the same least-loaded backend, since each compares a different random pair. */
#include "priv.h"

static struct lb_backend *p2c_pick(struct lb_pool *pool, struct lb_state *state,
				   const struct lb_key *key, const uint64_t *tried)
{
	struct lb_backend *c[2];
	int n = lb_sample_two(pool, state, key->rand, tried, c);
	if (n < 2)
		return n ? c[0] : NULL;
	return lb_lighter(lb_active(c[1]), c[1]->weight, lb_active(c[0]), c[0]->weight) ? c[1] : c[0];
}

struct lb_algo lb_algo_p2c = {
	.name = "random-two-choices",
	.build = lb_sample_build,
	.free = lb_sample_free,
	.pick = p2c_pick,
};
