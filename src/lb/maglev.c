/* maglev.c: Maglev consistent hashing (Eisenbud et al., NSDI 2016), the word `maglev-hash`.
 *
 * A lookup table of M = 65537 (prime) slots, each naming a backend; a key goes to
 * table[hash % M], so a pick is O(1). Building the table: each backend has its own
 * permutation of the slots, (offset + j * skip) mod M with offset and skip from a hash of its
 * address, and the backends take turns claiming the next free slot of their permutation
 * until the table is full. Every backend ends with its share of slots, and removing one
 * mostly frees its own slots: other keys barely move (the paper's "minimal disruption").
 *
 * Weights: backend i takes its k-th turn at virtual time (2k + 1) / weight_i, turns in time
 * order. Equal weights give the paper's plain rounds of turns; a backend with twice the
 * weight takes twice the turns, interleaved with the others, and the turns of the others do
 * not depend on it, so removing it disturbs them no more than in the unweighted case.
 * Backends of equal weight move as one group in a heap ordered by next turn (ties by lowest
 * index): the build costs O(M log g) for g distinct weights plus the probing, about 1 ms
 * with a few distinct weights and about 10 ms when 1000 or more backends all differ.
 *
 * Health: the table holds every backend with weight > 0, whether up or not, and depends only
 * on the configuration (what `version` covers). A key whose slot names a backend that is down
 * or tried goes to the next slots in the table, which belong to other backends in proportion
 * to their shares. So a backend going down moves exactly its own keys, coming back moves
 * them back, no worker rebuilds anything on a health change (no rebuild storm when health
 * flaps), and all workers, building from the same configuration, agree on every key at every
 * moment. We chose this over a table of only the backends up at build time, which would need
 * an O(n) check of the health of every backend per pick (or a lazy, per-worker rebuild that
 * leaves workers disagreeing for a while). When PROBES slots in a row are unusable (most of
 * the capacity is gone), an O(n) rendezvous choice among the candidates takes over, weights
 * ignored: correct, consistent, and only for the rare degraded case.
 *
 * Memory: 128 KiB per worker per pool. With more than about 650 backends a backend has under
 * 100 slots, so shares are quantized to about 1% or worse (16 slots each for 4096). */
#include <stdlib.h>
#include <string.h>
#include "priv.h"

#define M 65537u		/* prime: any skip in [1, M) visits every slot */
#define EMPTY 0xffffu		/* LB_MAX_BACKENDS <= 0xffff, so no index is EMPTY */
#define PROBES 32
#define ADDR_SEED 0x3a91ec5b0d7f2c47ull	/* fixed: every worker and run builds alike */

_Static_assert(LB_MAX_BACKENDS < EMPTY, "backend indices must fit a table slot");

struct mg_state {
	uint32_t count;		/* backends in the table */
	uint16_t table[M];
};

/* One backend's progress through its permutation during the build. */
struct perm {
	uint32_t pos, skip;	/* next slot to propose, stride */
	uint32_t weight;
	uint16_t index;
};

/* Backends of equal weight take their turns at the same times, so they take them together,
 * in index order: a group is perms[first .. first + count). */
struct group {
	uint32_t weight, taken;	/* turns taken by each member so far */
	uint32_t first, count;
	uint16_t index;		/* its first member's, for ties */
};

/* Is a's next turn before b's? (2 * taken + 1) / weight compared by cross-multiplying. */
static bool earlier(const struct group *a, const struct group *b)
{
	uint64_t ta = (2 * (uint64_t)a->taken + 1) * b->weight;
	uint64_t tb = (2 * (uint64_t)b->taken + 1) * a->weight;
	return ta != tb ? ta < tb : a->index < b->index;
}

static void sift_down(struct group *heap, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = i;
		if (l < n && earlier(&heap[l], &heap[min]))
			min = l;
		if (r < n && earlier(&heap[r], &heap[min]))
			min = r;
		if (min == i)
			return;
		struct group t = heap[i];
		heap[i] = heap[min];
		heap[min] = t;
		i = min;
	}
}

static int by_weight(const void *a, const void *b)
{
	const struct perm *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The backends with weight > 0, each at the start of its permutation, sorted by weight then
 * index; returns how many. */
static uint32_t perms_init(const struct lb_pool *pool, struct perm *perms)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < pool->n; i++) {
		const struct lb_backend *b = &pool->backends[i];
		if (!b->weight)
			continue;
		uint64_t h = lb_backend_hash(b, ADDR_SEED);
		perms[n++] = (struct perm){
			.pos = (uint32_t)h % M, .skip = (uint32_t)(h >> 32) % (M - 1) + 1,
			.weight = b->weight, .index = (uint16_t)i,
		};
	}
	qsort(perms, n, sizeof(*perms), by_weight);
	return n;
}

/* The groups of n sorted perms, as a heap; returns how many. */
static uint32_t groups_init(const struct perm *perms, uint32_t n, struct group *heap)
{
	uint32_t ng = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (ng && perms[i].weight == heap[ng - 1].weight) {
			heap[ng - 1].count++;
			continue;
		}
		heap[ng++] = (struct group){
			.weight = perms[i].weight, .first = i, .count = 1, .index = perms[i].index,
		};
	}
	for (uint32_t i = ng / 2; i-- > 0;)
		sift_down(heap, ng, i);
	return ng;
}

/* p claims the next free slot of its permutation. */
static void claim(uint16_t *table, struct perm *p)
{
	while (table[p->pos] != EMPTY)
		p->pos = p->pos + p->skip >= M ? p->pos + p->skip - M : p->pos + p->skip;
	table[p->pos] = p->index;
}

/* The group whose turn it is claims a slot for each member, until none is left. */
static void fill(uint16_t *table, struct perm *perms, struct group *heap, uint32_t ng)
{
	memset(table, 0xff, M * sizeof(*table));
	for (uint32_t filled = 0; filled < M; heap[0].taken++, sift_down(heap, ng, 0))
		for (uint32_t i = heap[0].first; i < heap[0].first + heap[0].count; i++) {
			claim(table, &perms[i]);
			if (++filled == M)
				return;
		}
}

static struct lb_state *mg_build(const struct lb_pool *pool)
{
	size_t n = pool->n ? pool->n : 1;
	struct mg_state *st = malloc(sizeof(*st));
	struct perm *perms = malloc(n * sizeof(*perms));
	struct group *heap = malloc(n * sizeof(*heap));
	if (st && perms && heap) {
		st->count = perms_init(pool, perms);
		if (st->count)
			fill(st->table, perms, heap, groups_init(perms, st->count, heap));
	} else {
		free(st);
		st = NULL;
	}
	free(perms);
	free(heap);
	return (struct lb_state *)st;
}

static void mg_free(struct lb_state *state)
{
	free(state);
}

/* Most of the capacity is unusable: the highest rendezvous score among the candidates. */
static struct lb_backend *fallback(struct lb_pool *pool, uint64_t hash, const uint64_t *tried)
{
	struct lb_backend *best = NULL;
	uint64_t best_score = 0;
	for (uint32_t i = 0; i < pool->n; i++) {
		struct lb_backend *b = &pool->backends[i];
		if (!lb_candidate(b, tried))
			continue;
		uint64_t s = lb_mix2(hash, lb_backend_hash(b, ADDR_SEED));
		if (!best || s > best_score) {
			best = b;
			best_score = s;
		}
	}
	return best;
}

static struct lb_backend *mg_pick(struct lb_pool *pool, struct lb_state *state,
				  const struct lb_key *key, const uint64_t *tried)
{
	struct mg_state *st = (struct mg_state *)state;
	if (!st->count)
		return NULL;
	uint32_t slot = (uint32_t)(key->hash % M);
	for (int k = 0; k < PROBES; k++) {
		struct lb_backend *b = &pool->backends[st->table[slot]];
		if (lb_candidate(b, tried))
			return b;
		if (++slot == M)
			slot = 0;
	}
	return fallback(pool, key->hash, tried);
}

struct lb_algo lb_algo_maglev = {
	.name = "maglev-hash",
	.build = mg_build,
	.free = mg_free,
	.pick = mg_pick,
};
