/* ratelimit.c: token buckets per client address, shared by every worker.
 *
 * A client may land on any worker (SO_REUSEPORT), so its bucket must be one for the whole
 * process. The table is set-associative: an address hashes to a set of 8 buckets; the set
 * has its own spinlock (held for a scan of 8 entries, about 20 ns), so there is no global
 * lock and two workers contend only when their clients share a set. A new client takes an
 * empty bucket of its set, else the one used least recently (LRU within the set), so the
 * memory is fixed: 16 bytes per client and a 4-byte lock per 8 clients.
 *
 * Tokens are kept in thousandths, so a rate of 3/s refills smoothly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

#define WAYS 8

struct bucket {
	uint32_t ip;
	uint32_t milli;		/* tokens * 1000 */
	uint64_t stamp;		/* last refill (monotonic ns); 0: empty */
};

struct px_ratelimit {
	uint32_t nsets;		/* a power of two */
	uint32_t rate, burst;	/* tokens per second; bucket size */
	uint32_t *locks;
	struct bucket (*sets)[WAYS];
};

struct px_ratelimit *px_rl_new(uint32_t clients, uint32_t rate, uint32_t burst)
{
	struct px_ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->nsets = 1;
	while (rl->nsets * WAYS < clients)
		rl->nsets *= 2;
	rl->rate = rate;
	rl->burst = burst;
	rl->locks = calloc(rl->nsets, sizeof(*rl->locks));
	rl->sets = aligned_alloc(64, (size_t)rl->nsets * sizeof(*rl->sets));
	if (!rl->locks || !rl->sets) {
		px_rl_free(rl);
		return NULL;
	}
	memset(rl->sets, 0, (size_t)rl->nsets * sizeof(*rl->sets));
	return rl;
}

void px_rl_free(struct px_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->locks);
	free(rl->sets);
	free(rl);
}

size_t px_rl_bytes(const struct px_ratelimit *rl)
{
	return (size_t)rl->nsets * (sizeof(*rl->sets) + sizeof(*rl->locks));
}

uint32_t px_rl_capacity(const struct px_ratelimit *rl) { return rl->nsets * WAYS; }

static void lock(uint32_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#else
			;
#endif
}

static void unlock(uint32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* ip's bucket in its set (locked by the caller), refilled to now; made if new. */
static struct bucket *find(struct px_ratelimit *rl, struct bucket *set, uint32_t ip, uint64_t now)
{
	struct bucket *b = NULL, *victim = &set[0];
	for (int i = 0; i < WAYS && !b; i++) {
		if (set[i].stamp && set[i].ip == ip)
			b = &set[i];
		else if (set[i].stamp < victim->stamp)
			victim = &set[i];	/* empty (0) or least recently used */
	}
	if (!b) {
		*victim = (struct bucket){ ip, rl->burst * 1000u, now ? now : 1 };
		return victim;
	}
	uint64_t dt = now > b->stamp ? now - b->stamp : 0;
	uint64_t max = (uint64_t)rl->burst * 1000u;
	uint64_t add = dt >= 1000000000000ull ? max : dt * rl->rate / 1000000u;
	if (add) {		/* a fraction of a thousandth waits for the next refill */
		b->milli = (uint32_t)(b->milli + add > max ? max : b->milli + add);
		b->stamp = now;
	}
	return b;
}

static uint32_t set_of(const struct px_ratelimit *rl, uint32_t ip)
{
	uint64_t h = ip * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (rl->nsets - 1);
}

int64_t px_rl_tokens(struct px_ratelimit *rl, uint32_t ip, uint64_t now)
{
	uint32_t s = set_of(rl, ip);
	lock(&rl->locks[s]);
	int64_t milli = find(rl, rl->sets[s], ip, now)->milli;
	unlock(&rl->locks[s]);
	return milli;
}

bool px_rl_take(struct px_ratelimit *rl, uint32_t ip, uint64_t milli, bool force, uint64_t now)
{
	uint32_t s = set_of(rl, ip);
	lock(&rl->locks[s]);
	struct bucket *b = find(rl, rl->sets[s], ip, now);
	bool ok = b->milli >= milli;
	if (ok)
		b->milli -= (uint32_t)milli;
	else if (force)
		b->milli = 0;
	unlock(&rl->locks[s]);
	return ok;
}
