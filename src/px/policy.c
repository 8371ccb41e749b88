/* policy.c: the policies' words and their hooks in the data path.
 *
 * Rate limits: one token bucket per client address (ratelimit.c), `rate burst rate-limit`;
 * used from a routing word (rate-limit-bucket-get, bucket-tokens@, bucket-consume) or by a
 * listener on its own (rate-limit-requests: 429 with Retry-After). Access lists (geo.c):
 * blacklist-check, or by a listener on its own (blacklist-reject: 403; blacklist-close: the
 * connection is closed at accept, before a byte is read). Circuit breakers (src/lb/
 * breaker.c): their state is in each struct lb_backend; failed requests of the data path
 * drive them once the pool sets circuit-breaker-threshold, and Forth can drive them too. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "policy.h"

#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)
#define MS 1000000ull
#define BUCKET_TAG ((afd_cell)0x424b54 << 40)	/* "BKT" | ip */

static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;

/* The counters of the generation before, or new ones. */
static struct px_polstats *stats_from(const struct px_config *prev)
{
	struct px_polstats *s = prev && prev->policy ? prev->policy->stats : NULL;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	else if ((s = calloc(1, sizeof(*s))))
		s->refs = 1;
	return s;
}

/* Made once per configuration, by whichever thread asks first. */
struct px_policy *px_policy_get(struct px_vmctx *x)
{
	struct px_config *cfg = x->cfg;
	struct px_policy *p = __atomic_load_n(&cfg->policy, __ATOMIC_ACQUIRE);
	if (p)
		return p;
	pthread_mutex_lock(&make_lock);
	if (!(p = cfg->policy) && (p = calloc(1, sizeof(*p)))) {
		pthread_mutex_init(&p->objlock, NULL);
		strcpy(p->mmdb_field, "country/iso_code");
		p->rl_clients = 65536;
		p->stats = stats_from(x->w ? NULL : x->prev);
		if (!p->stats || px_lpmset_init(&p->geo) < 0 || px_lpmset_init(&p->deny) < 0) {
			px_policy_free(p);
			p = NULL;
		} else {
			__atomic_store_n(&cfg->policy, p, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&make_lock);
	return p;
}

void px_policy_free(struct px_policy *p)
{
	if (!p)
		return;
	px_lpmset_fini(&p->geo);
	px_lpmset_fini(&p->deny);
	px_geo_close(p);
	px_rl_free(p->rl);
	if (p->stats && __atomic_sub_fetch(&p->stats->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(p->stats);
	for (int i = 0; i < PX_OBJS; i++)
		free(p->objs[i].text);
	pthread_mutex_destroy(&p->objlock);
	free(p);
}

/* ---- hooks of the data path ---- */
static bool listed(struct px_policy *pol, uint32_t ip)
{
	return px_lpmset_find(&pol->deny, ip) != LB_LPM_NONE;
}

/* A TCP listener has no request to answer: its access list closes at accept, and its rate
 * limit counts connections. */
bool px_policy_accept(struct px_config *cfg, const struct px_listener_cfg *l, uint32_t ip)
{
	struct px_policy *pol = cfg->policy;
	bool tcp = l->mode == PX_TCP;
	if (!l->policy || !pol)
		return false;
	if ((l->policy & (tcp ? PX_POLICY_DROP | PX_POLICY_DENY : PX_POLICY_DROP)) &&
	    listed(pol, ip)) {
		__atomic_fetch_add(&pol->stats->dropped, 1, __ATOMIC_RELAXED);
		return true;
	}
	if (tcp && (l->policy & PX_POLICY_RATE) && pol->rl &&
	    !px_rl_take(pol->rl, ip, 1000, false, lb_now_ns())) {
		__atomic_fetch_add(&pol->stats->rejected, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

int px_policy_request(struct px_config *cfg, const struct px_listener_cfg *l, uint32_t ip,
		      uint64_t now)
{
	struct px_policy *pol = cfg->policy;
	if (!l->policy || !pol)
		return 0;
	if ((l->policy & PX_POLICY_DENY) && listed(pol, ip)) {
		__atomic_fetch_add(&pol->stats->denied, 1, __ATOMIC_RELAXED);
		return 403;
	}
	if ((l->policy & PX_POLICY_RATE) && pol->rl &&
	    !px_rl_take(pol->rl, ip, 1000, false, now)) {
		__atomic_fetch_add(&pol->stats->rejected, 1, __ATOMIC_RELAXED);
		return 429;
	}
	return 0;
}

void px_policy_backend_result(struct px_config *cfg, int pool, int backend, int status)
{
	if (pool < 0 || backend < 0 || pool >= cfg->npools)
		return;
	struct lb_pool *p = cfg->pools[pool];
	if (!p->breaker.on || (uint32_t)backend >= p->n)
		return;
	bool ok = status > 0 && (status < 500 || !p->breaker.count_5xx);
	struct lb_backend *b = &p->backends[backend];
	uint64_t opens = __atomic_load_n(&b->st->cb_opens, __ATOMIC_RELAXED);
	int was = __atomic_load_n(&b->st->cb_open, __ATOMIC_RELAXED);
	lb_breaker_result(p, b, ok);
	bool opened = __atomic_load_n(&b->st->cb_opens, __ATOMIC_RELAXED) != opens;
	if (opened || (was && !__atomic_load_n(&b->st->cb_open, __ATOMIC_RELAXED)))
		px_log_event(opened ? PX_LOG_WARN : PX_LOG_INFO,
			     "backend %s/%u.%u.%u.%u:%u circuit breaker %s", p->name, b->ip >> 24,
			     (b->ip >> 16) & 255, (b->ip >> 8) & 255, b->ip & 255, b->port,
			     opened ? (was ? "open again (a half-open probe failed)" : "open") :
				      "closed");
}

/* ---- metrics ---- */
struct mtext {
	char *s;
	size_t n, cap;
	bool oom;
};

static void mput(struct mtext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mput(struct mtext *t, const char *fmt, ...)
{
	va_list ap;
	for (int round = 0; round < 2 && !t->oom; round++) {
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0 || (t->s && (size_t)k < t->cap - t->n)) {
			t->n += k > 0 ? (size_t)k : 0;
			return;
		}
		size_t cap = (t->cap + (size_t)k + 1) * 2;
		char *s = realloc(t->s, cap);
		if (!s)
			t->oom = true;
		else
			t->s = s, t->cap = cap;
	}
}

static void mlabel(struct mtext *t, const char *v)	/* a label value, escaped */
{
	for (; *v; v++)
		mput(t, *v == '"' ? "\\\"" : *v == '\\' ? "\\\\" : *v == '\n' ? "\\n" : "%c", *v);
}

static bool dup_address(const struct lb_pool *p, uint32_t i)
{
	for (uint32_t k = 0; k < i; k++)
		if (p->backends[k].ip == p->backends[i].ip && p->backends[k].port == p->backends[i].port)
			return true;
	return false;
}

static void breaker_family(struct mtext *t, struct px_config *cfg, bool opens)
{
	uint64_t now = lb_now_ns();
	for (int p = 0; p < cfg->npools; p++) {
		const struct lb_pool *pool = cfg->pools[p];
		for (uint32_t i = 0; i < pool->n; i++) {
			const struct lb_backend *b = &pool->backends[i];
			if (dup_address(pool, i))
				continue;
			mput(t, "%s{pool=\"", opens ? "afd_backend_circuit_opens_total" :
					      "afd_backend_circuit_state");
			mlabel(t, pool->name);
			mput(t, "\",backend=\"%u.%u.%u.%u:%u\"} %llu\n", b->ip >> 24, (b->ip >> 16) & 255,
			     (b->ip >> 8) & 255, b->ip & 255, b->port, opens ?
			     (unsigned long long)__atomic_load_n(&b->st->cb_opens, __ATOMIC_RELAXED) :
			     (unsigned long long)lb_breaker_state(b, now));
		}
	}
}

char *px_policy_metrics(struct px_config *cfg)
{
	struct px_policy *pol = cfg->policy;
	struct mtext t = { 0 };
	mput(&t, "# HELP afd_backend_circuit_state Circuit breaker: 0 closed, 1 open, "
		 "2 half-open.\n# TYPE afd_backend_circuit_state gauge\n");
	breaker_family(&t, cfg, false);
	mput(&t, "# HELP afd_backend_circuit_opens_total Times the circuit breaker opened.\n"
		 "# TYPE afd_backend_circuit_opens_total counter\n");
	breaker_family(&t, cfg, true);
	uint64_t rej = 0, den = 0, drop = 0;
	if (pol) {
		rej = __atomic_load_n(&pol->stats->rejected, __ATOMIC_RELAXED);
		den = __atomic_load_n(&pol->stats->denied, __ATOMIC_RELAXED);
		drop = __atomic_load_n(&pol->stats->dropped, __ATOMIC_RELAXED);
	}
	mput(&t, "# HELP afd_ratelimit_rejected_total Requests answered 429 by a listener's rate "
		 "limit (rate-limit-requests).\n# TYPE afd_ratelimit_rejected_total counter\n"
		 "afd_ratelimit_rejected_total %llu\n", (unsigned long long)rej);
	mput(&t, "# HELP afd_acl_denied_total Clients refused by the access list: action "
		 "\"403\" (blacklist-reject) or \"close\" at accept (blacklist-close).\n"
		 "# TYPE afd_acl_denied_total counter\n"
		 "afd_acl_denied_total{action=\"403\"} %llu\nafd_acl_denied_total{action=\"close\"} "
		 "%llu\n", (unsigned long long)den, (unsigned long long)drop);
	mput(&t, "# HELP afd_ratelimit_clients Client addresses the rate-limit table can track.\n"
		 "# TYPE afd_ratelimit_clients gauge\nafd_ratelimit_clients %u\n",
	     pol && pol->rl ? px_rl_capacity(pol->rl) : 0);
	if (t.oom) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* ---- words ---- */
static bool is_worker(void *ctx) { return ((struct px_vmctx *)ctx)->w != NULL; }
static struct px_config *cfg_of(void *ctx) { return ((struct px_vmctx *)ctx)->cfg; }
static bool replaying(void *ctx) { return px_replaying(ctx); }

/* rate-limit ( rate burst -- ) every client may make rate requests a second, burst at once */
static int w_rate_limit(afd_vm *vm, void *ctx)
{
	afd_cell rate, burst;
	POP(burst);
	POP(rate);
	if (rate < 1 || rate > 1000000 || burst < 1 || burst > 1000000)
		return -24;
	struct px_policy *pol = px_policy_get(ctx);
	if (!pol)
		return -8;
	if (is_worker(ctx))
		return 0;
	const struct px_config *prev = ((struct px_vmctx *)ctx)->prev;	/* a reload's */
	struct px_ratelimit *rl = NULL;
	if (prev && prev->policy)
		rl = px_rl_share(prev->policy->rl, pol->rl_clients, (uint32_t)rate, (uint32_t)burst);
	if (!rl && !(rl = px_rl_new(pol->rl_clients, (uint32_t)rate, (uint32_t)burst)))
		return -8;
	px_rl_free(pol->rl);	/* the configuration is being built: no worker uses it */
	pol->rl = rl;
	pol->rate = (uint32_t)rate;
	pol->burst = (uint32_t)burst;
	return 0;
}

/* rate-limit-clients ( n -- ) clients the table tracks (default 65536), before rate-limit */
static int w_rate_clients(afd_vm *vm, void *ctx)
{
	afd_cell n;
	POP(n);
	if (n < 8 || n > (1 << 26))
		return -24;
	struct px_policy *pol = px_policy_get(ctx);
	if (!pol)
		return -8;
	if (!is_worker(ctx))
		pol->rl_clients = (uint32_t)n;
	return 0;
}

static struct px_ratelimit *limiter(void *ctx)
{
	struct px_policy *pol = px_policy_get(ctx);
	return pol ? pol->rl : NULL;
}

static uint64_t now_ns(void *ctx)
{
	struct px_worker *w = ((struct px_vmctx *)ctx)->w;
	return w ? ev_now(w->loop) : lb_now_ns();
}

/* rate-limit-bucket-get ( ip -- bucket ) the client's bucket (-21 before rate-limit) */
static int w_bucket_get(afd_vm *vm, void *ctx)
{
	afd_cell ip;
	POP(ip);
	if ((afd_ucell)ip > 0xffffffffu)
		return -24;
	return limiter(ctx) ? afd_push(vm, BUCKET_TAG | ip) : -21;
}

static int pop_bucket(afd_vm *vm, void *ctx, struct px_ratelimit **rl, uint32_t *ip)
{
	afd_cell b;
	POP(b);
	if ((b & ~(afd_cell)0xffffffff) != BUCKET_TAG)
		return -12;
	*ip = (uint32_t)b;
	return (*rl = limiter(ctx)) ? 0 : -21;
}

/* bucket-tokens@ ( bucket -- n ) whole tokens in it now */
static int w_bucket_tokens(afd_vm *vm, void *ctx)
{
	struct px_ratelimit *rl;
	uint32_t ip;
	int err = pop_bucket(vm, ctx, &rl, &ip);
	return err ? err : afd_push(vm, px_rl_tokens(rl, ip, now_ns(ctx)) / 1000);
}

/* bucket-consume ( bucket n -- ) take n tokens (all there are, if fewer) */
static int w_bucket_consume(afd_vm *vm, void *ctx)
{
	afd_cell n;
	POP(n);
	struct px_ratelimit *rl;
	uint32_t ip;
	int err = pop_bucket(vm, ctx, &rl, &ip);
	if (err)
		return err;
	if (n < 0 || n > 1000000)
		return -24;
	if (!replaying(ctx))
		px_rl_take(rl, ip, (uint64_t)n * 1000, true, now_ns(ctx));
	return 0;
}

/* rate-limit-requests, blacklist-reject, blacklist-close ( -- ) on the current listener */
static int listener_policy(void *ctx, uint8_t flag)
{
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_listener < 0)
		return -32;
	cfg->listeners[cfg->current_listener].policy |= flag;
	return px_policy_get(ctx) ? 0 : -8;
}

static int w_rate_requests(afd_vm *vm, void *ctx) { return listener_policy(ctx, PX_POLICY_RATE); }
static int w_bl_reject(afd_vm *vm, void *ctx) { return listener_policy(ctx, PX_POLICY_DENY); }
static int w_bl_close(afd_vm *vm, void *ctx) { return listener_policy(ctx, PX_POLICY_DROP); }

/* ---- circuit breakers ---- */
static int w_cb_state(afd_vm *vm, void *ctx)	/* circuit-breaker-state@ ( backend -- state ) */
{
	afd_cell h;
	struct lb_backend *b;
	int err = px_pop_backend(vm, cfg_of(ctx), &h, &b);
	return err ? err : afd_push(vm, lb_breaker_state(b, lb_now_ns()));
}

static int cb_result(afd_vm *vm, void *ctx, bool ok)
{
	afd_cell h;
	struct lb_backend *b;
	int err = px_pop_backend(vm, cfg_of(ctx), &h, &b);
	if (!err && !replaying(ctx))
		lb_breaker_result(cfg_of(ctx)->pools[(h >> 24) & 0xffff], b, ok);
	return err;
}

static int w_cb_fail(afd_vm *vm, void *ctx) { return cb_result(vm, ctx, false); }
static int w_cb_success(afd_vm *vm, void *ctx) { return cb_result(vm, ctx, true); }
static int w_cb_const(afd_vm *vm, void *ctx) { return afd_push(vm, (afd_cell)(intptr_t)ctx); }

/* circuit-breaker-threshold ( n -- ), -timeout ( ms -- ), -probes ( n -- ), -5xx ( -- ):
 * the current pool's breaker; the threshold turns it on for the data path */
static int cb_setting(afd_vm *vm, void *ctx, int which)
{
	afd_cell v = 1;
	if (which != 3)
		POP(v);
	if (v < 1 || v > (which == 1 ? 86400000 : 1000000))
		return -24;
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_pool < 0)
		return -32;
	struct lb_breaker_cfg *c = &cfg->pools[cfg->current_pool]->breaker;
	switch (which) {
	case 0: c->threshold = (uint32_t)v; c->on = true; break;
	case 1: c->open_ns = (uint64_t)v * MS; break;
	case 2: c->probes = (uint32_t)v; break;
	default: c->count_5xx = true; break;
	}
	return 0;
}

static int w_cb_threshold(afd_vm *vm, void *ctx) { return cb_setting(vm, ctx, 0); }
static int w_cb_timeout(afd_vm *vm, void *ctx) { return cb_setting(vm, ctx, 1); }
static int w_cb_probes(afd_vm *vm, void *ctx) { return cb_setting(vm, ctx, 2); }
static int w_cb_5xx(afd_vm *vm, void *ctx) { return cb_setting(vm, ctx, 3); }

int px_register_policy_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "rate-limit", "( rate burst -- )", w_rate_limit },
		{ "rate-limit-clients", "( n -- )", w_rate_clients },
		{ "rate-limit-bucket-get", "( ip -- bucket )", w_bucket_get },
		{ "bucket-tokens@", "( bucket -- n )", w_bucket_tokens },
		{ "bucket-consume", "( bucket n -- )", w_bucket_consume },
		{ "rate-limit-requests", "( -- )", w_rate_requests },
		{ "blacklist-reject", "( -- )", w_bl_reject },
		{ "blacklist-close", "( -- )", w_bl_close },
		{ "circuit-breaker-state@", "( backend -- state )", w_cb_state },
		{ "circuit-breaker-fail", "( backend -- )", w_cb_fail },
		{ "circuit-breaker-success", "( backend -- )", w_cb_success },
		{ "circuit-breaker-threshold", "( n -- )", w_cb_threshold },
		{ "circuit-breaker-timeout", "( ms -- )", w_cb_timeout },
		{ "circuit-breaker-probes", "( n -- )", w_cb_probes },
		{ "circuit-breaker-5xx", "( -- )", w_cb_5xx },
	};
	static const struct { const char *name; intptr_t v; } consts[] = {
		{ "CB_CLOSED", LB_CB_CLOSED }, { "CB_OPEN", LB_CB_OPEN },
		{ "CB_HALF_OPEN", LB_CB_HALF_OPEN },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < sizeof(consts) / sizeof(*consts); i++)
		if (afd_register(vm, consts[i].name, "( -- state )", w_cb_const,
				 (void *)consts[i].v) < 0)
			return -ENOMEM;
	int err = px_register_geo_words(vm, ctx);
	return err ? err : px_register_fetch_words(vm, ctx);
}
