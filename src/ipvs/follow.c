/* follow.c: IPVS weights that follow the proxy's health checks.
 *
 * `svc "web" ipvs-follow-health` ties a service to a pool of the proxy: when a backend of
 * the pool goes down (its checks fail), the service's destination of the same address and
 * port gets weight 0 and drains (its connections finish, no new ones); when it comes back
 * up, its weight is again the one the configuration declared (or the backend's). The proxy
 * tells of each change once (px_health_set); the change goes to the kernel at once. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "priv.h"
#include "words.h"

#define POOL_MAX 64

struct follow {
	char pool[POOL_MAX];
	struct ipvs_svc svc;
};

static struct follow *rules;
static int nrules, caprules;

/* The weight the configuration gave this destination, else the backend's. */
static uint32_t declared_weight(const struct ipvs_svc *svc, const struct ipvs_dest *d,
				uint32_t backend_weight)
{
	int i = ipvs_decl_find(S.ddest, S.nddest, svc, d);
	return i >= 0 ? S.ddest[i].d.weight : backend_weight;
}

static void set_weight(const struct ipvs_svc *svc, struct ipvs_dest key, uint32_t weight,
		       bool up)
{
	struct ipvs *h = S.h;
	struct ipvs_dest *d;
	char a[96], b[64];
	int err = 0;
	if (!h && !(h = S.h = ipvs_open(&err)))
		return;
	int n = ipvs_dests(h, svc, &d);
	for (int i = 0; i < n; i++) {
		if (!ipvs_same_dest(&d[i], &key))
			continue;
		struct ipvs_change c = { .op = IPVS_EDIT_DEST, .svc = *svc, .dest = d[i] };
		c.dest.weight = up ? declared_weight(svc, &d[i], weight) : 0;
		int failed = ipvs_apply(h, &c, 1);
		fprintf(stderr, "afd: ipvs: %s -> %s weight %u (backend %s)%s%s\n",
			ipvs_svc_str(svc, a, sizeof(a)),
			ipvs_addr_str(key.af, key.addr, key.port, b, sizeof(b)), c.dest.weight,
			up ? "UP" : "DOWN", failed ? ": " : "",
			failed ? ipvs_strerror(c.op, failed < 0 ? failed : c.err) : "");
	}
	if (n > 0)
		free(d);
}

void ipvs_health_changed(const char *pool, uint32_t ip, uint16_t port, uint32_t weight,
			 bool up)
{
	pthread_mutex_lock(&S.lock);
	struct ipvs_dest key = { .af = AF_INET, .port = port };
	uint32_t be = htonl(ip);
	memcpy(key.addr, &be, 4);
	for (int i = 0; i < nrules; i++)
		if (!strcmp(rules[i].pool, pool))
			set_weight(&rules[i].svc, key, weight, up);
	pthread_mutex_unlock(&S.lock);
}

/* ipvs-follow-health ( svc c-addr u -- ) the service's destinations follow the health of the
 * proxy's pool of that name */
int ipvs_w_follow_health(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	afd_cell hd;
	int err = afd_pop_string(vm, &s, &n);
	if (err || (err = afd_pop(vm, &hd)))
		return err;
	const struct ipvs_svc *svc = ipvs_spec_svc(hd);
	if (!svc)
		return -12;
	if (n == 0 || n >= POOL_MAX || memchr(s, 0, n))
		return ipvs_fail(vm, -24, "pool name of 1..%d characters", POOL_MAX - 1);
	if (ctx)
		return 0;	/* a replay: the main VM declared it */
	for (int i = 0; i < nrules; i++)
		if (ipvs_same_svc(&rules[i].svc, svc) && strlen(rules[i].pool) == n &&
		    !memcmp(rules[i].pool, s, n))
			return 0;
	if (ipvs_grow((void **)&rules, &caprules, nrules, sizeof(*rules)))
		return -8;
	struct follow *f = &rules[nrules++];
	memcpy(f->pool, s, n);
	f->pool[n] = 0;
	f->svc = *svc;
	return 0;
}
