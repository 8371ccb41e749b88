/* test_policy.c: the token buckets (src/px/ratelimit.c) and the circuit breaker
 * (src/lb/breaker.c, and how lb_pick honours it). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "px/policy.h"
#include "harness.h"

#define SEC 1000000000ull

static void test_bucket_refill(void)
{
	struct px_ratelimit *rl = px_rl_new(64, 10, 5);	/* 10 a second, 5 at once */
	uint64_t t = 5 * SEC;
	CHECK_INT(px_rl_tokens(rl, 42, t), 5000);
	CHECK(px_rl_take(rl, 42, 5000, false, t));
	CHECK(!px_rl_take(rl, 42, 1000, false, t));
	CHECK_INT(px_rl_tokens(rl, 43, t), 5000);		/* another client */
	CHECK_INT(px_rl_tokens(rl, 42, t + SEC / 10), 1000);	/* 0.1 s: one token */
	CHECK_INT(px_rl_tokens(rl, 42, t + SEC / 10 + SEC / 20), 1500);
	CHECK_INT(px_rl_tokens(rl, 42, t + 100 * SEC), 5000);	/* never above the burst */
	CHECK(!px_rl_take(rl, 42, 9000, false, t + 100 * SEC));	/* all or nothing */
	CHECK_INT(px_rl_tokens(rl, 42, t + 100 * SEC), 5000);
	CHECK(!px_rl_take(rl, 42, 9000, true, t + 100 * SEC));	/* forced: takes what is there */
	CHECK_INT(px_rl_tokens(rl, 42, t + 100 * SEC), 0);
	CHECK(px_rl_bytes(rl) / px_rl_capacity(rl) <= 17);
	px_rl_free(rl);
}

static void test_bucket_evicts_lru(void)
{
	struct px_ratelimit *rl = px_rl_new(8, 1, 3);	/* one set of 8 */
	CHECK_INT(px_rl_capacity(rl), 8);
	for (uint32_t ip = 1; ip <= 8; ip++)
		CHECK(px_rl_take(rl, ip, 3000, false, SEC + ip));	/* all emptied */
	CHECK_INT(px_rl_tokens(rl, 2, SEC + 100), 0);		/* still known */
	CHECK_INT(px_rl_tokens(rl, 9, SEC + 200), 3000);	/* new: evicts ip 1, the oldest */
	CHECK_INT(px_rl_tokens(rl, 3, SEC + 300), 0);
	CHECK_INT(px_rl_tokens(rl, 1, SEC + 400), 3000);	/* forgotten: a full bucket */
	px_rl_free(rl);
}

struct hammer {
	struct px_ratelimit *rl;
	int granted;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < 20000; i++) {
		if (px_rl_take(h->rl, 7, 1000, false, SEC))	/* the same instant: no refill */
			h->granted++;
		px_rl_tokens(h->rl, (uint32_t)i, SEC);		/* other clients in between */
	}
	return NULL;
}

/* The limit holds across threads (workers): exactly the burst is granted, no more. */
static void test_bucket_threads(void)
{
	struct px_ratelimit *rl = px_rl_new(1 << 16, 1, 500);
	struct hammer h[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ rl, 0 };
		pthread_create(&th[i], NULL, hammer, &h[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += h[i].granted;
	}
	CHECK_INT(total, 500);
	px_rl_free(rl);
}

static void test_breaker_states(void)
{
	struct lb_pool *p = lb_pool_new("cb", lb_algo_find("round-robin"));
	lb_pool_add(p, 0x7f000001, 1, 1);
	lb_pool_add(p, 0x7f000001, 2, 1);
	p->breaker = (struct lb_breaker_cfg){ true, false, 2, 1, 20 * 1000000ull };
	struct lb_backend *b = &p->backends[0];
	lb_breaker_result(p, b, false);
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_CLOSED);
	lb_breaker_result(p, b, true);			/* a success resets the count */
	lb_breaker_result(p, b, false);
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_CLOSED);
	lb_breaker_result(p, b, false);
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_OPEN);
	CHECK(!lb_backend_usable(b));
	struct lb_picker pk;
	lb_picker_init(&pk, p);
	for (int i = 0; i < 10; i++)			/* the pickers skip it */
		CHECK_INT(lb_pick(&pk, NULL, NULL)->index, 1);
	nanosleep(&(struct timespec){ 0, 30 * 1000000 }, NULL);
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_HALF_OPEN);
	int probes = 0;
	for (int i = 0; i < 10; i++)			/* one probe, then skipped again */
		probes += lb_pick(&pk, NULL, NULL)->index == 0;
	CHECK_INT(probes, 1);
	lb_breaker_result(p, b, false);			/* the probe failed: open again */
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_OPEN);
	CHECK_INT(b->st->cb_opens, 2);
	nanosleep(&(struct timespec){ 0, 30 * 1000000 }, NULL);
	CHECK(lb_pick(&pk, NULL, NULL) != NULL);
	lb_breaker_result(p, b, true);			/* a probe succeeded: closed */
	CHECK_INT(lb_breaker_state(b, lb_now_ns()), LB_CB_CLOSED);
	CHECK(lb_backend_usable(b));
	lb_picker_fini(&pk);
	lb_pool_free(p);
}

/* A probe that never concludes does not keep the backend out for ever. */
static void test_breaker_stuck_probe(void)
{
	struct lb_pool *p = lb_pool_new("cb", lb_algo_find("round-robin"));
	lb_pool_add(p, 0x7f000001, 1, 1);
	p->breaker = (struct lb_breaker_cfg){ true, false, 1, 1, 10 * 1000000ull };
	struct lb_backend *b = &p->backends[0];
	lb_breaker_result(p, b, false);
	nanosleep(&(struct timespec){ 0, 15 * 1000000 }, NULL);
	CHECK(lb_breaker_claim(b));			/* the probe, lost */
	CHECK(lb_backend_usable(b));			/* to the pick that claimed it */
	lb_breaker_forget();				/* (the next pick forgets it) */
	CHECK(!lb_backend_usable(b));
	nanosleep(&(struct timespec){ 0, 15 * 1000000 }, NULL);
	CHECK(lb_backend_usable(b));			/* handed out again */
	lb_pool_free(p);
}

static const struct test tests[] = {
	T(test_bucket_refill, 10),
	T(test_bucket_evicts_lru, 10),
	T(test_bucket_threads, 30),
	T(test_breaker_states, 10),
	T(test_breaker_stuck_probe, 10),
};

int main(int argc, char **argv)
{
	return run_tests(tests, sizeof(tests) / sizeof(*tests), argc > 1 ? argv[1] : NULL) ? 1 : 0;
}
