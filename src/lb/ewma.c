/* ewma.c: the word `peak-ewma`. Two random candidates; the cheaper wins, where
 * cost = (latency + 1) * (active + 1) / weight and latency is the backend's peak-EWMA of
 * response times (lb_backend_observe_latency) decayed to now.
 *
 * Decaying at pick time matters: a backend that was slow once gets few requests, hence few
 * new samples, and without the decay its old peak would keep it out for good. Here its cost
 * falls with time (time constant 10 s) until it is tried again and measured afresh.
 *
 * A backend with no sample yet costs the least of all while idle, so a new backend is tried
 * at once; while its first requests are in flight it costs a penalty latency instead, so it
 * is not flooded before anything is known about it (the Finagle approach). */
#include "priv.h"

#define UNSAMPLED_IDLE_NS 0.0
#define UNSAMPLED_BUSY_NS 1e9

static double cost(const struct lb_backend *b, uint64_t now_ns)
{
	uint64_t ewma = __atomic_load_n(&b->st->ewma_ns, __ATOMIC_RELAXED);
	uint64_t then = __atomic_load_n(&b->st->ewma_stamp_ns, __ATOMIC_RELAXED);
	int64_t active = lb_active(b);
	double lat;
	if (ewma)
		lat = (double)ewma * lb_ewma_keep(then, now_ns);
	else
		lat = active ? UNSAMPLED_BUSY_NS : UNSAMPLED_IDLE_NS;
	return (lat + 1) * (double)(active + 1) / b->weight;
}

static struct lb_backend *ewma_pick(struct lb_pool *pool, struct lb_state *state,
				    const struct lb_key *key, const uint64_t *tried)
{
	struct lb_backend *c[2];
	int n = lb_sample_two(pool, state, key->rand, tried, c);
	if (n < 2)
		return n ? c[0] : NULL;
	return cost(c[1], key->now_ns) < cost(c[0], key->now_ns) ? c[1] : c[0];
}

struct lb_algo lb_algo_ewma = {
	.name = "peak-ewma",
	.build = lb_sample_build,
	.free = lb_sample_free,
	.pick = ewma_pick,
};
