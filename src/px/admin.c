/* admin.c: the admin socket and the words operators use on it.
 *
 * A UNIX stream socket (mode 0600: the owner only). Each connection sends Forth text and
 * shuts its side (as `echo '...' | socat - UNIX:PATH` does); the whole text is one change:
 * it runs on a new generation built aside (gen.c), under a step budget, and goes live only
 * if it succeeded and changed something (a definition, data, or the configuration). The
 * answer is the text's output and "ok", or its error as "admin:LINE:COL: error: WORD: ...".
 * One change at a time, in the admin thread: the workers never wait for it. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "px.h"

#define ADMIN_MAX (1 << 20)	/* bytes of one change */
#define ADMIN_TIMEOUT_NS 10000000000ull
#define ADMIN_CONNS 16

struct px_admin {
	struct px_server *srv;
	struct ev_loop *loop;
	struct ev_io lio;
	pthread_t thread;
	bool running;
	char path[108];
	int nconns;
	struct aconn *conns;
	struct ev_timer spare;		/* a VM made ready after a change, once it answered */
};

static void on_spare(struct ev_loop *loop, struct ev_timer *t)
{
	px_spare_fill(((struct px_admin *)t->data)->srv);
}

struct aconn {
	struct px_admin *a;
	struct aconn *next, **prevp;
	struct ev_io io;
	struct ev_timer timer;
	char *in;
	size_t len, cap;
	char *out;
	size_t outlen, sent;
};

/* ---- what a change is ---- */
static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

/* Everything the configuration words can set, hashed: equal means no change. */
static uint64_t config_hash(const struct px_config *c)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = mix(h, (uint64_t)c->npools);
	for (int p = 0; p < c->npools; p++) {
		const struct lb_pool *pool = c->pools[p];
		h = mix(h, lb_hash(pool->name, strlen(pool->name), 0));
		h = mix(h, (uintptr_t)pool->algo);
		h = mix(h, lb_hash(&c->pools_cfg[p], sizeof(c->pools_cfg[p]), 0));
		for (uint32_t b = 0; b < pool->n; b++) {
			const struct lb_backend *be = &pool->backends[b];
			h = mix(h, (uint64_t)be->ip << 32 | (uint64_t)be->port << 16);
			h = mix(h, (uint64_t)be->weight << 1 | (uint64_t)be->want_enabled);
		}
	}
	h = mix(h, (uint64_t)c->nlisteners);
	for (int i = 0; i < c->nlisteners; i++) {
		const struct px_listener_cfg *l = &c->listeners[i];
		h = mix(h, (uint64_t)l->ip << 32 | (uint64_t)l->port << 8 | l->mode);
		h = mix(h, (uint64_t)(uint32_t)l->pool << 8 | (uint64_t)l->relay);
		h = mix(h, l->body ? lb_hash(l->body, l->bodylen, 0) : 0);
	}
	uint64_t t[] = { c->client_timeout_ns, c->idle_timeout_ns, c->connect_timeout_ns,
			 c->server_timeout_ns, c->backend_idle_ns, c->tcp_idle_ns,
			 c->drain_timeout_ns, (uint64_t)c->max_retries, (uint64_t)c->workers };
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
		h = mix(h, t[i]);
	return h;
}

/* Run one change; the answer goes to out. */
static void run_change(struct px_server *srv, const char *text, size_t len, FILE *out)
{
	char err[2048];
	pthread_mutex_lock(&srv->ctl);
	__atomic_add_fetch(&srv->admin_commands, 1, __ATOMIC_RELAXED);
	struct px_gen *cur = srv->cur;
	/* a replay of what runs, to compare with: the change is the difference */
	struct px_gen *g = px_gen_build(srv, text, len, "admin", out, err, sizeof(err));
	if (!g) {
		fprintf(out, "%s\n", err);
		pthread_mutex_unlock(&srv->ctl);
		px_log_event(PX_LOG_WARN, "admin: rejected, generation %llu keeps running: %s",
			     (unsigned long long)cur->id, err);
		return;
	}
	bool reload = g->ctx->want_reload, upgrade = g->ctx->want_upgrade;
	bool changed = g->ctx->fp_before != afd_fingerprint(g->vm) ||
		       g->ctx->cfg_before != config_hash(g->cfg);
	int rc = 0;
	if (changed) {
		rc = px_gen_commit(srv, g, err, sizeof(err));
		if (rc == 0) {
			__atomic_add_fetch(&srv->reloads, 1, __ATOMIC_RELAXED);
			px_log_event(PX_LOG_INFO, "admin: generation %llu live in %.3f ms (built in "
				     "%.3f ms, taken by every worker in %.3f ms)",
				     (unsigned long long)srv->cur->id,
				     (srv->cur->build_ns + srv->cur->swap_ns) / 1e6,
				     srv->cur->build_ns / 1e6, srv->cur->swap_ns / 1e6);
		} else {
			__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
			fprintf(out, "%s\n", err);
		}
	} else {
		px_gen_put(g);	/* it only looked: nothing to make live */
	}
	pthread_mutex_unlock(&srv->ctl);
	if (rc == 0 && reload)
		rc = px_reload(srv, "admin reload", err, sizeof(err));
	if (rc == 0 && upgrade) {
		rc = px_upgrade(srv, err, sizeof(err));
		if (rc == 0)
			kill(getpid(), SIGUSR2);	/* the main thread drains this process */
	}
	if (rc)
		fprintf(out, "%s\n", err);
	else
		fprintf(out, "ok\n");
}

/* px_gen_build calls this between the replay and the change. */
void px_admin_mark(struct px_vmctx *ctx)
{
	ctx->fp_before = afd_fingerprint(ctx->vm);
	ctx->cfg_before = config_hash(ctx->cfg);
}

/* ---- the socket ---- */
static void aconn_close(struct aconn *c)
{
	struct px_admin *a = c->a;
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	ev_timer_stop(a->loop, &c->timer);
	close(c->io.fd);
	free(c->in);
	free(c->out);
	free(c);
	if (a->nconns-- == ADMIN_CONNS)
		ev_io_set(a->loop, &a->lio, EV_READ);
}

static void answer(struct aconn *c)
{
	FILE *out = open_memstream(&c->out, &c->outlen);
	if (!out) {
		aconn_close(c);
		return;
	}
	if (c->len > ADMIN_MAX)
		fprintf(out, "admin: more than %d bytes: nothing done\n", ADMIN_MAX);
	else
		run_change(c->a->srv, c->in ? c->in : "", c->len, out);
	fclose(out);
	free(c->in);
	c->in = NULL;
	c->sent = 0;
	ev_io_set(c->a->loop, &c->io, EV_WRITE);
	ev_timer_in(c->a->loop, &c->a->spare, 2000000);
}

static void on_aconn(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct aconn *c = io->data;
	if (c->out) {		/* writing the answer */
		ssize_t n = send(io->fd, c->out + c->sent, c->outlen - c->sent, MSG_NOSIGNAL);
		if (n > 0)
			c->sent += (size_t)n;
		if ((n < 0 && errno != EAGAIN) || c->sent == c->outlen)
			aconn_close(c);
		return;
	}
	for (;;) {		/* reading the change, to the end of its stream */
		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 8192;
			char *p = c->len <= ADMIN_MAX ? realloc(c->in, cap) : c->in;
			if (!p) {
				aconn_close(c);
				return;
			}
			if (c->len <= ADMIN_MAX) {
				c->in = p;
				c->cap = cap;
			} else {
				c->len = ADMIN_MAX + 1;	/* too much: read on, keep nothing */
			}
		}
		ssize_t n = recv(io->fd, c->in + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			aconn_close(c);
			return;
		}
		answer(c);	/* the end of the change */
		return;
	}
}

static void on_aconn_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	aconn_close(t->data);
}

static void on_admin_accept(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_admin *a = io->data;
	while (a->nconns < ADMIN_CONNS) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cred;	/* the socket's mode says who; this makes sure */
		socklen_t clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
		    (cred.uid != 0 && cred.uid != geteuid())) {
			close(fd);
			continue;
		}
		struct aconn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->a = a;
		ev_io_init(&c->io, fd, on_aconn, c);
		ev_timer_init(&c->timer, on_aconn_timeout, c);
		if (ev_io_set(loop, &c->io, EV_READ) < 0) {
			close(fd);
			free(c);
			return;
		}
		ev_timer_in(loop, &c->timer, ADMIN_TIMEOUT_NS);
		c->next = a->conns;
		if (c->next)
			c->next->prevp = &c->next;
		c->prevp = &a->conns;
		a->conns = c;
		if (++a->nconns == ADMIN_CONNS)
			ev_io_set(loop, &a->lio, 0);	/* full: the kernel queues the rest */
	}
}

/* A socket at path, owner only. An existing socket file (a stale one, or the process this
 * one upgrades) is replaced; any other file is an error. */
static int admin_listen(struct px_admin *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(a->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, a->path);
	struct stat st;
	if (lstat(a->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(a->path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);	/* created 0600: no moment with a wider mode */
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(a->path, 0600) < 0 || listen(fd, 16) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	ev_io_init(&a->lio, fd, on_admin_accept, a);
	return ev_io_set(a->loop, &a->lio, EV_READ);
}

static void *admin_main(void *arg)
{
	px_thread_loop(((struct px_admin *)arg)->loop);
	return NULL;
}

static void stop_loop(struct ev_loop *loop, void *arg) { ev_stop(loop); }

static void admin_free(struct px_admin *a)
{
	while (a->conns)
		aconn_close(a->conns);
	if (a->lio.fd >= 0) {
		close(a->lio.fd);
		struct stat st;	/* ours still (an upgraded process may have replaced it) */
		if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode) && !a->srv->upgraded)
			unlink(a->path);
	}
	if (a->loop)
		ev_loop_free(a->loop);
	free(a);
}

int px_admin_start(struct px_server *srv, const char *path, struct px_admin **ap)
{
	*ap = NULL;
	struct px_admin *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->srv = srv;
	a->lio.fd = -1;
	ev_timer_init(&a->spare, on_spare, a);
	snprintf(a->path, sizeof(a->path), "%s", path);
	int err = strlen(path) < sizeof(a->path) ? 0 : -ENAMETOOLONG;
	if (!err && !(a->loop = ev_loop_new()))
		err = -ENOMEM;
	if (!err)
		err = admin_listen(a);
	if (!err)
		err = -pthread_create(&a->thread, NULL, admin_main, a);
	if (err) {
		admin_free(a);
		return err;
	}
	a->running = true;
	px_log_event(PX_LOG_INFO, "admin socket %s", path);
	*ap = a;
	return 0;
}

void px_admin_stop(struct px_admin *a)
{
	if (!a)
		return;
	if (a->running) {
		ev_call(a->loop, stop_loop, NULL);
		pthread_join(a->thread, NULL);
	}
	admin_free(a);
}

/* ---- the operators' words ---- */
#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)

static struct px_vmctx *vmctx(void *ctx) { return ctx; }

/* In a worker's replay (px_replaying) the sources ran already in the VM that built the
 * configuration, against the configuration as it was then: here changes are skipped and
 * lookups of what is gone since do not fail. */
static bool replaying(const struct px_vmctx *x) { return px_replaying(x); }

static int out(afd_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int out(afd_vm *vm, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	afd_cell xt = afd_find(vm, "type", 4);
	int err = afd_push_string(vm, buf, (size_t)n);
	return err ? err : afd_execute(vm, xt);
}

static const char *ipstr(uint32_t ip, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

static int pool_of(struct px_vmctx *x, afd_cell h)
{
	int i = (int)(h & 0xffff);
	return (h & PX_TAG_MASK) == PX_POOL_TAG && i < x->cfg->npools ? i : -1;
}

static int backend_of(struct px_vmctx *x, afd_cell h, int *pool)
{
	return px_backend_of(x->cfg, h, pool);
}

/* The requests a backend got, summed over the workers' current generations (by address:
 * the running generation's indices may differ from this one's). */
static uint64_t backend_requests(struct px_vmctx *x, const char *pool, const struct lb_backend *be)
{
	struct px_server *srv = x->srv;
	if (!srv)
		return 0;
	uint64_t n = 0;
	pthread_mutex_lock(&srv->mu);
	for (int w = 0; w < srv->nworkers; w++) {
		struct px_wgen *g = srv->ws[w].cur;
		int p = g ? px_map_pool(g->cfg, pool) : -1;
		for (uint32_t b = 0; p >= 0 && b < g->cfg->pools[p]->n; b++) {
			const struct lb_backend *o = &g->cfg->pools[p]->backends[b];
			if (o->ip == be->ip && o->port == be->port)
				n += __atomic_load_n(&g->stats.backends[p][b].requests, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&srv->mu);
	return n;
}

/* backends. ( -- ) every pool and backend: state, weight, connections, counters */
static int a_backends(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	const struct px_config *cfg = x->cfg;
	char ip[16];
	int err = 0;
	for (int p = 0; p < cfg->npools && !err; p++) {
		const struct lb_pool *pool = cfg->pools[p];
		err = out(vm, "pool %s  %s  %u backend%s\n", pool->name, pool->algo->name, pool->n,
			  pool->n == 1 ? "" : "s");
		for (uint32_t b = 0; b < pool->n && !err; b++) {
			const struct lb_backend *be = &pool->backends[b];
			int up = __atomic_load_n(&be->st->up, __ATOMIC_RELAXED);
			int en = be->want_enabled;
			int64_t act = __atomic_load_n(&be->st->active, __ATOMIC_RELAXED);
			const char *admin = en ? "enabled" : act > 0 ? "draining" : "disabled";
			err = out(vm, "  %s:%u  weight %u  %s  %s  active %lld  requests %llu\n",
				  ipstr(be->ip, ip), be->port, be->weight, up ? "up" : "down", admin,
				  (long long)(act < 0 ? 0 : act),
				  (unsigned long long)backend_requests(x, pool->name, be));
		}
	}
	return err;
}

/* find-backend ( pool ip port -- backend ) the pool's backend at that address */
static int a_find_backend(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	afd_cell h, ip, port;
	POP(port);
	POP(ip);
	POP(h);
	int p = pool_of(x, h);
	if (p < 0)
		return -12;
	const struct lb_pool *pool = x->cfg->pools[p];
	for (uint32_t b = 0; b < pool->n; b++)
		if (pool->backends[b].ip == (uint32_t)ip && pool->backends[b].port == port)
			return afd_push(vm, PX_BACKEND_TAG | ((afd_cell)p << 24) | b);
	return replaying(x) ? afd_push(vm, 0) : AFD_THROW_NOT_FOUND;
}

static int set_weight(struct px_vmctx *x, afd_cell h, afd_cell w)
{
	int p, b = backend_of(x, h, &p);
	if (b < 0)
		return -12;
	if (w < 0 || w > 1000000)
		return -24;
	return lb_pool_set_weight(x->cfg->pools[p], (uint32_t)b, (uint32_t)w) < 0 ? -24 : 0;
}

/* set-weight ( backend weight -- ) */
static int a_set_weight(afd_vm *vm, void *ctx)
{
	afd_cell h, w;
	POP(w);
	POP(h);
	return replaying(vmctx(ctx)) ? 0 : set_weight(vmctx(ctx), h, w);
}

/* update-weights ( backend1 weight1 ... backendN weightN n -- ) all or none */
static int a_update_weights(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	afd_cell n;
	POP(n);
	if (n < 0 || n > afd_depth(vm) / 2)
		return -4;
	afd_cell *pairs = malloc((size_t)(n + 1) * 2 * sizeof(*pairs));
	if (!pairs)
		return -8;
	for (afd_cell i = n - 1; i >= 0; i--) {
		afd_pop(vm, &pairs[2 * i + 1]);
		afd_pop(vm, &pairs[2 * i]);
	}
	int err = 0;
	if (replaying(x))
		n = 0;
	for (afd_cell i = 0; i < n && !err; i++) {	/* check all first */
		int p;
		if (backend_of(x, pairs[2 * i], &p) < 0)
			err = -12;
		else if (pairs[2 * i + 1] < 0 || pairs[2 * i + 1] > 1000000)
			err = -24;
	}
	for (afd_cell i = 0; i < n && !err; i++)
		err = set_weight(x, pairs[2 * i], pairs[2 * i + 1]);
	free(pairs);
	return err;
}

/* Pop a backend handle: 0 and its pool and index, 1 in a replay (nothing to do), or a
 * THROW code. */
static int pop_backend(afd_vm *vm, struct px_vmctx *x, bool replay_skips, int *p, int *b)
{
	afd_cell h;
	POP(h);
	if (replay_skips && replaying(x))
		return 1;
	*b = backend_of(x, h, p);
	return *b < 0 ? -12 : 0;
}

/* remove-backend ( backend -- ) its connections finish; it gets no new ones */
static int a_remove_backend(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	int p, b, err = pop_backend(vm, x, true, &p, &b);
	if (err)
		return err > 0 ? 0 : err;
	return lb_pool_remove(x->cfg->pools[p], (uint32_t)b) < 0 ? -12 : 0;
}

/* backend-drain ( backend -- ) no new connections; the ones open finish (see backends.) */
static int a_drain(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	int p, b, err = pop_backend(vm, x, true, &p, &b);
	if (err)
		return err > 0 ? 0 : err;
	x->cfg->pools[p]->backends[b].want_enabled = 0;
	return 0;
}

/* active-connections ( backend -- n ) connections open to it now, all workers */
static int a_active(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	int p, b, err = pop_backend(vm, x, false, &p, &b);
	if (err)
		return err;
	int64_t n = __atomic_load_n(&x->cfg->pools[p]->backends[b].st->active, __ATOMIC_RELAXED);
	return afd_push(vm, n < 0 ? 0 : n);
}

/* generation ( -- n ) the configuration generation serving now (0 before serving) */
static int a_generation(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	return afd_push(vm, x->srv && x->srv->cur ? (afd_cell)x->srv->cur->id : 0);
}

/* show-config ( -- ) the running generation and the sources it was loaded from */
static int a_show_config(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	struct px_server *srv = x->srv;
	if (!srv)
		return -21;
	const struct px_gen *g = srv->cur;
	time_t t = (time_t)g->loaded_at;
	struct tm tm;
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	int err = out(vm, "generation %llu (%s, %s, built in %.3f ms)\n",
		      (unsigned long long)g->id, g->origin, when, g->build_ns / 1e6);
	afd_vm *h = g->vm ? g->vm : srv->start->vm;
	const char *name, *text;
	size_t len;
	int n = afd_history(h, 0, &name, &text, &len);
	for (int i = 0; i < n && !err; i++) {
		afd_history(h, i, &name, &text, &len);
		err = out(vm, "\\ ---- %s (%zu bytes)\n", name, len);
		for (size_t off = 0; off < len && !err; off += 400)
			err = out(vm, "%.*s", (int)(len - off < 400 ? len - off : 400), text + off);
		if (!err && len && text[len - 1] != '\n')
			err = out(vm, "\n");
	}
	return err;
}

static int a_reload(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	if (!x->admin)
		return AFD_THROW_NOT_HERE;
	x->want_reload = true;
	return 0;
}

static int a_upgrade(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = vmctx(ctx);
	if (!x->admin)
		return AFD_THROW_NOT_HERE;
	x->want_upgrade = true;
	return 0;
}

int px_register_admin_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "backends.", "( -- )", a_backends },
		{ "find-backend", "( pool ip port -- backend )", a_find_backend },
		{ "set-weight", "( backend weight -- )", a_set_weight },
		{ "update-weights", "( backend1 weight1 ... backendN weightN n -- )",
		  a_update_weights },
		{ "remove-backend", "( backend -- )", a_remove_backend },
		{ "backend-drain", "( backend -- )", a_drain },
		{ "active-connections", "( backend -- n )", a_active },
		{ "generation", "( -- n )", a_generation },
		{ "show-config", "( -- )", a_show_config },
		{ "reload", "( -- )", a_reload },
		{ "upgrade", "( -- )", a_upgrade },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}
