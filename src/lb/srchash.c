/* srchash.c: the word `source-hash`. The same key goes to the same backend, by weighted
 * rendezvous hashing: each candidate scores -weight / ln(u), u in (0,1) a hash of the key and
 * the backend's address, and the highest score wins.
 *
 * A score depends only on the key and that one backend, never on the others, so a backend
 * going down, being tried, removed or added only moves the keys whose winner it was (or
 * becomes); and the winner is each backend with probability weight / total weight (the
 * scores are exponential races). Scores do not depend on backend indices, so removing a
 * backend (which shifts indices) moves nothing else either. Each pick is O(n), a few ns per
 * backend: the logarithm is skipped when all weights are equal (it is monotonic) and nearly
 * always otherwise (see score). For large pools maglev-hash is O(1). */
#include <stdlib.h>
#include "priv.h"

#define ADDR_SEED 0x5eed5a17c0ffee01ull	/* fixed: every worker and run maps alike */

struct sh_state {
	bool uniform;		/* every backend with weight > 0 has the same weight */
	uint64_t addr[];	/* lb_backend_hash of each backend */
};

static struct lb_state *sh_build(const struct lb_pool *pool)
{
	struct sh_state *st = malloc(sizeof(*st) + pool->n * sizeof(uint64_t));
	if (!st)
		return NULL;
	uint32_t w = 0;
	st->uniform = true;
	for (uint32_t i = 0; i < pool->n; i++) {
		const struct lb_backend *b = &pool->backends[i];
		st->addr[i] = lb_backend_hash(b, ADDR_SEED);
		if (b->weight && w && b->weight != w)
			st->uniform = false;
		if (b->weight)
			w = b->weight;
	}
	return (struct lb_state *)st;
}

static void sh_free(struct lb_state *state)
{
	free(state);
}

/* The score of a backend whose key-and-address hash is h, or 0 (which never wins, scores
 * being > 0) when it cannot beat best: as -ln(u) >= 1 - u, a score is at most
 * weight / (1 - u), and that cheap bound rules out nearly every backend before the log. */
static double score(const struct sh_state *st, uint64_t h, uint32_t weight, double best)
{
	if (st->uniform)
		return (double)(h >> 11) + 1;
	double u = ((double)(h >> 11) + 0.5) * 0x1p-53;
	if (weight <= best * (1 - u))
		return 0;
	return -(double)weight / log(u);
}

static struct lb_backend *sh_pick(struct lb_pool *pool, struct lb_state *state,
				  const struct lb_key *key, const uint64_t *tried)
{
	struct sh_state *st = (struct sh_state *)state;
	struct lb_backend *best = NULL;
	double best_score = 0;
	for (uint32_t i = 0; i < pool->n; i++) {
		struct lb_backend *b = &pool->backends[i];
		if (!lb_candidate(b, tried))
			continue;
		double s = score(st, lb_mix2(key->hash, st->addr[i]), b->weight, best_score);
		if (s > best_score) {
			best = b;
			best_score = s;
		}
	}
	return best;
}

struct lb_algo lb_algo_srchash = {
	.name = "source-hash",
	.build = sh_build,
	.free = sh_free,
	.pick = sh_pick,
};
