/* policy.h: the proxy's policies: per-client rate limits, access lists, geo tables, circuit
 * breakers (the state is in struct lb_backend, src/lb/breaker.c) and a blocking HTTP client
 * for scripts (backend-send).
 *
 * One struct px_policy per configuration (cfg->policy), made by the first policy word in the
 * main VM. Workers only read it, except the rate-limit table, whose sets each have their own
 * lock, and the counters, which are atomic. */
#ifndef AFD_PX_POLICY_H
#define AFD_PX_POLICY_H

#include <pthread.h>
#include <afd/lpm.h>
#include "px.h"

/* Listener settings (px_listener_cfg.policy) */
#define PX_POLICY_RATE 1		/* requests over a client's rate: 429 */
#define PX_POLICY_DENY 2		/* blacklisted clients: 403 */
#define PX_POLICY_DROP 4		/* blacklisted clients: closed at accept */

/* A prefix set compiled on first use after a change (geo.c). Changes come only from the main
 * VM while no worker runs (the configuration is being built); lookups from any thread. */
struct px_lpmset {
	struct lb_lpm *b;
	struct lb_lpm_table *t;
	int dirty;
	pthread_mutex_t lock;
};

/* The token buckets (ratelimit.c). */
struct px_ratelimit;
struct px_ratelimit *px_rl_new(uint32_t clients, uint32_t rate, uint32_t burst);
void px_rl_free(struct px_ratelimit *rl);	/* drops a reference */
/* The same table for a new generation if it has the same settings (a reference), else NULL:
 * a reload keeps every client's bucket. */
struct px_ratelimit *px_rl_share(struct px_ratelimit *rl, uint32_t clients, uint32_t rate,
				 uint32_t burst);
/* Tokens (in thousandths) in ip's bucket now; the bucket is made, full, if new. */
int64_t px_rl_tokens(struct px_ratelimit *rl, uint32_t ip, uint64_t now);
/* Take milli thousandths: all or nothing (false: not enough), or, with force, as many as
 * there are. */
bool px_rl_take(struct px_ratelimit *rl, uint32_t ip, uint64_t milli, bool force, uint64_t now);
size_t px_rl_bytes(const struct px_ratelimit *rl);
uint32_t px_rl_capacity(const struct px_ratelimit *rl);

#define PX_OBJS 16
struct px_obj {			/* a request, response or error of the script words (fetch.c) */
	int kind;
	uint32_t gen;
	int status;
	char *text;
	size_t len;
};

struct px_polstats {
	int refs;			/* [atomic] the generations sharing them */
	uint64_t rejected, denied, dropped;	/* [atomic] 429s, 403s, accepts closed */
};

#define PX_MMDB_PATH_MAX 8
struct px_policy {
	struct px_lpmset geo, deny;
	char **regions;			/* geo values index it */
	int nregions, capregions;
	int *rhash;			/* region indices by name hash, -1 empty */
	uint32_t rhcap;
	void *mmdb;			/* MMDB_s, or NULL */
	char mmdb_field[128];		/* "country/iso_code" */
	struct px_ratelimit *rl;
	uint32_t rl_clients, rate, burst;
	struct px_polstats *stats;	/* shared by successive generations */
	pthread_mutex_t objlock;
	struct px_obj objs[PX_OBJS];
	uint32_t objgen;
};

/* The policies of the configuration a VM works on, made if needed (NULL: no memory); a
 * reload's new ones count on where the running ones' counters are. */
struct px_policy *px_policy_get(struct px_vmctx *x);
/* px_policy_free, the hooks and px_policy_metrics are declared in px.h. */

/* geo.c */
int px_lpmset_init(struct px_lpmset *s);
void px_lpmset_fini(struct px_lpmset *s);
uint32_t px_lpmset_find(struct px_lpmset *s, uint32_t ip);
/* Parse a prefix file: "CIDR [NAME]" lines, '#' comments. Calls add for each; stops at the
 * first error, giving its line in *line and a message in *why. 0 or -EINVAL or add's error. */
int px_prefix_parse(const char *text, size_t len, bool want_name,
		    int (*add)(void *arg, uint32_t addr, int plen, const char *name, size_t n),
		    void *arg, int *line, const char **why);
int px_register_geo_words(afd_vm *vm, struct px_vmctx *ctx);
void px_geo_close(struct px_policy *pol);

/* fetch.c: backend-send and the objects it works on */
int px_register_fetch_words(afd_vm *vm, struct px_vmctx *ctx);

/* policy.c */
int px_register_policy_words(afd_vm *vm, struct px_vmctx *ctx);

#endif
