/* leastconn.c: the word `least-connections`. The backend with the fewest connections in
 * flight for its weight (active/weight, compared by cross-multiplying), counted over all
 * workers through the shared atomic `active`.
 *
 * Ties are common (every idle backend has 0), so the scan starts just after the previous
 * pick and the first of the least loaded wins: equal loads go round-robin instead of piling
 * onto backend 0. The counts are read without a lock; a stale count costs at worst one
 * slightly worse choice. Each pick is O(n). */
#include <stdlib.h>
#include "priv.h"

struct lc_state {
	uint32_t next;		/* where the next scan starts */
};

static struct lb_state *lc_build(const struct lb_pool *pool)
{
	return calloc(1, sizeof(struct lc_state));
}

static void lc_free(struct lb_state *state)
{
	free(state);
}

static struct lb_backend *lc_pick(struct lb_pool *pool, struct lb_state *state,
				  const struct lb_key *key, const uint64_t *tried)
{
	struct lc_state *st = (struct lc_state *)state;
	uint32_t n = pool->n;
	struct lb_backend *best = NULL;
	int64_t best_active = 0;
	for (uint32_t k = 0, i = st->next; k < n; k++) {
		struct lb_backend *b = &pool->backends[i];
		if (++i == n)
			i = 0;
		if (!lb_candidate(b, tried))
			continue;
		int64_t a = lb_active(b);
		if (!best || lb_lighter(a, b->weight, best_active, best->weight)) {
			best = b;
			best_active = a;
		}
	}
	if (best)
		st->next = best->index + 1 == n ? 0 : best->index + 1;
	return best;
}

struct lb_algo lb_algo_leastconn = {
	.name = "least-connections",
	.build = lc_build,
	.free = lc_free,
	.pick = lc_pick,
};
