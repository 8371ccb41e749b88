/* config.c: the configuration of the proxy and the Forth words that build it.
 *
 * In the main VM these words build the configuration. A worker VM replays the same sources
 * to get the same word definitions: there they only look up what the main VM built (a
 * worker never changes the shared configuration), and handle-requests ends the replay. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "px.h"
#include "ipvs/words.h"

#define MS 1000000ull

struct px_config *px_config_new(void)
{
	struct px_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->current_pool = -1;
	cfg->current_listener = -1;
	cfg->client_timeout_ns = 10000 * MS;
	cfg->idle_timeout_ns = 15000 * MS;
	cfg->connect_timeout_ns = 3000 * MS;
	cfg->server_timeout_ns = 30000 * MS;
	cfg->backend_idle_ns = 10000 * MS;
	cfg->tcp_idle_ns = 600000 * MS;
	cfg->drain_timeout_ns = 10000 * MS;
	cfg->max_retries = 2;
	return cfg;
}

void px_config_free(struct px_config *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->npools; i++)
		lb_pool_free(cfg->pools[i]);
	for (int i = 0; i < cfg->nlisteners; i++)
		free(cfg->listeners[i].body);
	px_policy_free(cfg->policy);
	free(cfg->pools_cfg);
	free(cfg->pools);
	free(cfg->listeners);
	free(cfg);
}

int px_pool_find(const struct px_config *cfg, const char *name, size_t len)
{
	for (int i = 0; i < cfg->npools; i++)
		if (strlen(cfg->pools[i]->name) == len && !memcmp(cfg->pools[i]->name, name, len))
			return i;
	return -1;
}

static bool is_worker(void *ctx) { return ((struct px_vmctx *)ctx)->w != NULL; }
static struct px_config *cfg_of(void *ctx) { return ((struct px_vmctx *)ctx)->cfg; }

#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)

static int grow(void **arr, int *cap, int n, size_t size)
{
	if (n < *cap)
		return 0;
	int ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return -8;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* (pool-create) ( c-addr u -- ) a new pool, round-robin, and the current one */
static int w_pool_create_rt(afd_vm *vm, void *ctx)
{
	struct px_config *cfg = cfg_of(ctx);
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n == 0 || n >= LB_NAME_MAX)
		return -16;
	if (is_worker(ctx))
		return 0;	/* replayed: the main VM made it; workers never write cfg */
	int i = px_pool_find(cfg, s, n);
	if (i >= 0) {	/* named again: the same pool */
		cfg->current_pool = i;
		return 0;
	}
	int cap = cfg->cappools;
	if ((err = grow((void **)&cfg->pools, &cap, cfg->npools, sizeof(*cfg->pools))))
		return err;
	if (cap != cfg->cappools) {	/* pools_cfg follows the pools array */
		struct px_pool_cfg *pc = realloc(cfg->pools_cfg, (size_t)cap * sizeof(*pc));
		if (!pc)
			return -8;
		memset(pc + cfg->cappools, 0, (size_t)(cap - cfg->cappools) * sizeof(*pc));
		cfg->pools_cfg = pc;
		cfg->cappools = cap;
	}
	struct px_pool_cfg *pc = &cfg->pools_cfg[cfg->npools];
	memset(pc, 0, sizeof(*pc));
	pc->check = (struct px_check_cfg){ PX_CHECK_NONE, "/", 2000 * MS, 1000 * MS, 2, 3 };
	char name[LB_NAME_MAX];
	memcpy(name, s, n);
	name[n] = 0;
	struct lb_pool *p = lb_pool_new(name, lb_algo_find("round-robin"));
	if (!p)
		return -8;
	cfg->current_pool = cfg->npools;
	cfg->pools[cfg->npools++] = p;
	return 0;
}

/* pool-create ( "name" -- ) parses its name when compiled, as S" does, so it works inside
 * a definition as in the design document: : web-pool pool-create "web" ... ; */
static int w_pool_create(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_parse_string(vm, &s, &n);
	if (err)
		return err;
	if (n == 0)
		return -16;
	afd_cell rt = afd_find(vm, "(pool-create)", 13);
	if (afd_compiling(vm)) {
		err = afd_compile_string(vm, s, n);
		return err ? err : afd_compile_xt(vm, rt);
	}
	if ((err = afd_push_string(vm, s, n)))
		return err;
	return w_pool_create_rt(vm, ctx);
}

/* get-pool ( c-addr u -- pool ) the pool of that name, now also the current one */
static int w_get_pool(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	int i = px_pool_find(cfg_of(ctx), s, n);
	if (i < 0)
		return -32;
	if (!is_worker(ctx))	/* workers run it concurrently: they never write cfg */
		cfg_of(ctx)->current_pool = i;
	return afd_push(vm, PX_POOL_TAG | i);
}

/* add-backend ( ip port weight -- ) to the current pool */
static int w_add_backend(afd_vm *vm, void *ctx)
{
	afd_cell ip, port, weight;
	POP(weight);
	POP(port);
	POP(ip);
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_pool < 0)
		return -32;	/* no pool-create before it */
	if ((afd_ucell)ip > 0xffffffffu || port <= 0 || port > 65535 || weight < 0)
		return -24;
	int err = lb_pool_add(cfg->pools[cfg->current_pool], (uint32_t)ip, (uint16_t)port,
			      (uint32_t)weight);
	return err < 0 ? -24 : 0;
}

/* set-algorithm ( algo -- ) of the current pool */
static int w_set_algorithm(afd_vm *vm, void *ctx)
{
	afd_cell a;
	POP(a);
	struct px_config *cfg = cfg_of(ctx);
	if ((a & PX_TAG_MASK) != PX_ALGO_TAG)
		return -12;
	if (is_worker(ctx))
		return 0;
	if (cfg->current_pool < 0)
		return -32;
	const struct lb_algo *algo = lb_algo_first();
	for (afd_cell i = a & 0xffff; algo && i > 0; i--)
		algo = algo->next;
	if (!algo)
		return -12;
	return lb_pool_set_algo(cfg->pools[cfg->current_pool], algo) < 0 ? -12 : 0;
}

/* an algorithm's word ( -- algo ): ctx carries its index in the registry */
static int w_algo(afd_vm *vm, void *ctx)
{
	return afd_push(vm, PX_ALGO_TAG | (afd_cell)(intptr_t)ctx);
}

static int add_listener(struct px_config *cfg, uint32_t ip, afd_cell port, enum px_mode mode)
{
	if (port <= 0 || port > 65535)
		return -24;
	int err = grow((void **)&cfg->listeners, &cfg->caplisteners, cfg->nlisteners,
		       sizeof(*cfg->listeners));
	if (err)
		return err;
	struct px_listener_cfg *l = &cfg->listeners[cfg->nlisteners];
	memset(l, 0, sizeof(*l));
	l->ip = ip;
	l->port = (uint16_t)port;
	l->mode = mode;
	l->pool = mode == PX_STATIC ? -1 : cfg->current_pool;
	cfg->current_listener = cfg->nlisteners++;
	return 0;
}

/* AFD_PORT overrides a listening port of the configuration (users without root). */
static afd_cell port_override(afd_cell port)
{
	const char *env = getenv("AFD_PORT");
	return env && *env ? atoi(env) : port;
}

/* listen-port ( port -- ) listen on every address; the current pool is its pool */
static int w_listen_port(afd_vm *vm, void *ctx)
{
	afd_cell port;
	POP(port);
	return is_worker(ctx) ? 0 : add_listener(cfg_of(ctx), 0, port_override(port), PX_HTTP);
}

/* listen ( ip port -- ) the same on one address */
static int w_listen(afd_vm *vm, void *ctx)
{
	afd_cell ip, port;
	POP(port);
	POP(ip);
	if (is_worker(ctx))
		return 0;
	return add_listener(cfg_of(ctx), (uint32_t)ip, port_override(port), PX_HTTP);
}

static int set_mode(void *ctx, enum px_mode mode)
{
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_listener < 0)
		return -32;
	cfg->listeners[cfg->current_listener].mode = mode;
	return 0;
}

static int w_http_mode(afd_vm *vm, void *ctx) { return set_mode(ctx, PX_HTTP); }

/* kernel-relay / user-relay ( -- ) how the current tcp-mode listener moves bytes */
static int set_relay(void *ctx, enum px_relay relay)
{
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_listener < 0)
		return -32;
	cfg->listeners[cfg->current_listener].relay = relay;
	return 0;
}
static int w_kernel_relay(afd_vm *vm, void *ctx) { return set_relay(ctx, PX_RELAY_KERNEL); }
static int w_user_relay(afd_vm *vm, void *ctx) { return set_relay(ctx, PX_RELAY_USER); }
static int w_tcp_mode(afd_vm *vm, void *ctx) { return set_mode(ctx, PX_TCP); }

/* metrics-listen ( ip port -- ) serve GET /metrics (Prometheus) there; default: nowhere.
 * --metrics on the command line wins over it. */
static int w_metrics_listen(afd_vm *vm, void *ctx)
{
	afd_cell ip, port;
	POP(port);
	POP(ip);
	if ((afd_ucell)ip > 0xffffffffu || port <= 0 || port > 65535)
		return -24;
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx) || cfg->metrics_pinned)
		return 0;
	cfg->metrics_ip = (uint32_t)ip;
	cfg->metrics_port = (uint16_t)port;
	return 0;
}

/* http-static-server ( c-addr u ip port -- ) a demo backend answering every request with
 * the text */
static int w_static_server(afd_vm *vm, void *ctx)
{
	afd_cell ip, port;
	const char *s;
	size_t n;
	POP(port);
	POP(ip);
	int err = afd_pop_string(vm, &s, &n);
	if (err || is_worker(ctx))
		return err;
	struct px_config *cfg = cfg_of(ctx);
	int cur = cfg->current_listener;
	if ((err = add_listener(cfg, (uint32_t)ip, port, PX_STATIC)))
		return err;
	struct px_listener_cfg *l = &cfg->listeners[cfg->nlisteners - 1];
	l->body = malloc(n + 1);
	if (!l->body)
		return -8;
	memcpy(l->body, s, n);
	l->body[n] = '\n';
	l->bodylen = n + 1;
	cfg->current_listener = cur;	/* mode words keep meaning the proxy's listener */
	return 0;
}

/* workers ( n -- ) worker threads (default: one per core) */
static int w_workers(afd_vm *vm, void *ctx)
{
	afd_cell n;
	POP(n);
	if (n < 1 || n > 256)
		return -24;
	if (!is_worker(ctx))
		cfg_of(ctx)->workers = (int)n;
	return 0;
}

static int set_timeout(afd_vm *vm, void *ctx, uint64_t *field)
{
	afd_cell ms;
	POP(ms);
	if (ms <= 0 || ms > 86400000)
		return -24;
	if (!is_worker(ctx))
		*field = (uint64_t)ms * MS;
	return 0;
}

static int w_client_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->client_timeout_ns);
}
static int w_server_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->server_timeout_ns);
}
static int w_connect_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->connect_timeout_ns);
}
static int w_idle_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->idle_timeout_ns);
}
static int w_tcp_idle_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->tcp_idle_ns);
}
static int w_drain_timeout(afd_vm *vm, void *ctx)
{
	return set_timeout(vm, ctx, &cfg_of(ctx)->drain_timeout_ns);
}

/* ---- health checks of the current pool ---- */
static struct px_check_cfg *current_check(void *ctx)
{
	struct px_config *cfg = cfg_of(ctx);
	return cfg->current_pool < 0 ? NULL : &cfg->pools_cfg[cfg->current_pool].check;
}

/* http-check ( c-addr u -- ) GET that path; 2xx or 3xx is healthy */
static int w_http_check(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err || is_worker(ctx))
		return err;
	struct px_check_cfg *ck = current_check(ctx);
	if (!ck)
		return -32;
	if (n == 0 || n >= PX_CHECK_PATH_MAX || s[0] != '/' || memchr(s, ' ', n) ||
	    memchr(s, '\r', n) || memchr(s, '\n', n))
		return -24;
	memcpy(ck->path, s, n);
	ck->path[n] = 0;
	ck->kind = PX_CHECK_HTTP;
	return 0;
}

/* tcp-check ( -- ) a connect is enough */
static int w_tcp_check(afd_vm *vm, void *ctx)
{
	struct px_check_cfg *ck = current_check(ctx);
	if (is_worker(ctx))
		return 0;
	if (!ck)
		return -32;
	ck->kind = PX_CHECK_TCP;
	return 0;
}

static int check_number(afd_vm *vm, void *ctx, int which)
{
	afd_cell v;
	POP(v);
	if (v < 1 || v > 3600000)
		return -24;
	struct px_check_cfg *ck = current_check(ctx);
	if (is_worker(ctx))
		return 0;
	if (!ck)
		return -32;
	switch (which) {
	case 0: ck->interval_ns = (uint64_t)v * MS; break;
	case 1: ck->timeout_ns = (uint64_t)v * MS; break;
	case 2: ck->rise = (int)v; break;
	default: ck->fall = (int)v; break;
	}
	return 0;
}

static int w_check_interval(afd_vm *vm, void *ctx) { return check_number(vm, ctx, 0); }
static int w_check_timeout(afd_vm *vm, void *ctx) { return check_number(vm, ctx, 1); }
static int w_check_rise(afd_vm *vm, void *ctx) { return check_number(vm, ctx, 2); }
static int w_check_fall(afd_vm *vm, void *ctx) { return check_number(vm, ctx, 3); }

/* hash-by-client, hash-by-header ( c-addr u -- ), hash-by-cookie ( c-addr u -- ): the key
 * source-hash and maglev-hash use in the current pool (default: the client's address) */
static int set_hash(afd_vm *vm, void *ctx, enum px_hash_by by)
{
	const char *s = "";
	size_t n = 0;
	if (by != PX_HASH_CLIENT) {
		int err = afd_pop_string(vm, &s, &n);
		if (err)
			return err;
		if (n == 0 || n >= sizeof(((struct px_pool_cfg *)0)->hash_name))
			return -24;
	}
	struct px_config *cfg = cfg_of(ctx);
	if (is_worker(ctx))
		return 0;
	if (cfg->current_pool < 0)
		return -32;
	struct px_pool_cfg *pc = &cfg->pools_cfg[cfg->current_pool];
	pc->hash_by = by;
	memcpy(pc->hash_name, s, n);
	pc->hash_len = (uint8_t)n;
	return 0;
}

static int w_hash_client(afd_vm *vm, void *ctx) { return set_hash(vm, ctx, PX_HASH_CLIENT); }
static int w_hash_header(afd_vm *vm, void *ctx) { return set_hash(vm, ctx, PX_HASH_HEADER); }
static int w_hash_cookie(afd_vm *vm, void *ctx) { return set_hash(vm, ctx, PX_HASH_COOKIE); }

int px_backend_of(const struct px_config *cfg, afd_cell h, int *pool)
{
	int p = (int)((h >> 24) & 0xffff), i = (int)(h & 0xffffff);
	if ((h & PX_BACKEND_MASK) != PX_BACKEND_TAG || p >= cfg->npools ||
	    (uint32_t)i >= cfg->pools[p]->n)
		return -1;
	*pool = p;
	return i;
}

int px_pop_backend(afd_vm *vm, struct px_config *cfg, afd_cell *h, struct lb_backend **b)
{
	int err = afd_pop(vm, h);
	if (err)
		return err;
	int p, i = px_backend_of(cfg, *h, &p);
	if (i < 0)
		return -12;
	*b = &cfg->pools[p]->backends[i];
	return 0;
}

static int pop_backend(afd_vm *vm, void *ctx, afd_cell *h, struct lb_backend **b)
{
	return px_pop_backend(vm, cfg_of(ctx), h, b);
}

/* http-health-check ( backend -- flag ) the backend's health as the checks see it */
static int w_health_of(afd_vm *vm, void *ctx)
{
	afd_cell h;
	struct lb_backend *b;
	int err = pop_backend(vm, ctx, &h, &b);
	return err ? err : afd_push(vm, __atomic_load_n(&b->st->up, __ATOMIC_RELAXED) ? -1 : 0);
}

/* backend-enable, backend-disable ( backend -- backend more? ) set its admin state; more?
 * is false after the pool's last backend (the design document's each-backend loop) */
static int set_enabled(afd_vm *vm, void *ctx, int on)
{
	afd_cell h;
	struct lb_backend *b;
	if (is_worker(ctx)) {	/* a replay: the configuration is built already */
		int err = afd_pop(vm, &h);
		err = err ? err : afd_push(vm, h);
		return err ? err : afd_push(vm, 0);
	}
	int err = pop_backend(vm, ctx, &h, &b);
	if (err)
		return err;
	b->want_enabled = on;	/* goes live with the generation being built */
	struct lb_pool *p = cfg_of(ctx)->pools[(h >> 24) & 0xffff];
	err = afd_push(vm, h);
	return err ? err : afd_push(vm, b->index + 1 < p->n ? -1 : 0);
}

static int w_backend_enable(afd_vm *vm, void *ctx) { return set_enabled(vm, ctx, 1); }
static int w_backend_disable(afd_vm *vm, void *ctx) { return set_enabled(vm, ctx, 0); }

/* each-backend ( pool -- pool backend ) the pool's backends in turn, from the first again
 * after the last */
static int w_each_backend(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = ctx;
	afd_cell p;
	POP(p);
	int i = (int)(p & 0xffff);
	if ((p & PX_TAG_MASK) != PX_POOL_TAG || i >= x->cfg->npools || !x->cfg->pools[i]->n)
		return -12;
	uint32_t k = x->iter_pool == i ? x->iter_next : 0;
	if (k >= x->cfg->pools[i]->n)
		k = 0;
	x->iter_pool = i;
	x->iter_next = k + 1;
	int err = afd_push(vm, p);
	return err ? err : afd_push(vm, PX_BACKEND_TAG | ((afd_cell)i << 24) | k);
}

/* handle-requests ( -- ) serve until SIGINT or SIGTERM; in a worker, the end of replay */
static int w_handle_requests(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = ctx;
	if (is_worker(ctx) || x->building)
		return AFD_THROW_BYE;	/* the end of a replay, or of a new generation's load */
	if (x->srv)
		return -21;		/* serving already: from the admin socket, say */
	if (x->check_only) {	/* afd --check: the configuration is complete here */
		x->checked = true;
		int err = px_config_check(x->cfg, stderr);
		return err ? err : AFD_THROW_BYE;
	}
	return px_serve(ctx);
}

/* Words that take a name: admin-socket, run-as-user, run-as-group */
static int set_name(afd_vm *vm, char *dst, size_t cap)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n >= cap || memchr(s, 0, n))
		return -16;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

/* admin-socket ( c-addr u -- ) the admin socket's path (a UNIX socket, mode 0600) */
static int w_admin_socket(afd_vm *vm, void *ctx)
{
	struct px_config *cfg = cfg_of(ctx);
	return set_name(vm, cfg->admin_path, sizeof(cfg->admin_path));
}

static int w_run_user(afd_vm *vm, void *ctx)
{
	struct px_config *cfg = cfg_of(ctx);
	return set_name(vm, cfg->run_user, sizeof(cfg->run_user));
}

static int w_run_group(afd_vm *vm, void *ctx)
{
	struct px_config *cfg = cfg_of(ctx);
	return set_name(vm, cfg->run_group, sizeof(cfg->run_group));
}

int px_add_source(struct px_vmctx *ctx, const char *name, const char *text)
{
	struct px_source *s = realloc(ctx->sources, (size_t)(ctx->nsources + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	ctx->sources = s;
	s = &s[ctx->nsources];
	s->name = strdup(name);
	s->text = text ? strdup(text) : NULL;
	if (!s->name || (text && !s->text)) {
		free(s->name);
		free(s->text);
		return -ENOMEM;
	}
	ctx->nsources++;
	return 0;
}

static const struct {
	const char *name, *effect;
	afd_prim_fn fn;
} config_words[] = {
	{ "(pool-create)", "( c-addr u -- )", w_pool_create_rt },
	{ "pool-create", "( \"name\" -- )", w_pool_create },
	{ "get-pool", "( c-addr u -- pool )", w_get_pool },
	{ "add-backend", "( ip port weight -- )", w_add_backend },
	{ "set-algorithm", "( algo -- )", w_set_algorithm },
	{ "listen-port", "( port -- )", w_listen_port },
	{ "listen", "( ip port -- )", w_listen },
	{ "http-mode", "( -- )", w_http_mode },
	{ "tcp-mode", "( -- )", w_tcp_mode },
	{ "kernel-relay", "( -- )", w_kernel_relay },
	{ "user-relay", "( -- )", w_user_relay },
	{ "http-static-server", "( c-addr u ip port -- )", w_static_server },
	{ "metrics-listen", "( ip port -- )", w_metrics_listen },
	{ "workers", "( n -- )", w_workers },
	{ "client-timeout", "( ms -- )", w_client_timeout },
	{ "server-timeout", "( ms -- )", w_server_timeout },
	{ "connect-timeout", "( ms -- )", w_connect_timeout },
	{ "idle-timeout", "( ms -- )", w_idle_timeout },
	{ "drain-timeout", "( ms -- )", w_drain_timeout },
	{ "tcp-idle-timeout", "( ms -- )", w_tcp_idle_timeout },
	{ "hash-by-client", "( -- )", w_hash_client },
	{ "hash-by-header", "( c-addr u -- )", w_hash_header },
	{ "hash-by-cookie", "( c-addr u -- )", w_hash_cookie },
	{ "http-check", "( c-addr u -- )", w_http_check },
	{ "tcp-check", "( -- )", w_tcp_check },
	{ "check-interval", "( ms -- )", w_check_interval },
	{ "check-timeout", "( ms -- )", w_check_timeout },
	{ "check-rise", "( n -- )", w_check_rise },
	{ "check-fall", "( n -- )", w_check_fall },
	{ "http-health-check", "( backend -- flag )", w_health_of },
	{ "backend-enable", "( backend -- backend more? )", w_backend_enable },
	{ "backend-disable", "( backend -- backend more? )", w_backend_disable },
	{ "each-backend", "( pool -- pool backend )", w_each_backend },
	{ "handle-requests", "( -- )", w_handle_requests },
	{ "admin-socket", "( c-addr u -- )", w_admin_socket },
	{ "run-as-user", "( c-addr u -- )", w_run_user },
	{ "run-as-group", "( c-addr u -- )", w_run_group },
};

int px_register_words(afd_vm *vm, struct px_vmctx *ctx)
{
	for (size_t i = 0; i < sizeof(config_words) / sizeof(*config_words); i++) {
		afd_cell xt = afd_register(vm, config_words[i].name, config_words[i].effect,
					   config_words[i].fn, ctx);
		if (xt < 0)
			return -ENOMEM;
		if (config_words[i].fn == w_pool_create)
			afd_immediate(vm, xt);
	}
	intptr_t i = 0;
	for (const struct lb_algo *a = lb_algo_first(); a; a = a->next, i++)
		if (afd_register(vm, a->name, "( -- algo )", w_algo, (void *)i) < 0)
			return -ENOMEM;
	int err = px_register_request_words(vm, ctx);
	err = err ? err : px_log_register_words(vm, ctx);	/* access-log... (log.c) */
	err = err ? err : ipvs_register_words(vm, ctx->w != NULL);	/* src/ipvs: IPVS words */
	err = err ? err : px_register_admin_words(vm, ctx);
	return err ? err : px_register_policy_words(vm, ctx);
}

struct px_vmctx *px_attach(afd_vm *vm)
{
	struct px_vmctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->cfg = px_config_new())) {
		free(ctx);
		return NULL;
	}
	ctx->vm = vm;
	if (px_register_words(vm, ctx) < 0) {
		px_detach(ctx);
		return NULL;
	}
	return ctx;
}

void px_detach(struct px_vmctx *ctx)
{
	if (!ctx)
		return;
	px_config_free(ctx->cfg);
	for (int i = 0; i < ctx->nsources; i++) {
		free(ctx->sources[i].name);
		free(ctx->sources[i].text);
	}
	free(ctx->sources);
	free(ctx);
}
