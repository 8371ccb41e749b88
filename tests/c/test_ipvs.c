/* test_ipvs.c: the IPVS netlink client (src/ipvs/ipvs.c) against a real kernel: batches and
 * each change's verdict, batches cut across sends, dumps, keys, timeouts. A kernel without
 * IPVS (this machine's, usually): SKIP. tests/ipvs/run.sh runs it in its qemu guest, where
 * the kernel has IPVS. It flushes the IPVS table: it runs only with IPVS_DIRECT=1 (as the
 * guest sets), a test machine's. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <netinet/in.h>
#include "harness.h"
#include "ipvs/ipvs.h"

static struct ipvs_svc svc4(const char *ip, uint16_t port, const char *sched)
{
	struct ipvs_svc s = { .af = AF_INET, .protocol = IPPROTO_TCP, .port = port,
			      .netmask = 0xffffffff };
	inet_pton(AF_INET, ip, s.addr);
	snprintf(s.sched, sizeof(s.sched), "%s", sched);
	return s;
}

static struct ipvs_dest dest4(const char *ip, uint16_t port, uint32_t weight)
{
	struct ipvs_dest d = { .af = AF_INET, .port = port, .weight = weight };
	inet_pton(AF_INET, ip, d.addr);
	return d;
}

static struct ipvs *fresh(void)
{
	int err = 0;
	struct ipvs *h = ipvs_open(&err);
	CHECK(h != NULL);
	if (!h)
		_exit(1);
	struct ipvs_change c = { .op = IPVS_FLUSH };
	CHECK_INT(ipvs_apply(h, &c, 1), 0);
	return h;
}

static void t_version(void)
{
	struct ipvs *h = fresh();
	uint32_t v, size;
	CHECK_INT(ipvs_version(h, &v, &size), 0);
	CHECK(v >= 0x010200 && size > 0);
	ipvs_close(h);
}

/* One send, mixed changes: each its own verdict, the failed ones change nothing. */
static void t_verdicts(void)
{
	struct ipvs *h = fresh();
	struct ipvs_svc a = svc4("80.80.80.80", 80, "rr"), bad = svc4("80.80.80.81", 80, "nosuch");
	struct ipvs_svc none = svc4("80.80.80.82", 80, "rr");
	struct ipvs_change c[] = {
		{ .op = IPVS_ADD_SVC, .svc = a },
		{ .op = IPVS_ADD_DEST, .svc = a, .dest = dest4("10.0.0.1", 80, 1) },
		{ .op = IPVS_ADD_DEST, .svc = a, .dest = dest4("10.0.0.1", 80, 2) },
		{ .op = IPVS_ADD_SVC, .svc = bad },
		{ .op = IPVS_ADD_DEST, .svc = none, .dest = dest4("10.0.0.1", 80, 1) },
		{ .op = IPVS_EDIT_DEST, .svc = a, .dest = dest4("10.0.0.1", 80, 9) },
		{ .op = IPVS_DEL_DEST, .svc = a, .dest = dest4("10.0.0.2", 80, 0) },
		{ .op = IPVS_ADD_DEST, .svc = a, .dest = dest4("224.0.0.1", 80, 1) },
	};
	uint64_t sends = ipvs_sends(h);
	CHECK_INT(ipvs_apply(h, c, 8), 5);
	CHECK_INT(ipvs_sends(h) - sends, 1);
	int want[] = { 0, 0, -EEXIST, -ENOENT, -ESRCH, 0, -ENOENT, -EINVAL };
	for (int i = 0; i < 8; i++)
		CHECK_INT(c[i].err, want[i]);
	struct ipvs_dest *d;
	CHECK_INT(ipvs_dests(h, &a, &d), 1);
	CHECK_INT(d[0].weight, 9);
	free(d);
	struct ipvs_svc k = bad;
	CHECK_INT(ipvs_get_service(h, &k), -ESRCH);
	k = a;
	CHECK_INT(ipvs_get_service(h, &k), 0);
	CHECK(!strcmp(k.sched, "rr"));
	ipvs_close(h);
}

/* 1,000 changes cut into sends of 64: verdicts still land on the right changes. */
static void t_chunks(void)
{
	struct ipvs *h = fresh();
	struct ipvs_svc a = svc4("80.80.80.80", 80, "wlc");
	enum { N = 1000 };
	static struct ipvs_change c[N + 1];
	c[0] = (struct ipvs_change){ .op = IPVS_ADD_SVC, .svc = a };
	for (int i = 1; i <= N; i++) {
		char ip[32];
		int k = i % 97 == 0 ? i - 1 : i;	/* every 97th repeats the one before */
		snprintf(ip, sizeof(ip), "10.1.%d.%d", k / 256, k % 256);
		c[i] = (struct ipvs_change){ .op = IPVS_ADD_DEST, .svc = a, .dest = dest4(ip, 80, 1) };
	}
	ipvs_set_batch_limit(h, 64);
	uint64_t sends = ipvs_sends(h);
	CHECK_INT(ipvs_apply(h, c, N + 1), N / 97);
	CHECK_INT(ipvs_sends(h) - sends, (N + 1 + 63) / 64);
	for (int i = 1; i <= N; i++)
		CHECK_INT(c[i].err, i % 97 == 0 ? -EEXIST : 0);
	struct ipvs_dest *d;
	CHECK_INT(ipvs_dests(h, &a, &d), N - N / 97);
	free(d);
	ipvs_close(h);
}

/* Every kind of service comes back from a dump with the key it was made with. */
static void t_keys(void)
{
	struct ipvs *h = fresh();
	struct ipvs_svc s[4] = { svc4("10.2.0.1", 53, "rr"), svc4("10.2.0.1", 53, "rr"),
				 { .af = AF_INET, .fwmark = 7, .netmask = 0xffffffff },
				 { .af = AF_INET6, .protocol = IPPROTO_TCP, .port = 443, .netmask = 128 } };
	s[1].protocol = IPPROTO_UDP;
	strcpy(s[2].sched, "sh");
	strcpy(s[3].sched, "mh");
	inet_pton(AF_INET6, "2001:db8::1", s[3].addr);
	struct ipvs_change c[4];
	for (int i = 0; i < 4; i++)
		c[i] = (struct ipvs_change){ .op = IPVS_ADD_SVC, .svc = s[i] };
	CHECK_INT(ipvs_apply(h, c, 4), 0);
	struct ipvs_svc *got;
	int n = ipvs_services(h, &got);
	CHECK_INT(n, 4);
	for (int i = 0; i < 4; i++) {
		int found = 0;
		for (int k = 0; k < n; k++)
			found += ipvs_same_svc(&s[i], &got[k]) && !strcmp(s[i].sched, got[k].sched);
		CHECK_INT(found, 1);
	}
	free(got);
	CHECK(!ipvs_same_svc(&s[0], &s[1]));
	char buf[96];
	CHECK(!strcmp(ipvs_svc_str(&s[1], buf, sizeof(buf)), "UDP  10.2.0.1:53"));
	CHECK(!strcmp(ipvs_svc_str(&s[2], buf, sizeof(buf)), "FWM  7"));
	CHECK(!strcmp(ipvs_svc_str(&s[3], buf, sizeof(buf)), "TCP  [2001:db8::1]:443"));
	ipvs_close(h);
}

static void t_timeouts(void)
{
	struct ipvs *h = fresh();
	uint32_t t[3];
	CHECK_INT(ipvs_set_timeouts(h, 901, 121, 301), 0);
	CHECK_INT(ipvs_timeouts(h, &t[0], &t[1], &t[2]), 0);
	CHECK(t[0] == 901 && t[1] == 121 && t[2] == 301);
	CHECK_INT(ipvs_set_timeouts(h, 900, 120, 300), 0);
	ipvs_close(h);
}

int main(int argc, char **argv)
{
	if (!getenv("IPVS_DIRECT")) {	/* it flushes the table: never on a machine by surprise */
		printf("SKIP: IPVS tests change the kernel's table: tests/ipvs/run.sh runs this in "
		       "a guest (IPVS_DIRECT=1 runs it here)\n");
		printf("0 passed, 0 failed\n");
		return 0;
	}
	int err = 0;
	struct ipvs *h = ipvs_open(&err);
	if (!h) {
		printf("SKIP: no IPVS here (%s): tests/ipvs/run.sh runs this in a guest\n",
		       strerror(-err));
		printf("0 passed, 0 failed\n");
		return 0;
	}
	ipvs_close(h);
	static const struct test tests[] = {
		T(t_version, 10), T(t_verdicts, 10), T(t_chunks, 60), T(t_keys, 10), T(t_timeouts, 10),
	};
	return run_tests(tests, sizeof(tests) / sizeof(*tests), argc > 1 ? argv[1] : NULL) != 0;
}
