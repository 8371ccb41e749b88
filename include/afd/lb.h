/* lb.h: pools, backends and balancing algorithms. Conventions: 0 or a negative errno. */
#ifndef AFD_LB_H
#define AFD_LB_H

#include "lb-t.h"

/* Pools */
struct lb_pool *lb_pool_new(const char *name, const struct lb_algo *algo);
void lb_pool_free(struct lb_pool *pool);
/* Add a backend (weight 0..1000000); returns its index or -EINVAL/-ENOMEM/-ENOSPC. */
int lb_pool_add(struct lb_pool *pool, uint32_t ip, uint16_t port, uint32_t weight);
int lb_pool_remove(struct lb_pool *pool, uint32_t index);	/* later indices shift down */
int lb_pool_set_weight(struct lb_pool *pool, uint32_t index, uint32_t weight);
int lb_pool_set_algo(struct lb_pool *pool, const struct lb_algo *algo);
/* Is the backend eligible for new connections (up, enabled, weight > 0)? */
bool lb_backend_usable(const struct lb_backend *b);
/* Make dst share src's run-time state (a backend carried into a new generation). */
void lb_backend_share(struct lb_backend *dst, const struct lb_backend *src);

/* The registry of algorithms, one file each in src/lb/. The built-ins are registered by
 * lb_algos_init (constructors would be dropped with their unreferenced objects when linking
 * from libafd.a); others call lb_algo_register at start-up, before workers pick. */
void lb_algo_register(struct lb_algo *algo);
const struct lb_algo *lb_algo_find(const char *name);
const struct lb_algo *lb_algo_first(void);	/* iterate with ->next */
/* Register the built-in algorithms (idempotent, thread-safe). lb_algo_find and lb_algo_first
 * call it, so only a program that walks the list some other way needs to. */
void lb_algos_init(void);

/* A worker's cached state for one pool: rebuilt when pool->version changed.
 * Returns the backend picked (its `active` count is not changed: callers do that). */
struct lb_picker {
	struct lb_pool *pool;
	struct lb_state *state;
	const struct lb_algo *algo;
	uint64_t version;
};
/* A picker for pool with no state yet (the same as zeroing it and setting pool). */
void lb_picker_init(struct lb_picker *p, struct lb_pool *pool);
/* key NULL: all zeros. Give key->rand a fresh random number for the random algorithms. */
struct lb_backend *lb_pick(struct lb_picker *p, const struct lb_key *key, const uint64_t *tried);
void lb_picker_fini(struct lb_picker *p);	/* frees the state; p->pool is kept */

/* Passive and active observations. */
void lb_backend_observe_latency(struct lb_backend *b, uint64_t ns, uint64_t now_ns);

/* Circuit breaker (breaker.c). Time is lb_now_ns(), the monotonic clock. A pick claims a
 * half-open backend's probe (lb_pick does); results come from the data path or from Forth. */
uint64_t lb_now_ns(void);
int lb_breaker_state(const struct lb_backend *b, uint64_t now);	/* LB_CB_* */
bool lb_breaker_passable(const struct lb_backend *b);	/* no claim: a picker's filter */
bool lb_breaker_claim(struct lb_backend *b);		/* take a half-open probe; false: none */
void lb_breaker_forget(void);	/* this thread's last claim is spent (lb_pick calls it) */
void lb_breaker_result(const struct lb_pool *pool, struct lb_backend *b, bool ok);

/* Hashing for keys (64-bit, seeded); used by source-hash and maglev-hash. */
uint64_t lb_hash(const void *data, size_t len, uint64_t seed);

#endif
