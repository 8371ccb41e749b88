/* ratelimit.c: token buckets per client address, shared by every worker.
 *
 * A client may land on any worker (SO_REUSEPORT), so its bucket must be one for the whole
 * process. The table is set-associative: an address hashes to a set of 8 buckets; the set
 * has its own spinlock (held for a scan of 8 entries, some 20 ns), so there is no global
 * lock and two workers contend only when their clients share a set.
 *
 * A bucket is one timestamp, as in GCRA: `full_at`, when the bucket will be full again. At
 * time now it holds burst - (full_at - now) / T tokens (T = 1 s / rate), and taking n moves
 * full_at to max(full_at, now) + n * T. That is the token bucket exactly, in nanoseconds,
 * with nothing lost to rounding between refills. full_at also orders the clients by how
 * recently they were let through: a new client takes an empty bucket of its set, else the
 * one with the oldest full_at (least recently used), so the memory is fixed: 16 bytes per
 * client and a 4-byte lock per 8 clients. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

#define WAYS 8

struct bucket {
	uint32_t ip;
	uint64_t full_at;	/* monotonic ns; 0: an empty entry */
};

struct px_ratelimit {
	int refs;		/* [atomic] the generations sharing it */
	uint32_t nsets;		/* a power of two */
	uint32_t rate, burst;	/* tokens per second; bucket size */
	uint64_t t_ns;		/* the time one token takes to come back */
	uint32_t *locks;
	struct bucket (*sets)[WAYS];
};

struct px_ratelimit *px_rl_new(uint32_t clients, uint32_t rate, uint32_t burst)
{
	struct px_ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->refs = 1;
	rl->nsets = 1;
	while (rl->nsets * WAYS < clients)
		rl->nsets *= 2;
	rl->rate = rate;
	rl->burst = burst;
	rl->t_ns = 1000000000u / rate;
	rl->locks = calloc(rl->nsets, sizeof(*rl->locks));
	rl->sets = aligned_alloc(64, (size_t)rl->nsets * sizeof(*rl->sets));
	if (!rl->locks || !rl->sets) {
		px_rl_free(rl);
		return NULL;
	}
	memset(rl->sets, 0, (size_t)rl->nsets * sizeof(*rl->sets));
	return rl;
}

struct px_ratelimit *px_rl_share(struct px_ratelimit *rl, uint32_t clients, uint32_t rate,
				 uint32_t burst)
{
	uint32_t nsets = 1;
	while (nsets * WAYS < clients)
		nsets *= 2;
	if (!rl || rl->rate != rate || rl->burst != burst || rl->nsets != nsets)
		return NULL;
	__atomic_add_fetch(&rl->refs, 1, __ATOMIC_RELAXED);
	return rl;
}

void px_rl_free(struct px_ratelimit *rl)
{
	if (!rl || __atomic_sub_fetch(&rl->refs, 1, __ATOMIC_ACQ_REL) > 0)
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

/* ip's bucket in its set (locked by the caller); made, full, if new. */
static struct bucket *find(struct bucket *set, uint32_t ip, uint64_t now)
{
	struct bucket *victim = &set[0];
	for (int i = 0; i < WAYS; i++) {
		if (set[i].full_at && set[i].ip == ip)
			return &set[i];
		if (set[i].full_at < victim->full_at)
			victim = &set[i];	/* empty (0) or least recently used */
	}
	*victim = (struct bucket){ ip, now ? now : 1 };
	return victim;
}

/* Thousandths of a token in the bucket at now (rounded down). */
static int64_t milli(const struct px_ratelimit *rl, const struct bucket *b, uint64_t now)
{
	uint64_t owed = b->full_at > now ? b->full_at - now : 0;
	return (int64_t)rl->burst * 1000 - (int64_t)((owed * 1000 + rl->t_ns - 1) / rl->t_ns);
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
	int64_t m = milli(rl, find(rl->sets[s], ip, now), now);
	unlock(&rl->locks[s]);
	return m;
}

bool px_rl_take(struct px_ratelimit *rl, uint32_t ip, uint64_t m, bool force, uint64_t now)
{
	uint32_t s = set_of(rl, ip);
	lock(&rl->locks[s]);
	struct bucket *b = find(rl->sets[s], ip, now);
	uint64_t from = b->full_at > now ? b->full_at : now;
	uint64_t cost = m * rl->t_ns / 1000, room = (uint64_t)rl->burst * rl->t_ns;
	bool ok = from + cost - now <= room;
	if (ok)
		b->full_at = from + cost;
	else if (force)
		b->full_at = now + room;	/* empty, not below */
	unlock(&rl->locks[s]);
	return ok;
}
