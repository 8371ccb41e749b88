/* worker.c: a worker thread: its event loop, listening sockets, buffers, the idle
 * connections it keeps to backends, and its own Forth VM for routing words. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dp/sockmap.h"
#include "px.h"

#define MAX_FREE_BUFS 64

uint64_t px_rand(struct px_worker *w)	/* xorshift64* */
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ull;
}

/* ---- buffers: only while data is in flight ---- */
struct px_buf *px_buf_get(struct px_worker *w)
{
	struct px_buf *b = w->freebufs;
	if (b) {
		w->freebufs = b->next;
		w->nfreebufs--;
	} else if (!(b = malloc(sizeof(*b)))) {
		return NULL;
	}
	b->start = b->end = 0;
	b->next = NULL;
	return b;
}

void px_buf_put(struct px_worker *w, struct px_buf *b)
{
	if (!b)
		return;
	if (w->nfreebufs >= MAX_FREE_BUFS) {
		free(b);
		return;
	}
	b->next = w->freebufs;
	w->freebufs = b;
	w->nfreebufs++;
}

/* One recv into b's free space below limit. Sockets are edge-triggered: a short read means
 * the kernel has no more for now and clears *ready, unless the peer shut its side (its end
 * of stream may be queued behind the data, and no new edge would announce it). */
ssize_t px_buf_recv(int fd, struct px_buf *b, size_t limit, bool *ready, bool hup)
{
	size_t want = limit - b->end;
	ssize_t n = recv(fd, b->data + b->end, want, 0);
	if (n > 0) {
		b->end += (uint32_t)n;
		if ((size_t)n < want && !hup)
			*ready = false;
		return n;
	}
	if (n < 0 && errno == EAGAIN) {
		*ready = false;
		return -EAGAIN;
	}
	return n < 0 ? -errno : 0;
}

/* One send of b->data[start..upto); a short write clears *ready. */
ssize_t px_buf_send(int fd, struct px_buf *b, uint32_t upto, bool *ready)
{
	size_t want = upto - b->start;
	ssize_t n = send(fd, b->data + b->start, want, MSG_NOSIGNAL);
	if (n > 0) {
		b->start += (uint32_t)n;
		if ((size_t)n < want)
			*ready = false;
		return n;
	}
	if (n < 0 && errno == EAGAIN) {
		*ready = false;
		return -EAGAIN;
	}
	return n < 0 ? -errno : 0;
}

/* ---- connection objects: per-worker free lists by size class (64-byte steps) ---- */
#define OBJ_CLASSES 16		/* up to 1 KiB; larger objects come from calloc */
#define OBJ_KEEP 4096		/* free objects kept per class: a burst's worth */

struct obj {
	struct obj *next;
};

static unsigned obj_class(size_t size) { return (unsigned)((size + 63) / 64); }

void *px_obj_get(struct px_worker *w, size_t size)
{
	unsigned k = obj_class(size);
	if (k >= OBJ_CLASSES)
		return calloc(1, size);
	struct obj *o = w->objs[k];
	if (!o)
		return calloc(1, (size_t)k * 64);
	w->objs[k] = o->next;
	w->nobjs[k]--;
	memset(o, 0, (size_t)k * 64);
	return o;
}

void px_obj_put(struct px_worker *w, void *p, size_t size)
{
	unsigned k = obj_class(size);
	if (!p)
		return;
	if (k >= OBJ_CLASSES || w->nobjs[k] >= OBJ_KEEP) {
		free(p);
		return;
	}
	struct obj *o = p;
	o->next = w->objs[k];
	w->objs[k] = o;
	w->nobjs[k]++;
}

static void objs_free(struct px_worker *w)
{
	for (unsigned k = 0; k < OBJ_CLASSES; k++)
		while (w->objs[k]) {
			struct obj *o = w->objs[k];
			w->objs[k] = o->next;
			free(o);
		}
}

/* ---- deferred frees: an event batch may still hold pointers to a closed connection ---- */
struct grave {
	struct grave *next;
	void *conn;
	void (*free_fn)(void *);
};

void px_bury(struct px_worker *w, void *conn, void (*free_fn)(void *))
{
	struct grave *g = px_obj_get(w, sizeof(*g));
	if (!g) {	/* cannot defer: leak rather than risk a use after free */
		return;
	}
	g->conn = conn;
	g->free_fn = free_fn;
	g->next = w->graveyard;
	w->graveyard = g;
	if (!ev_timer_armed(&w->reaper))
		ev_timer_in(w->loop, &w->reaper, 0);
}

static void reap(struct ev_loop *loop, struct ev_timer *t)
{
	struct px_worker *w = t->data;
	struct grave *g = w->graveyard;
	w->graveyard = NULL;
	while (g) {
		struct grave *next = g->next;
		g->free_fn(g->conn);
		px_obj_put(w, g, sizeof(*g));
		g = next;
	}
}

/* ---- client connections open now ---- */
void px_live_add(struct px_worker *w, struct px_live *l, void (*close_fn)(void *),
		 void (*drain_fn)(void *))
{
	l->w = w;
	l->close = close_fn;
	l->drain = drain_fn;
	l->next = w->live;
	if (l->next)
		l->next->prevp = &l->next;
	l->prevp = &w->live;
	w->live = l;
}

void px_live_del(struct px_live *l)
{
	if (!l->prevp)
		return;
	*l->prevp = l->next;
	if (l->next)
		l->next->prevp = l->prevp;
	l->prevp = NULL;
	if (l->w->draining && !l->w->live)
		ev_stop(l->w->loop);	/* the last connection of a draining worker */
}

/* ---- sockets ---- */
static void set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int px_connect(struct px_worker *w, const struct lb_backend *b)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_nodelay(fd);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(b->port),
				  .sin_addr.s_addr = htonl(b->ip) };
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int px_listen_new(const struct px_listener_cfg *l)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(l->port),
				  .sin_addr.s_addr = htonl(l->ip) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void on_accept(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_listener *l = io->data;
	for (int i = 0; i < 64 && io->fd >= 0; i++) {	/* bounded: other listeners get a turn */
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(io->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;	/* EAGAIN, or a transient error (EMFILE...): try again later */
		if (px_policy_accept(l->g->cfg, l->cfg, ntohl(sa.sin_addr.s_addr))) {
			close(fd);	/* an access list refuses it: not a byte read */
			continue;
		}
		px_count(&l->g->stats.listeners[l - l->g->listeners].accepted, 1);
		set_nodelay(fd);
		switch (l->cfg->mode) {
		case PX_HTTP: px_http_accept(l, fd, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)); break;
		case PX_TCP: px_tcp_accept(l, fd, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)); break;
		case PX_STATIC: px_static_accept(l, fd); break;
		}
	}
}

/* ---- backend connections and the idle pool, per pool and backend ---- */
static void idle_unlink(struct px_sconn *s)
{
	if (!s->prevp)
		return;
	*s->prevp = s->next;
	if (s->next)
		s->next->prevp = s->prevp;
	s->prevp = NULL;
	s->next = NULL;
}

static void sconn_free(void *p)
{
	struct px_sconn *s = p;
	px_obj_put(s->w, s, sizeof(*s));
}

void px_sconn_close(struct px_sconn *s)
{
	if (s->closed)
		return;
	s->closed = true;
	ev_timer_stop(s->w->loop, &s->timer);
	idle_unlink(s);
	close(s->io.fd);	/* the only descriptor: it leaves epoll too */
	s->owner = NULL;
	px_bury(s->w, s, sconn_free);
}

/* Events of a backend connection go to its owner; while idle, any sign of life (the
 * backend closed it, or sent what nobody asked for) ends it. */
static void on_sconn(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_sconn *s = io->data;
	if (events & (EV_READ | EV_RDHUP | EV_HUP | EV_ERR))
		s->rd = true;
	if (events & (EV_RDHUP | EV_HUP | EV_ERR))
		s->hup = true;
	if (events & (EV_WRITE | EV_HUP | EV_ERR))
		s->wr = true;
	if (s->closed)
		return;
	if (s->owner)
		px_http_server_event(s->owner);
	else if (s->rd)
		px_sconn_close(s);
}

static void on_sconn_idle_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	px_sconn_close(t->data);
}

struct px_sconn *px_sconn_open(struct px_wgen *g, int pool, int backend)
{
	struct px_worker *w = g->w;
	int fd = px_connect(w, &g->cfg->pools[pool]->backends[backend]);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	struct px_sconn *s = px_obj_get(w, sizeof(*s));
	if (!s) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	s->w = w;
	s->g = g;
	s->pool = pool;
	s->backend = backend;
	ev_io_init(&s->io, fd, on_sconn, s);
	ev_timer_init(&s->timer, on_sconn_idle_timeout, s);
	int err = ev_io_set(w->loop, &s->io, EV_READ | EV_WRITE | EV_RDHUP | EV_ET);
	if (err) {
		close(fd);
		px_obj_put(w, s, sizeof(*s));
		errno = -err;
		return NULL;
	}
	return s;
}

struct px_sconn *px_idle_take(struct px_wgen *g, int pool, int backend)
{
	struct px_sconn *s = g->idle[pool][backend];
	if (!s)
		return NULL;
	idle_unlink(s);
	ev_timer_stop(g->w->loop, &s->timer);
	return s;
}

static void idle_link(struct px_sconn *s)
{
	struct px_sconn **head = &s->g->idle[s->pool][s->backend];
	s->next = *head;
	if (s->next)
		s->next->prevp = &s->next;
	s->prevp = head;
	*head = s;
}

/* Kept for the next request, in the current generation only (one that is going away
 * would close it soon anyway). */
void px_idle_put(struct px_sconn *s)
{
	struct px_worker *w = s->w;
	s->owner = NULL;
	if (s->g != w->cur) {
		px_sconn_close(s);
		return;
	}
	idle_link(s);
	ev_timer_in(w->loop, &s->timer, s->g->cfg->backend_idle_ns);
}

static void worker_sockmap(struct px_worker *w, const struct px_config *cfg);

/* ---- generations, as this worker sees them ---- */
static void vm_discard(void *host, const char *buf, size_t len) {}

static void wvm_put(struct px_wvm *v)
{
	if (v && --v->refs == 0) {
		afd_free(v->vm);
		free(v);
	}
}

/* The generation's sources replayed: the same word definitions as its main VM. */
static int wgen_vm(struct px_wgen *g)
{
	struct px_wgen *cur = g->w->cur;
	if (g->gen->same_vm && cur && cur->wvm && cur->gen->id == g->gen->prev_id) {
		g->wvm = cur->wvm;	/* the change touched no word: share it */
		g->wvm->refs++;
		g->vm = g->wvm->vm;
		g->route_xt = g->wvm->route_xt;
		return 0;
	}
	afd_vm *h = g->gen->vm ? g->gen->vm : g->w->srv->start->vm;
	struct afd_opts o = { .sz = sizeof(o), .write = vm_discard,
			      .data_size = g->w->srv->start->data_size };
	struct px_wvm *v = calloc(1, sizeof(*v));
	if (!v || !(v->vm = afd_new(&o))) {
		free(v);
		return -ENOMEM;
	}
	v->refs = 1;
	g->wvm = v;
	g->vm = v->vm;
	afd_set_history(v->vm, 0);
	v->ctx.cfg = g->cfg;
	v->ctx.w = g->w;
	v->ctx.g = g;
	v->ctx.vm = v->vm;
	if (px_register_words(v->vm, &v->ctx) < 0)
		return -ENOMEM;
	const char *name, *text;
	size_t len;
	int n = afd_history(h, 0, &name, &text, &len);
	for (int i = 0; i < n; i++) {
		afd_history(h, i, &name, &text, &len);
		int err = afd_eval(v->vm, text, len, name);
		if (err && err != AFD_THROW_BYE) {	/* BYE: handle-requests ends a source */
			char msg[512];
			afd_format_error(v->vm, msg, sizeof(msg));
			px_log_event(PX_LOG_WARN, "worker %d: replaying %s: %s", g->w->id, name, msg);
		}
	}
	afd_cell xt = afd_find(v->vm, "handle-http-request", 19);
	v->route_xt = g->route_xt = xt > 0 ? xt : 0;
	afd_set_max_steps(v->vm, 1000000);	/* a routing word must not hang a worker */
	return 0;
}

/* Stop accepting on the generation's listening sockets and close them. */
static void close_listeners(struct px_wgen *g)
{
	for (int i = 0; g->listeners && i < g->cfg->nlisteners; i++)
		if (g->listeners[i].io.fd >= 0) {
			ev_io_set(g->w->loop, &g->listeners[i].io, 0);
			close(g->listeners[i].io.fd);
			g->listeners[i].io.fd = -1;
		}
}

static void wgen_free(struct px_wgen *g)
{
	struct px_config *cfg = g->cfg;
	close_listeners(g);
	for (int p = 0; g->idle && p < cfg->npools; p++) {
		for (uint32_t b = 0; g->idle[p] && b < cfg->pools[p]->n; b++)
			while (g->idle[p][b])
				px_sconn_close(g->idle[p][b]);
		free(g->idle[p]);
	}
	for (int p = 0; g->pickers && p < cfg->npools; p++)
		lb_picker_fini(&g->pickers[p]);
	free(g->idle);
	free(g->pickers);
	free(g->listeners);
	px_stats_fini(&g->stats, cfg);
	wvm_put(g->wvm);
	px_gen_put(g->gen);
	free(g);
}

static void wgen_free_cb(void *g) { wgen_free(g); }

struct px_wgen *px_wgen_prepare(struct px_worker *w, struct px_gen *gen)
{
	struct px_wgen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	struct px_config *cfg = gen->cfg;
	__atomic_add_fetch(&gen->refs, 1, __ATOMIC_RELAXED);
	g->gen = gen;
	g->cfg = cfg;
	g->w = w;
	g->refs = 1;
	g->pickers = calloc((size_t)cfg->npools + 1, sizeof(*g->pickers));
	g->idle = calloc((size_t)cfg->npools + 1, sizeof(*g->idle));
	g->listeners = calloc((size_t)cfg->nlisteners + 1, sizeof(*g->listeners));
	if (!g->pickers || !g->idle || !g->listeners || px_stats_init(&g->stats, cfg) < 0) {
		g->err = -ENOMEM;
		return g;
	}
	for (int i = 0; i < cfg->nlisteners; i++)
		g->listeners[i].io.fd = -1;
	for (int p = 0; p < cfg->npools; p++) {
		lb_picker_init(&g->pickers[p], cfg->pools[p]);
		if (!(g->idle[p] = calloc(cfg->pools[p]->n + 1, sizeof(**g->idle)))) {
			g->err = -ENOMEM;
			return g;
		}
	}
	/* addresses the running generation does not listen on yet: open them now, so a port
	 * in use fails the change before anything else changed */
	const struct px_config *old = w->cur ? w->cur->cfg : NULL;
	for (int i = 0; i < cfg->nlisteners; i++) {
		struct px_listener *l = &g->listeners[i];
		l->g = g;
		l->cfg = &cfg->listeners[i];
		if (w->draining || px_map_listener(old, l->cfg) >= 0)
			continue;
		int fd = px_listen_fd(w->srv, l->cfg);
		if (fd < 0) {
			g->err = fd;
			return g;
		}
		ev_io_init(&l->io, fd, on_accept, l);
	}
	if (gen->has_route)
		g->err = wgen_vm(g);
	return g;
}

void px_wgen_discard(struct px_wgen *g)
{
	if (g)
		wgen_free(g);
}

/* The last connection of a generation that is no longer current is gone: what it counted
 * since it stopped being current goes to the current one, then it is freed (after this
 * event batch: a pending event may still name one of its listeners). */
void px_wgen_put(struct px_wgen *g)
{
	if (--g->refs > 0)
		return;
	struct px_worker *w = g->w;
	if (w->cur && w->cur != g) {	/* what it counted since it was current */
		bool owned;
		int **map = px_gen_map(w->cur->gen, g->gen, &owned);
		px_stats_fold(&w->cur->stats, w->cur->cfg, &g->stats, g->cfg, map);
		if (owned)
			px_map_free(map, w->cur->cfg);
	}
	px_bury(w, g, wgen_free_cb);
}

/* For each backend of the old pool, its index in the new one or -1: map inverted. */
static int *invert(const int *map, uint32_t n, uint32_t oldn)
{
	int *inv = malloc((oldn + 1) * sizeof(*inv));
	if (!inv)
		return NULL;
	for (uint32_t i = 0; i < oldn; i++)
		inv[i] = -1;
	for (uint32_t k = 0; map && k < n; k++)
		if (map[k] >= 0)
			inv[map[k]] = (int)k;
	return inv;
}

void px_wgen_adopt(struct px_worker *w, struct px_wgen *g)
{
	struct px_wgen *old = w->cur;
	const struct px_config *cfg = g->cfg;
	if (old) {
		/* counters go on from where they were; the old ones start again from zero, so
		 * what its connections still count is added when the last of them ends (only
		 * this thread writes them; the metrics thread waits on srv->mu meanwhile) */
		bool owned;
		int **map = px_gen_map(g->gen, old->gen, &owned);
		px_stats_fold(&g->stats, cfg, &old->stats, old->cfg, map);
		px_stats_zero(&old->stats, old->cfg);
		/* listening sockets of addresses kept: the same socket, never a moment unbound */
		for (int i = 0; i < old->cfg->nlisteners; i++) {
			struct px_listener *ol = &old->listeners[i];
			int k = px_map_listener(cfg, ol->cfg);
			if (ol->io.fd < 0)
				continue;
			ev_io_set(w->loop, &ol->io, 0);
			if (k >= 0 && g->listeners[k].io.fd < 0 && !w->draining)
				ev_io_init(&g->listeners[k].io, ol->io.fd, on_accept, &g->listeners[k]);
			else
				close(ol->io.fd);
			ol->io.fd = -1;
		}
		/* idle backend connections of backends kept */
		for (int p = 0; p < old->cfg->npools; p++) {
			int np = px_map_pool(cfg, old->cfg->pools[p]->name);
			int *inv = np >= 0 && map && map[np] ? invert(map[np], cfg->pools[np]->n,
								       old->cfg->pools[p]->n) : NULL;
			for (uint32_t b = 0; b < old->cfg->pools[p]->n; b++) {
				int nb = inv ? inv[b] : -1;
				while (old->idle[p][b]) {
					struct px_sconn *s = old->idle[p][b];
					if (nb < 0) {
						px_sconn_close(s);
						continue;
					}
					idle_unlink(s);
					s->g = g;
					s->pool = np;
					s->backend = nb;
					idle_link(s);
				}
			}
			free(inv);
		}
		if (owned)
			px_map_free(map, cfg);
		px_health_stop(w);
	}
	for (int i = 0; i < cfg->nlisteners; i++)
		if (g->listeners[i].io.fd >= 0)
			ev_io_set(w->loop, &g->listeners[i].io, EV_READ);
	w->cur = g;
	worker_sockmap(w, cfg);
	if (px_health_start(w) < 0)
		px_log_event(PX_LOG_ERROR, "worker %d: no memory for health checks", w->id);
	if (px_alog_sync(w) < 0)	/* the access log as the generation has it (access.c) */
		px_log_event(PX_LOG_ERROR, "worker %d: no memory for the access log", w->id);
	if (old)
		px_wgen_put(old);
}

/* A connection between two requests moves to the current generation if its listener is
 * still there; *listener becomes its index in the new one. */
struct px_wgen *px_wgen_switch(struct px_wgen *from, int *listener)
{
	struct px_wgen *cur = from->w->cur;
	if (cur == from || !cur)
		return from;
	int k = px_map_listener(cur->cfg, &from->cfg->listeners[*listener]);
	if (k < 0)
		return from;
	*listener = k;
	cur->refs++;
	px_wgen_put(from);
	return cur;
}

/* The body of every proxy thread: its loop, with signals left to the main thread. */
void px_thread_loop(struct ev_loop *loop)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ev_run(loop);
}

static void *worker_main(void *arg)
{
	px_thread_loop(((struct px_worker *)arg)->loop);
	return NULL;
}

/* The kernel relay, once a tcp-mode listener wants it: the worker's own maps. Without it
 * (not root, no BPF sockmap) tcp-mode relays in userspace, said once on stderr. */
#define SOCKMAP_PAIRS 32768
static void worker_sockmap(struct px_worker *w, const struct px_config *cfg)
{
	static int told;
	char why[256];
	if (w->sockmap)
		return;
	for (int i = 0; i < cfg->nlisteners; i++)
		if (px_tcp_kernel_relay(&cfg->listeners[i])) {
			w->sockmap = dp_sockmap_open(SOCKMAP_PAIRS, why, sizeof(why));
			if (!w->sockmap && !__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
				px_log_event(PX_LOG_WARN, "kernel-relay unavailable (%.160s): tcp-mode "
					     "relays in userspace", why);
			return;
		}
}

int px_worker_init(struct px_worker *w, int id, struct px_server *srv)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->nworkers = srv->nworkers;
	w->srv = srv;
	w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)id << 32) ^ ev_clock();
	w->loop = ev_loop_new();
	if (!w->loop)
		return -ENOMEM;
	ev_timer_init(&w->reaper, reap, w);
	return 0;
}

int px_worker_start(struct px_worker *w)
{
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

static void stop_loop(struct ev_loop *loop, void *arg) { ev_stop(loop); }

/* On the worker's thread: stop accepting, let every connection finish what it is doing. */
static void drain(struct ev_loop *loop, void *arg)
{
	struct px_worker *w = arg;
	w->draining = true;
	if (w->cur)
		close_listeners(w->cur);
	for (struct px_live *l = w->live, *next; l; l = next) {
		next = l->next;	/* draining may close it at once */
		if (l->drain)
			l->drain(l);
	}
	if (!w->live)
		ev_stop(loop);
}

void px_worker_drain(struct px_worker *w, bool soft)
{
	w->soft_drain = soft;
	if (w->thread)
		ev_call(w->loop, drain, w);
}

void px_worker_stop(struct px_worker *w)
{
	if (w->thread) {
		ev_call(w->loop, stop_loop, NULL);
		pthread_join(w->thread, NULL);
	}
}

void px_worker_fini(struct px_worker *w)
{
	w->draining = false;	/* closing what is left must not stop a loop that is gone */
	while (w->live)		/* each close unlinks itself */
		w->live->close(w->live);
	px_health_stop(w);
	px_alog_fini(w);	/* after the connections above: their last lines */
	if (w->cur) {
		struct px_wgen *g = w->cur;
		w->cur = NULL;
		px_wgen_put(g);
	}
	while (w->loop && w->graveyard)	/* freeing a generation buries its connections */
		reap(w->loop, &w->reaper);
	while (w->freebufs) {
		struct px_buf *next = w->freebufs->next;
		free(w->freebufs);
		w->freebufs = next;
	}
	objs_free(w);
	dp_sockmap_close(w->sockmap);	/* after the connections: they were in it */
	ev_loop_free(w->loop);
}
