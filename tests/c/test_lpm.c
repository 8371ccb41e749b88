/* test_lpm.c: the longest-prefix-match table (src/lb/lpm.c) against a brute-force reference
 * on random prefixes, at every depth of the DIR-16-8-8 layout. */
#include <stdlib.h>
#include <afd/lpm.h>
#include "harness.h"

struct ref { uint32_t addr, value; int len; };

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t mask(int len) { return len ? ~0u << (32 - len) : 0; }

/* The reference: the longest covering prefix, the latest added among equal ones. */
static uint32_t brute(const struct ref *r, int n, uint32_t ip)
{
	int best = -1;
	for (int i = 0; i < n; i++)
		if ((ip & mask(r[i].len)) == r[i].addr && (best < 0 || r[i].len >= r[best].len))
			best = i;
	return best < 0 ? LB_LPM_NONE : r[best].value;
}

/* n random prefixes clustered under a few /8s so that they nest and overlap. */
static void random_case(int n, int minlen)
{
	struct ref *r = calloc((size_t)n, sizeof(*r));
	struct lb_lpm *b = lb_lpm_new();
	for (int i = 0; i < n; i++) {
		int len = minlen + (int)(next() % (uint64_t)(33 - minlen));
		uint32_t addr = (uint32_t)next();
		addr = (addr & 0x00ffffff) | (uint32_t)(10 + next() % 3) << 24;
		if (next() % 4 == 0)	/* nest in an earlier prefix */
			addr = r[next() % (uint64_t)(i ? i : 1)].addr | (addr & ~mask(len) & 0xff);
		r[i] = (struct ref){ addr & mask(len), (uint32_t)(next() % 1000), len };
		CHECK_INT(lb_lpm_add(b, addr, len, r[i].value), 0);
	}
	struct lb_lpm_table *t = lb_lpm_compile(b);
	CHECK(t != NULL);
	for (int k = 0; k < 200000 && t; k++) {
		uint32_t ip = k % 2 ? r[next() % (uint64_t)n].addr + (uint32_t)(next() % 300) :
				      (uint32_t)next();
		uint32_t want = brute(r, n, ip), got = lb_lpm_find(t, ip);
		if (got != want) {
			CHECK_INT(got, want);
			break;
		}
	}
	lb_lpm_table_free(t);
	lb_lpm_free(b);
	free(r);
}

static void test_random_small(void) { random_case(50, 0); }
static void test_random_deep(void) { random_case(3000, 16); }
static void test_random_mixed(void) { random_case(2000, 1); }

static void test_edges(void)
{
	struct lb_lpm *b = lb_lpm_new();
	struct lb_lpm_table *t = lb_lpm_compile(b);
	CHECK_INT(lb_lpm_find(t, 0x01020304), LB_LPM_NONE);	/* empty */
	lb_lpm_table_free(t);
	CHECK_INT(lb_lpm_add(b, 0, 0, 7), 0);			/* default route */
	CHECK_INT(lb_lpm_add(b, 0xffffffff, 32, 9), 0);
	CHECK_INT(lb_lpm_add(b, 0x0a000000, 8, 1), 0);
	CHECK_INT(lb_lpm_add(b, 0x0a000000, 8, 2), 0);		/* again: the later wins */
	CHECK_INT(lb_lpm_add(b, 0x0a0000ff, 33, 2), -EINVAL);
	CHECK_INT(lb_lpm_add(b, 0, 8, LB_LPM_VALUE_MAX + 1), -EINVAL);
	t = lb_lpm_compile(b);
	CHECK_INT(lb_lpm_find(t, 0x0b000000), 7);
	CHECK_INT(lb_lpm_find(t, 0xffffffff), 9);
	CHECK_INT(lb_lpm_find(t, 0xfffffffe), 7);
	CHECK_INT(lb_lpm_find(t, 0x0a123456), 2);
	lb_lpm_table_free(t);
	struct lb_lpm *aside = lb_lpm_new();		/* a loader's transaction */
	CHECK_INT(lb_lpm_add(aside, 0x0a010000, 16, 5), 0);
	CHECK_INT(lb_lpm_append(b, aside), 0);
	CHECK_INT(lb_lpm_count(aside), 0);
	t = lb_lpm_compile(b);
	CHECK_INT(lb_lpm_find(t, 0x0a010203), 5);
	CHECK_INT(lb_lpm_find(t, 0x0a020203), 2);
	lb_lpm_table_free(t);
	lb_lpm_free(aside);
	lb_lpm_free(b);
}

static const struct test tests[] = {
	T(test_edges, 10),
	T(test_random_small, 30),
	T(test_random_deep, 60),
	T(test_random_mixed, 60),
};

int main(int argc, char **argv)
{
	return run_tests(tests, sizeof(tests) / sizeof(*tests), argc > 1 ? argv[1] : NULL) ? 1 : 0;
}
