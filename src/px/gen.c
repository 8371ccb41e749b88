/* gen.c: configuration generations. A change (reload, admin snippet) builds a complete new
 * configuration aside, in a fresh VM, and swaps it in only when every step succeeded:
 *
 *   build    a fresh VM loads the sources (reload: the files again; a snippet: the current
 *            generation's history, then the snippet). Any error, a failed check, or a change
 *            that needs a restart ends it here and nothing has changed.
 *   prepare  each worker builds its view on its own thread (a VM when there is a routing
 *            word, pickers, counters, listening sockets for new addresses). A failure (a
 *            port taken) discards every view: still nothing has changed.
 *   adopt    with the server's lock held (metrics scrapes wait), admin state is applied and
 *            every worker takes its view between two events.
 *
 * Backends carry over by identity (pool name, address, port): the new backend shares the
 * old one's run-time state (health, connections, latency), so nothing is lost or reset. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "px.h"

static void errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* ---- identity maps between two configurations ---- */
int px_map_pool(const struct px_config *cfg, const char *name)
{
	return cfg ? px_pool_find(cfg, name, strlen(name)) : -1;
}

int px_map_listener(const struct px_config *cfg, const struct px_listener_cfg *l)
{
	for (int i = 0; cfg && i < cfg->nlisteners; i++)
		if (cfg->listeners[i].ip == l->ip && cfg->listeners[i].port == l->port)
			return i;
	return -1;
}

/* Open addressing over the previous pool's backends: key address and port; a slot taken by
 * a match is spent, so a server listed twice matches its entries in order. */
struct slot {
	uint64_t key;
	int index;		/* -1: empty; -2: spent */
};

static uint64_t be_key(const struct lb_backend *b) { return (uint64_t)b->ip << 16 | b->port; }

static int *map_pool(const struct lb_pool *np, const struct lb_pool *op)
{
	int *map = malloc((np->n + 1) * sizeof(*map));
	if (!map)
		return NULL;
	size_t cap = 16;
	while (cap < (size_t)op->n * 2)
		cap *= 2;
	struct slot *t = malloc(cap * sizeof(*t));
	if (!t) {
		free(map);
		return NULL;
	}
	for (size_t i = 0; i < cap; i++)
		t[i].index = -1;
	for (uint32_t i = 0; i < op->n; i++) {
		uint64_t k = be_key(&op->backends[i]);
		size_t h = lb_hash(&k, sizeof(k), 0) & (cap - 1);
		while (t[h].index != -1)
			h = (h + 1) & (cap - 1);
		t[h] = (struct slot){ k, (int)i };
	}
	for (uint32_t i = 0; i < np->n; i++) {
		uint64_t k = be_key(&np->backends[i]);
		size_t h = lb_hash(&k, sizeof(k), 0) & (cap - 1);
		map[i] = -1;
		for (; t[h].index != -1; h = (h + 1) & (cap - 1))
			if (t[h].index >= 0 && t[h].key == k) {
				map[i] = t[h].index;
				t[h].index = -2;
				break;
			}
	}
	free(t);
	return map;
}

int **px_map_backends(const struct px_config *cfg, const struct px_config *prev)
{
	int **map = calloc((size_t)cfg->npools + 1, sizeof(*map));
	for (int p = 0; map && p < cfg->npools; p++) {
		int op = px_map_pool(prev, cfg->pools[p]->name);
		if (op < 0)
			continue;	/* a NULL row: all new */
		if (!(map[p] = map_pool(cfg->pools[p], prev->pools[op]))) {
			px_map_free(map, cfg);
			return NULL;
		}
	}
	return map;
}

void px_map_free(int **map, const struct px_config *cfg)
{
	for (int p = 0; map && p < cfg->npools; p++)
		free(map[p]);
	free(map);
}

/* New backends that were in prev share their run-time state. The map is kept: the workers
 * use it to carry counters and idle connections over. */
static int carry_state(struct px_gen *g, const struct px_gen *prev)
{
	struct px_config *cfg = g->cfg;
	const struct px_config *pc = prev->cfg;
	int **map = px_map_backends(cfg, pc);
	if (!map)
		return -ENOMEM;
	g->prev_map = map;
	g->prev_id = prev->id;
	for (int p = 0; p < cfg->npools; p++) {
		if (!map[p])
			continue;
		const struct lb_pool *op = pc->pools[px_map_pool(pc, cfg->pools[p]->name)];
		for (uint32_t b = 0; b < cfg->pools[p]->n; b++)
			if (map[p][b] >= 0)
				lb_backend_share(&cfg->pools[p]->backends[b], &op->backends[map[p][b]]);
	}
	return 0;
}

int **px_gen_map(const struct px_gen *g, const struct px_gen *from, bool *owned)
{
	*owned = false;
	if (g->prev_map && from->id == g->prev_id)
		return g->prev_map;
	*owned = true;
	return px_map_backends(g->cfg, from->cfg);
}

/* ---- generations ---- */
static void gen_free(struct px_gen *g)
{
	px_map_free(g->prev_map, g->cfg);
	px_detach(g->ctx);	/* frees cfg */
	afd_free(g->vm);
	free(g->sink);
	free(g);
}

void px_gen_put(struct px_gen *g)
{
	if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
		gen_free(g);
}

static double unix_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Where a new generation's VM writes: nowhere while it replays, out for the change. */
struct sink {
	FILE *f;
	bool on;
};

static void to_sink(void *host, const char *buf, size_t len)
{
	struct sink *s = host;
	if (s->on && s->f)
		fwrite(buf, 1, len, s->f);
}

struct px_gen *px_gen_first(struct px_vmctx *ctx)
{
	struct px_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->refs = 1;
	g->id = 1;
	g->cfg = ctx->cfg;
	g->vm = NULL;		/* the main VM is the caller's (it is running handle-requests) */
	g->ctx = NULL;
	g->has_route = afd_find(ctx->vm, "handle-http-request", 19) > 0;
	snprintf(g->origin, sizeof(g->origin), "start");
	g->loaded_at = unix_now();
	return g;
}

/* The history a snippet builds on: the generation's VM's, or for the first generation the
 * main VM's. */
static afd_vm *history_vm(const struct px_server *srv)
{
	return srv->cur->vm ? srv->cur->vm : srv->start->vm;
}

/* A load that ends with handle-requests ends with BYE: that is success. */
static bool failed(int err) { return err && err != AFD_THROW_BYE; }

struct px_gen *px_gen_build(struct px_server *srv, const char *snippet, size_t len,
			    const char *origin, FILE *out, char *err, size_t errcap)
{
	uint64_t t0 = ev_clock();
	struct px_gen *g = calloc(1, sizeof(*g));
	struct sink *sink = calloc(1, sizeof(*sink));
	struct afd_opts o = { .sz = sizeof(o), .data_size = srv->start->data_size,
			      .write = to_sink, .host = sink };
	if (sink)
		sink->f = out;
	if (!sink) {
		free(g);
		g = NULL;
	}
	if (g && srv->spare) {	/* made ready after the last change: no start-up cost now */
		g->vm = srv->spare;
		g->ctx = srv->spare_ctx;
		srv->spare = NULL;
		srv->spare_ctx = NULL;
		afd_set_output(g->vm, to_sink, sink);
	} else if (g && (g->vm = afd_new(&o)) && !(g->ctx = px_attach(g->vm))) {
		afd_free(g->vm);
		g->vm = NULL;
	}
	if (!g || !g->vm) {
		free(g);
		free(sink);
		errf(err, errcap, "out of memory");
		return NULL;
	}
	g->sink = sink;
	g->refs = 1;
	g->cfg = g->ctx->cfg;
	g->ctx->building = true;
	g->ctx->srv = srv;
	g->ctx->prev = srv->cur->cfg;
	g->ctx->data_size = srv->start->data_size;
	if (srv->start->cfg->metrics_pinned) {	/* --metrics holds for every generation */
		g->cfg->metrics_ip = srv->start->cfg->metrics_ip;
		g->cfg->metrics_port = srv->start->cfg->metrics_port;
		g->cfg->metrics_pinned = true;
	}
	int rc = 0;
	if (!snippet) {		/* reload: the sources again, files read anew */
		afd_set_max_steps(g->vm, 0);
		for (int i = 0; i < srv->start->nsources && !failed(rc); i++) {
			const struct px_source *s = &srv->start->sources[i];
			rc = s->text ? afd_eval(g->vm, s->text, strlen(s->text), s->name)
				     : afd_include(g->vm, s->name);
		}
	} else {		/* a snippet on top of what is running */
		afd_vm *h = history_vm(srv);
		const char *name, *text;
		size_t n;
		int count = afd_history(h, 0, &name, &text, &n);
		for (int i = 0; i < count && !failed(rc); i++) {
			afd_history(h, i, &name, &text, &n);
			rc = afd_eval(g->vm, text, n, name);
		}
		if (failed(rc)) {
			char msg[512];
			afd_format_error(g->vm, msg, sizeof(msg));
			errf(err, errcap, "replaying the running configuration failed: %s", msg);
			goto fail;
		}
		px_admin_mark(g->ctx);
		g->ctx->admin = true;
		afd_set_max_steps(g->vm, 10000000);	/* begin again must not hang AFD */
		sink->on = true;
		rc = afd_eval_at(g->vm, snippet, len, "admin", 1);
		afd_flush(g->vm);
		sink->on = false;
		g->same_vm = g->ctx->fp_before == afd_fingerprint(g->vm);
		afd_set_max_steps(g->vm, 0);
		g->ctx->admin = false;
	}
	if (failed(rc)) {
		afd_format_error(g->vm, err, errcap);
		goto fail;
	}
	char *msgs = NULL;
	size_t msglen = 0;
	FILE *m = open_memstream(&msgs, &msglen);
	int bad = m ? px_config_check(g->cfg, m) : -8;
	if (m)
		fclose(m);
	if (!bad && srv->start->cfg->workers != g->cfg->workers) {
		errf(err, errcap, "workers: changing the number of workers needs a restart");
		free(msgs);
		goto fail;
	}
	if (bad) {
		errf(err, errcap, "%s", msgs && *msgs ? msgs : "the configuration check failed");
		size_t l = strlen(err);
		if (l && err[l - 1] == '\n')
			err[l - 1] = 0;
		free(msgs);
		goto fail;
	}
	free(msgs);
	if (carry_state(g, srv->cur) < 0) {
		errf(err, errcap, "out of memory");
		goto fail;
	}
	g->has_route = afd_find(g->vm, "handle-http-request", 19) > 0;
	snprintf(g->origin, sizeof(g->origin), "%s", origin);
	g->loaded_at = unix_now();
	g->build_ns = ev_clock() - t0;
	return g;
fail:
	gen_free(g);
	return NULL;
}

/* ---- the swap, in every worker ---- */
struct job {
	struct px_server *srv;
	struct px_worker *w;
	struct px_gen *gen;
	struct px_wgen *wg;
};

static void answered(struct px_server *srv)
{
	pthread_mutex_lock(&srv->wait_mu);
	if (--srv->waiting == 0)
		pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->wait_mu);
}

static void do_prepare(struct ev_loop *loop, void *arg)
{
	struct job *j = arg;
	j->wg = px_wgen_prepare(j->w, j->gen);
	answered(j->srv);
}

static void do_adopt(struct ev_loop *loop, void *arg)
{
	struct job *j = arg;
	px_wgen_adopt(j->w, j->wg);
	answered(j->srv);
}

static void do_discard(struct ev_loop *loop, void *arg)
{
	struct job *j = arg;
	px_wgen_discard(j->wg);
	answered(j->srv);
}

/* Run fn for every worker: on its thread if it runs, here if not; wait for all. */
static void each_worker(struct px_server *srv, struct job *jobs,
			void (*fn)(struct ev_loop *, void *))
{
	pthread_mutex_lock(&srv->wait_mu);
	srv->waiting = srv->nworkers;
	pthread_mutex_unlock(&srv->wait_mu);
	for (int i = 0; i < srv->nworkers; i++) {
		struct px_worker *w = &srv->ws[i];
		if (!(w->thread && ev_call(w->loop, fn, &jobs[i]) == 0))
			fn(w->loop, &jobs[i]);	/* not running (yet, or any more): here */
	}
	pthread_mutex_lock(&srv->wait_mu);
	while (srv->waiting > 0)
		pthread_cond_wait(&srv->cv, &srv->wait_mu);
	pthread_mutex_unlock(&srv->wait_mu);
}

/* Admin state is what the new configuration says (its sources are the truth). */
static void apply_admin_state(struct px_config *cfg)
{
	for (int p = 0; p < cfg->npools; p++)
		for (uint32_t b = 0; b < cfg->pools[p]->n; b++) {
			struct lb_backend *be = &cfg->pools[p]->backends[b];
			__atomic_store_n(&be->st->enabled, be->want_enabled, __ATOMIC_RELAXED);
		}
}

int px_gen_commit(struct px_server *srv, struct px_gen *g, char *err, size_t errcap)
{
	uint64_t t0 = ev_clock();
	struct job *jobs = calloc((size_t)srv->nworkers, sizeof(*jobs));
	if (!jobs) {
		px_gen_put(g);
		errf(err, errcap, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < srv->nworkers; i++)
		jobs[i] = (struct job){ srv, &srv->ws[i], g, NULL };
	if (g->has_route) {	/* each worker builds its VM: in parallel, on its own thread */
		each_worker(srv, jobs, do_prepare);
	} else {		/* nothing there touches a worker's running state: here */
		for (int i = 0; i < srv->nworkers; i++)
			jobs[i].wg = px_wgen_prepare(jobs[i].w, g);
	}
	int bad = 0;
	for (int i = 0; i < srv->nworkers; i++)
		if (!jobs[i].wg || jobs[i].wg->err)
			bad = jobs[i].wg ? jobs[i].wg->err : -ENOMEM;
	if (bad) {
		for (int i = 0; i < srv->nworkers; i++)
			if (!jobs[i].wg)
				jobs[i].w = NULL;
		each_worker(srv, jobs, do_discard);
		errf(err, errcap, "a worker could not take the new configuration: %s",
		     strerror(-bad));
		free(jobs);
		px_gen_put(g);
		return bad;
	}
	pthread_mutex_lock(&srv->mu);
	apply_admin_state(g->cfg);
	px_log_apply(&g->cfg->log);	/* before the workers adopt: they follow it (log.c) */
	g->id = ++srv->next_id;
	each_worker(srv, jobs, do_adopt);
	struct px_gen *old = srv->cur;
	srv->cur = g;		/* the server's reference */
	g->swap_ns = ev_clock() - t0;
	pthread_mutex_unlock(&srv->mu);
	free(jobs);
	px_gen_put(old);
	return 0;
}

/* A VM with the prelude and the proxy's words, for the next change (control thread). */
void px_spare_fill(struct px_server *srv)
{
	pthread_mutex_lock(&srv->ctl);
	if (!srv->spare) {
		struct afd_opts o = { .sz = sizeof(o), .data_size = srv->start->data_size };
		afd_vm *vm = afd_new(&o);
		struct px_vmctx *ctx = vm ? px_attach(vm) : NULL;
		if (ctx) {
			srv->spare = vm;
			srv->spare_ctx = ctx;
		} else {
			afd_free(vm);
		}
	}
	pthread_mutex_unlock(&srv->ctl);
}

void px_spare_free(struct px_server *srv)
{
	px_detach(srv->spare_ctx);
	afd_free(srv->spare);
	srv->spare = NULL;
	srv->spare_ctx = NULL;
}

int px_reload(struct px_server *srv, const char *origin, char *err, size_t errcap)
{
	pthread_mutex_lock(&srv->ctl);
	struct px_gen *g = px_gen_build(srv, NULL, 0, origin, NULL, err, errcap);
	int rc = g ? px_gen_commit(srv, g, err, errcap) : -EINVAL;
	if (rc == 0) {
		__atomic_add_fetch(&srv->reloads, 1, __ATOMIC_RELAXED);
		px_log_event(PX_LOG_INFO, "%s: generation %llu live in %.3f ms (built in %.3f ms, "
			     "taken by every worker in %.3f ms)", origin,
			     (unsigned long long)srv->cur->id,
			     (srv->cur->build_ns + srv->cur->swap_ns) / 1e6, srv->cur->build_ns / 1e6,
			     srv->cur->swap_ns / 1e6);
	} else {
		__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
		px_log_event(PX_LOG_ERROR, "%s failed, generation %llu keeps running: %s", origin,
			     (unsigned long long)srv->cur->id, err);
	}
	pthread_mutex_unlock(&srv->ctl);
	px_spare_fill(srv);
	return rc;
}
