/* breaker.c: a circuit breaker per backend.
 *
 * CLOSED: requests pass; `threshold` failures in a row open it. OPEN: no request passes
 * until cb_until_ns. After that it is HALF_OPEN without anyone having to flip it: `probes`
 * requests may pass (each pick claims one, lb_pick), the first success closes it, a failure
 * opens it again for another open timeout. A probe whose request never concludes (its
 * client left) would hold its claim forever; so when every probe was claimed and another
 * whole open timeout went by with no result, the probes are handed out again.
 *
 * Every field is its own atomic; the state lives in struct lb_backend, shared by the
 * workers and kept across configuration generations. Two workers concluding at the same
 * time may both open it or both close it: the outcome is the same. */
#include <time.h>
#include "priv.h"

uint64_t lb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The half-open backend whose probe this thread's last pick claimed: a routing word picks
 * (next-backend) and the proxy then checks its choice with lb_backend_usable, which must not
 * refuse the probe just claimed for it. lb_pick forgets it before each pick. */
static __thread const struct lb_bstate *claimed;

void lb_breaker_forget(void) { claimed = NULL; }

#define LD(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)
#define ST(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELAXED)

int lb_breaker_state(const struct lb_backend *b, uint64_t now)
{
	if (!LD(b->st->cb_open))
		return LB_CB_CLOSED;
	return now < LD(b->st->cb_until_ns) ? LB_CB_OPEN : LB_CB_HALF_OPEN;
}

/* Half-open with every probe out for a whole open timeout: hand them out again. */
static void rearm_stuck(struct lb_backend *b, uint64_t now)
{
	uint64_t until = LD(b->st->cb_until_ns);
	if (LD(b->st->cb_budget) <= 0 && now >= until + LD(b->st->cb_window_ns) &&
	    __atomic_compare_exchange_n(&b->st->cb_until_ns, &until, now, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		ST(b->st->cb_budget, LD(b->st->cb_probes));
}

bool lb_breaker_passable(const struct lb_backend *b)
{
	if (__builtin_expect(!LD(b->st->cb_open), 1) || claimed == b->st)
		return true;
	uint64_t now = lb_now_ns();
	if (now < LD(b->st->cb_until_ns))
		return false;
	rearm_stuck((struct lb_backend *)b, now);
	return LD(b->st->cb_budget) > 0;
}

bool lb_breaker_claim(struct lb_backend *b)
{
	if (!LD(b->st->cb_open))
		return true;
	if (lb_now_ns() < LD(b->st->cb_until_ns))
		return false;
	int left = LD(b->st->cb_budget);
	while (left > 0)
		if (__atomic_compare_exchange_n(&b->st->cb_budget, &left, left - 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			claimed = b->st;
			return true;
		}
	return false;
}

static void trip(const struct lb_breaker_cfg *c, struct lb_backend *b, uint64_t now)
{
	uint64_t open_ns = c->open_ns ? c->open_ns : 10000000000ull;
	ST(b->st->cb_window_ns, open_ns);
	ST(b->st->cb_probes, (int)(c->probes ? c->probes : 1));
	ST(b->st->cb_budget, (int)(c->probes ? c->probes : 1));
	ST(b->st->cb_until_ns, now + open_ns);
	__atomic_store_n(&b->st->cb_open, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&b->st->cb_opens, 1, __ATOMIC_RELAXED);	/* from closed or half-open */
}

/* A request to b concluded. Defaults when the pool set nothing: 5 failures, 10 s, 1 probe. */
void lb_breaker_result(const struct lb_pool *pool, struct lb_backend *b, bool ok)
{
	const struct lb_breaker_cfg *c = &pool->breaker;
	uint64_t now = lb_now_ns();
	switch (lb_breaker_state(b, now)) {
	case LB_CB_CLOSED:
		if (ok) {
			if (LD(b->st->cb_fails))	/* no store on the common path: no shared write */
				ST(b->st->cb_fails, 0);
		} else if ((uint32_t)__atomic_add_fetch(&b->st->cb_fails, 1, __ATOMIC_RELAXED) >=
			   (c->threshold ? c->threshold : 5)) {
			ST(b->st->cb_fails, 0);
			trip(c, b, now);
		}
		break;
	case LB_CB_HALF_OPEN:
		if (ok)
			ST(b->st->cb_open, 0);
		else
			trip(c, b, now);
		break;
	default:		/* open: a straggler that began before it opened */
		break;
	}
}
