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

/* ---- deferred frees: an event batch may still hold pointers to a closed connection ---- */
struct grave {
	struct grave *next;
	void *conn;
	void (*free_fn)(void *);
};

void px_bury(struct px_worker *w, void *conn, void (*free_fn)(void *))
{
	struct grave *g = malloc(sizeof(*g));
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
		free(g);
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

static int listen_on(const struct px_listener_cfg *l)
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
	for (int i = 0; i < 64; i++) {	/* bounded: other listeners get their turn */
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(io->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;	/* EAGAIN, or a transient error (EMFILE...): try again later */
		if (px_policy_accept(l->w->cfg, l->cfg, ntohl(sa.sin_addr.s_addr))) {
			close(fd);	/* an access list refuses it: not a byte read */
			continue;
		}
		px_count(&l->w->stats.listeners[l - l->w->listeners].accepted, 1);
		set_nodelay(fd);
		switch (l->cfg->mode) {
		case PX_HTTP: px_http_accept(l->w, fd, l->cfg, ntohl(sa.sin_addr.s_addr)); break;
		case PX_TCP: px_tcp_accept(l->w, fd, l->cfg, ntohl(sa.sin_addr.s_addr)); break;
		case PX_STATIC: px_static_accept(l->w, fd, l->cfg); break;
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

static void sconn_free(void *p) { free(p); }

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

struct px_sconn *px_sconn_open(struct px_worker *w, int pool, int backend)
{
	int fd = px_connect(w, &w->cfg->pools[pool]->backends[backend]);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	struct px_sconn *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	s->w = w;
	s->pool = pool;
	s->backend = backend;
	ev_io_init(&s->io, fd, on_sconn, s);
	ev_timer_init(&s->timer, on_sconn_idle_timeout, s);
	int err = ev_io_set(w->loop, &s->io, EV_READ | EV_WRITE | EV_RDHUP | EV_ET);
	if (err) {
		close(fd);
		free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

struct px_sconn *px_idle_take(struct px_worker *w, int pool, int backend)
{
	struct px_sconn *s = w->idle[pool][backend];
	if (!s)
		return NULL;
	idle_unlink(s);
	ev_timer_stop(w->loop, &s->timer);
	return s;
}

void px_idle_put(struct px_sconn *s)
{
	struct px_worker *w = s->w;
	s->owner = NULL;
	s->next = w->idle[s->pool][s->backend];
	if (s->next)
		s->next->prevp = &s->next;
	s->prevp = &w->idle[s->pool][s->backend];
	w->idle[s->pool][s->backend] = s;
	ev_timer_in(w->loop, &s->timer, w->cfg->backend_idle_ns);
}

/* ---- the worker's Forth VM: the main VM's sources replayed ---- */
static void vm_discard(void *host, const char *buf, size_t len) {}

static int worker_vm(struct px_worker *w, afd_vm *main_vm)
{
	struct afd_opts o = { .sz = sizeof(o), .write = vm_discard };
	w->vm = afd_new(&o);
	if (!w->vm)
		return -ENOMEM;
	afd_set_history(w->vm, 0);
	w->ctx.cfg = w->cfg;
	w->ctx.w = w;
	w->ctx.vm = w->vm;
	px_register_words(w->vm, &w->ctx);
	const char *name, *text;
	size_t len;
	int n = afd_history(main_vm, 0, &name, &text, &len);
	for (int i = 0; i < n; i++) {
		afd_history(main_vm, i, &name, &text, &len);
		int err = afd_eval(w->vm, text, len, name);
		if (err && err != AFD_THROW_BYE)
			break;	/* handle-requests ends the replay with BYE, as in the main VM */
	}
	afd_cell xt = afd_find(w->vm, "handle-http-request", 19);
	w->route_xt = xt > 0 ? xt : 0;
	afd_set_max_steps(w->vm, 1000000);	/* a routing word must not hang a worker */
	return 0;
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

int px_worker_init(struct px_worker *w, int id, int nworkers, struct px_config *cfg,
		   afd_vm *main_vm)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)id << 32) ^ ev_clock();
	w->loop = ev_loop_new();
	if (!w->loop)
		return -ENOMEM;
	ev_timer_init(&w->reaper, reap, w);
	int err = px_stats_init(w);
	if (err)
		return err;
	w->pickers = calloc((size_t)cfg->npools + 1, sizeof(*w->pickers));
	w->idle = calloc((size_t)cfg->npools + 1, sizeof(*w->idle));
	w->listeners = calloc((size_t)cfg->nlisteners + 1, sizeof(*w->listeners));
	if (!w->pickers || !w->idle || !w->listeners)
		return -ENOMEM;
	for (int p = 0; p < cfg->npools; p++) {
		w->pickers[p].pool = cfg->pools[p];
		w->idle[p] = calloc(LB_MAX_BACKENDS, sizeof(**w->idle));
		if (!w->idle[p])
			return -ENOMEM;
	}
	for (int i = 0; i < cfg->nlisteners; i++) {
		int fd = listen_on(&cfg->listeners[i]);
		if (fd < 0)
			return fd;
		w->listeners[i].w = w;
		w->listeners[i].cfg = &cfg->listeners[i];
		ev_io_init(&w->listeners[i].io, fd, on_accept, &w->listeners[i]);
		if ((err = ev_io_set(w->loop, &w->listeners[i].io, EV_READ)))
			return err;
	}
	err = px_health_start(w, nworkers);
	return err ? err : worker_vm(w, main_vm);
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
	for (int i = 0; i < w->cfg->nlisteners; i++)
		if (w->listeners[i].io.fd >= 0) {
			ev_io_set(loop, &w->listeners[i].io, 0);
			close(w->listeners[i].io.fd);
			w->listeners[i].io.fd = -1;
		}
	for (struct px_live *l = w->live, *next; l; l = next) {
		next = l->next;	/* draining may close it at once */
		if (l->drain)
			l->drain(l);
	}
	if (!w->live)
		ev_stop(loop);
}

void px_worker_drain(struct px_worker *w)
{
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
	for (int i = 0; w->listeners && i < w->cfg->nlisteners; i++)
		if (w->listeners[i].io.fd >= 0)
			close(w->listeners[i].io.fd);
	w->draining = false;	/* closing what is left must not stop a loop that is gone */
	for (int p = 0; w->idle && p < w->cfg->npools; p++) {
		for (int b = 0; w->idle[p] && b < LB_MAX_BACKENDS; b++)
			while (w->idle[p][b])
				px_sconn_close(w->idle[p][b]);
		free(w->idle[p]);
	}
	while (w->live)		/* each close unlinks itself */
		w->live->close(w->live);
	px_health_stop(w);
	if (w->loop)
		reap(w->loop, &w->reaper);
	for (int p = 0; w->pickers && p < w->cfg->npools; p++)
		lb_picker_fini(&w->pickers[p]);
	while (w->freebufs) {
		struct px_buf *next = w->freebufs->next;
		free(w->freebufs);
		w->freebufs = next;
	}
	free(w->idle);
	free(w->pickers);
	free(w->listeners);
	px_stats_fini(w);
	afd_free(w->vm);
	ev_loop_free(w->loop);
}
