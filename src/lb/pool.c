/* pool.c: pools of backends, the per-worker picker and latency observations.
 *
 * A pool changes only while a configuration generation is being built, when no worker picks
 * from it, so the lb_pool_* functions take no lock. Every change that algorithm state depends
 * on (the backend set, weights) bumps `version`; a worker's picker sees the new version at its
 * next pick and rebuilds its state. Health (`up`) and admin state (`enabled`) change under the
 * workers' feet instead and bump nothing: every pick reads them atomically. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "priv.h"

/* algo NULL: the first registered algorithm (round-robin). */
struct lb_pool *lb_pool_new(const char *name, const struct lb_algo *algo)
{
	if (!name || strlen(name) >= LB_NAME_MAX)
		return NULL;
	if (!algo)
		algo = lb_algo_first();
	struct lb_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	strcpy(pool->name, name);
	pool->algo = algo;
	pool->version = 1;	/* a zeroed picker (version 0) always builds first */
	return pool;
}

static void bstate_put(struct lb_bstate *st)
{
	if (st && __atomic_sub_fetch(&st->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(st);
}

void lb_backend_share(struct lb_backend *dst, const struct lb_backend *src)
{
	if (dst->st == src->st)
		return;
	__atomic_add_fetch(&src->st->refs, 1, __ATOMIC_RELAXED);
	bstate_put(dst->st);
	dst->st = src->st;
}

void lb_pool_free(struct lb_pool *pool)
{
	if (!pool)
		return;
	for (uint32_t i = 0; i < pool->n; i++)
		bstate_put(pool->backends[i].st);
	free(pool->backends);
	free(pool);
}

static int pool_grow(struct lb_pool *pool)
{
	uint32_t cap = pool->cap ? pool->cap * 2 : 8;
	if (cap > LB_MAX_BACKENDS)
		cap = LB_MAX_BACKENDS;
	struct lb_backend *b = realloc(pool->backends, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	pool->backends = b;
	pool->cap = cap;
	return 0;
}

/* A new backend is up and enabled: until a health check says otherwise it is assumed to
 * work, as with no health check at all. */
int lb_pool_add(struct lb_pool *pool, uint32_t ip, uint16_t port, uint32_t weight)
{
	if (!pool || weight > LB_WEIGHT_MAX)
		return -EINVAL;
	if (pool->n >= LB_MAX_BACKENDS)
		return -ENOSPC;
	if (pool->n == pool->cap && pool_grow(pool) < 0)
		return -ENOMEM;
	struct lb_bstate *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	*st = (struct lb_bstate){ .refs = 1, .up = 1, .enabled = 1 };
	pool->backends[pool->n] = (struct lb_backend){
		.index = pool->n, .ip = ip, .port = port, .weight = weight, .want_enabled = 1, .st = st,
	};
	pool->version++;
	return (int)pool->n++;
}

int lb_pool_remove(struct lb_pool *pool, uint32_t index)
{
	if (!pool || index >= pool->n)
		return -EINVAL;
	bstate_put(pool->backends[index].st);
	pool->n--;
	memmove(&pool->backends[index], &pool->backends[index + 1],
		(pool->n - index) * sizeof(*pool->backends));
	for (uint32_t i = index; i < pool->n; i++)
		pool->backends[i].index = i;
	pool->version++;
	return 0;
}

int lb_pool_set_weight(struct lb_pool *pool, uint32_t index, uint32_t weight)
{
	if (!pool || index >= pool->n || weight > LB_WEIGHT_MAX)
		return -EINVAL;
	pool->backends[index].weight = weight;
	pool->version++;
	return 0;
}

/* Pickers compare the algorithm as well as the version, so no bump is needed here. */
int lb_pool_set_algo(struct lb_pool *pool, const struct lb_algo *algo)
{
	if (!pool || !algo)
		return -EINVAL;
	pool->algo = algo;
	return 0;
}

bool lb_backend_usable(const struct lb_backend *b)
{
	return b->weight > 0 && __atomic_load_n(&b->st->up, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&b->st->enabled, __ATOMIC_RELAXED) && lb_breaker_passable(b);
}

void lb_picker_init(struct lb_picker *p, struct lb_pool *pool)
{
	memset(p, 0, sizeof(*p));
	p->pool = pool;
}

void lb_picker_fini(struct lb_picker *p)
{
	if (p->state && p->algo)
		p->algo->free(p->state);
	p->state = NULL;
	p->algo = NULL;
	p->version = 0;
}

/* Bring the worker's state up to date with the pool's version and algorithm. */
static int picker_sync(struct lb_picker *p)
{
	struct lb_pool *pool = p->pool;
	if (p->state && p->algo == pool->algo && p->version == pool->version)
		return 0;
	lb_picker_fini(p);
	p->state = pool->algo->build(pool);
	if (!p->state)
		return -ENOMEM;
	p->algo = pool->algo;
	p->version = pool->version;
	return 0;
}

/* A half-open backend whose probes another worker just claimed: pick again without it
 * (rare: only while a breaker is half-open, so the copy of `tried` costs nothing usually). */
static struct lb_backend *repick(struct lb_picker *p, const struct lb_key *key,
				 const uint64_t *tried, struct lb_backend *b)
{
	uint64_t mine[LB_MAX_BACKENDS / 64];
	if (tried)
		memcpy(mine, tried, sizeof(mine));
	else
		memset(mine, 0, sizeof(mine));
	for (int round = 0; b && round < 4; round++) {
		if (lb_breaker_claim(b))
			return b;
		mine[b->index / 64] |= 1ull << (b->index % 64);
		b = p->pool->algo->pick(p->pool, p->state, key, mine);
	}
	return NULL;
}

/* No memory for the worker's state counts as no backend: the request fails, the worker
 * lives on and tries to build again at its next pick. */
struct lb_backend *lb_pick(struct lb_picker *p, const struct lb_key *key, const uint64_t *tried)
{
	static const struct lb_key nokey;
	struct lb_pool *pool = p->pool;
	struct lb_backend *b = NULL;
	lb_breaker_forget();
	if (picker_sync(p) == 0)
		b = pool->algo->pick(pool, p->state, key ? key : &nokey, tried);
	if (b && __builtin_expect(__atomic_load_n(&b->st->cb_open, __ATOMIC_RELAXED), 0))
		b = repick(p, key ? key : &nokey, tried, b);
	__atomic_fetch_add(&pool->requests, 1, __ATOMIC_RELAXED);
	if (b)
		__atomic_fetch_add(&b->st->picks, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&pool->no_backend, 1, __ATOMIC_RELAXED);
	return b;
}

/* Peak-EWMA: a slower sample is believed at once (a backend getting slow must shed load now),
 * a faster one only gradually, weighted by the time since the last update, so the estimate
 * does not depend on the request rate. Two workers racing may lose one update; each field is
 * one atomic 64-bit store, so neither is ever torn. 0 stays "no sample yet". */
void lb_backend_observe_latency(struct lb_backend *b, uint64_t ns, uint64_t now_ns)
{
	uint64_t old = __atomic_load_n(&b->st->ewma_ns, __ATOMIC_RELAXED);
	uint64_t then = __atomic_load_n(&b->st->ewma_stamp_ns, __ATOMIC_RELAXED);
	uint64_t val = ns ? ns : 1;
	if (old && val < old) {
		double keep = lb_ewma_keep(then, now_ns);
		val += (uint64_t)((double)(old - val) * keep + 0.5);
	}
	__atomic_store_n(&b->st->ewma_ns, val, __ATOMIC_RELAXED);
	__atomic_store_n(&b->st->ewma_stamp_ns, now_ns, __ATOMIC_RELAXED);
}
