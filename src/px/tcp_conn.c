/* tcp_conn.c: an L4 connection: a backend is picked per connection and bytes are relayed
 * both ways unchanged. Half-close is passed on: when one side ends its stream, the other
 * side's write half is shut once everything before the end was delivered.
 *
 * As for HTTP, both sockets are registered once, edge-triggered, and readiness is kept in
 * flags that a short read or write clears: no epoll_ctl while bytes flow. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "px.h"

#define MAX_TRIED 4
#define MAX_ROUNDS 32

struct px_tcp {
	struct px_live live;		/* first: the worker's list of open connections */
	struct px_worker *w;
	struct px_wgen *g;		/* its generation, for its whole life */
	const struct px_listener_cfg *l;
	struct px_lstats *ls;		/* its listener's counters (metrics.c) */
	struct ev_io c, s;
	struct ev_timer timer;
	struct px_buf *up, *down;	/* client->server, server->client */
	bool c_rd, c_wr, s_rd, s_wr;	/* readiness */
	bool c_hup, s_hup;		/* the peer shut its side: read on until recv says 0 */
	bool connected, closed, kicked;
	bool c_eof, s_eof, up_shut, down_shut;
	int pool, backend, ntried;
	uint32_t client_ip;
	int16_t tried[MAX_TRIED];	/* a bitmap only while picking: idle memory stays small */
	uint16_t client_port;
	bool timed_out;
	uint64_t start_ns, connect_ns;	/* the access log's (log.h): accepted, connected */
	uint64_t bytes_in, bytes_out;
};

/* The connection's access log line (access.c), when it ends. */
static void tcp_log(struct px_tcp *t, enum px_term term)
{
	if (!t->w->alog)
		return;
	struct px_alog_end e = { t->g->cfg, t->client_ip, t->client_port, t->pool,
				 t->ntried ? t->tried[t->ntried - 1] : -1, t->ntried, term };
	px_alog_tcp(t->w, &e, t->l->ip, t->l->port, t->start_ns, t->connect_ns, t->bytes_in,
		    t->bytes_out);
}

static void tcp_close(struct px_tcp *t);
static void tcp_pump(struct px_tcp *t);

/* The backend failed the connection (before tcp_release forgets which). */
static void tcp_fault(struct px_tcp *t)
{
	if (t->backend >= 0)
		px_count(&t->g->stats.backends[t->pool][t->backend].failures, 1);
}

static void tcp_release(struct px_tcp *t)
{
	if (t->backend >= 0) {
		struct lb_backend *b = &t->g->cfg->pools[t->pool]->backends[t->backend];
		__atomic_sub_fetch(&b->st->active, 1, __ATOMIC_RELAXED);
		t->backend = -1;
	}
	if (t->s.fd >= 0) {
		close(t->s.fd);	/* the only descriptor: it leaves epoll too */
		t->s.fd = -1;
	}
}

static void on_tcp_server(struct ev_loop *loop, struct ev_io *io, uint32_t events);

static int tcp_attach(struct px_tcp *t)
{
	struct px_worker *w = t->w;
	uint64_t tried[LB_MAX_BACKENDS / 64];
	memset(tried, 0, sizeof(tried));
	for (int i = 0; i < t->ntried; i++)
		tried[t->tried[i] / 64] |= 1ull << (t->tried[i] % 64);
	while (t->ntried < MAX_TRIED) {
		struct lb_key key = { .hash = lb_hash(&t->client_ip, sizeof(t->client_ip), 0),
				      .rand = px_rand(w), .now_ns = ev_now(w->loop) };
		struct lb_backend *b = lb_pick(&t->g->pickers[t->pool], &key, tried);
		if (!b)
			break;
		t->tried[t->ntried++] = (int16_t)b->index;
		tried[b->index / 64] |= 1ull << (b->index % 64);
		struct px_bstats *bs = &t->g->stats.backends[t->pool][b->index];
		px_count(&bs->requests, 1);
		int fd = px_connect(w, b);
		if (fd < 0) {
			px_count(&bs->failures, 1);
			continue;
		}
		ev_io_init(&t->s, fd, on_tcp_server, t);
		if (ev_io_set(w->loop, &t->s, EV_READ | EV_WRITE | EV_RDHUP | EV_ET) < 0) {
			close(fd);
			t->s.fd = -1;
			px_count(&bs->failures, 1);
			continue;
		}
		t->backend = (int)b->index;
		__atomic_add_fetch(&b->st->active, 1, __ATOMIC_RELAXED);
		if (t->ntried > 1)	/* another backend failed this connection before */
			px_count(&t->g->stats.pools[t->pool].retries, 1);
		t->connected = t->s_rd = t->s_wr = t->s_hup = false;
		ev_timer_in(w->loop, &t->timer, t->g->cfg->connect_timeout_ns);
		return 0;
	}
	px_count(&t->g->stats.pools[t->pool].no_backend, 1);
	return -EAGAIN;
}

/* The connection to the backend failed before any byte went through: another backend. */
static int tcp_retry(struct px_tcp *t)
{
	tcp_fault(t);
	tcp_release(t);
	return tcp_attach(t);
}

/* One read into a direction's buffer, taken on demand. */
static ssize_t relay_read(struct px_worker *w, int fd, struct px_buf **bp, bool *ready,
			  bool hup)
{
	if (!*bp && !(*bp = px_buf_get(w)))
		return -ENOMEM;
	struct px_buf *b = *bp;
	if (b->start == b->end)
		b->start = b->end = 0;
	if (b->end == PX_BUF_SIZE)
		return -ENOBUFS;
	return px_buf_recv(fd, b, PX_BUF_SIZE, ready, hup);
}

static bool has(const struct px_buf *b) { return b && b->start < b->end; }

/* The backend connection is established, or failed (then another backend, if any). */
static bool tcp_connected(struct px_tcp *t)
{
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(t->s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		if (tcp_retry(t) < 0)	/* nothing was sent yet: another backend may do */
			tcp_close(t);
		return false;
	}
	t->connected = true;
	t->connect_ns = ev_now(t->w->loop);
	ev_timer_in(t->w->loop, &t->timer, t->g->cfg->tcp_idle_ns);
	return true;
}

/* Move what can move in one direction; returns progress, or -1 if the connection ended. */
static int relay(struct px_tcp *t, int from, bool *rd, bool hup, bool *eof, struct px_buf **bp,
		 int to, bool *wr)
{
	int progress = 0;
	if (*rd && !*eof) {
		ssize_t n = relay_read(t->w, from, bp, rd, hup);
		if (n > 0) {
			progress = 1;
			if (from == t->c.fd) {
				px_count(&t->ls->bytes_in, (uint64_t)n);
				t->bytes_in += (uint64_t)n;
			}
		}
		else if (n == 0) {
			*eof = true;
			progress = 1;
		}
		else if (n != -EAGAIN && n != -ENOBUFS)
			return -1;
	}
	if (*wr && has(*bp)) {
		ssize_t n = px_buf_send(to, *bp, (*bp)->end, wr);
		if (n > 0) {
			progress = 1;
			if (to == t->c.fd) {
				px_count(&t->ls->bytes_out, (uint64_t)n);
				t->bytes_out += (uint64_t)n;
			}
		}
		else if (n != -EAGAIN)
			return -1;
	}
	return progress;
}

/* Ends of stream passed on; buffers given back when empty; closed when both are done. */
static bool tcp_settle(struct px_tcp *t)
{
	if (t->c_eof && !has(t->up) && !t->up_shut) {
		shutdown(t->s.fd, SHUT_WR);
		t->up_shut = true;
	}
	if (t->s_eof && !has(t->down) && !t->down_shut) {
		shutdown(t->c.fd, SHUT_WR);
		t->down_shut = true;
	}
	if (t->up_shut && t->down_shut) {
		tcp_close(t);
		return false;
	}
	if (t->up && !has(t->up)) {
		px_buf_put(t->w, t->up);
		t->up = NULL;
	}
	if (t->down && !has(t->down)) {
		px_buf_put(t->w, t->down);
		t->down = NULL;
	}
	return true;
}

static void tcp_pump(struct px_tcp *t)
{
	if (!t->connected && (!t->s_wr || !tcp_connected(t)))
		return;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int up = relay(t, t->c.fd, &t->c_rd, t->c_hup, &t->c_eof, &t->up, t->s.fd, &t->s_wr);
		int down = up < 0 ? -1 : relay(t, t->s.fd, &t->s_rd, t->s_hup, &t->s_eof, &t->down,
					       t->c.fd, &t->c_wr);
		if (up < 0 || down < 0) {
			tcp_close(t);
			return;
		}
		if (!tcp_settle(t))
			return;
		if (!up && !down)
			return;
		ev_timer_in(t->w->loop, &t->timer, t->g->cfg->tcp_idle_ns);
	}
	t->kicked = true;	/* a long stream: let the others run, then go on */
	ev_timer_in(t->w->loop, &t->timer, 0);
}

static void on_tcp_client(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_tcp *t = io->data;
	if (t->closed)
		return;
	if (events & (EV_READ | EV_RDHUP | EV_HUP | EV_ERR))
		t->c_rd = true;
	if (events & (EV_RDHUP | EV_HUP | EV_ERR))
		t->c_hup = true;
	if (events & (EV_WRITE | EV_HUP | EV_ERR))
		t->c_wr = true;
	tcp_pump(t);
}

static void on_tcp_server(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_tcp *t = io->data;
	if (t->closed)
		return;
	if (events & (EV_READ | EV_RDHUP | EV_HUP | EV_ERR))
		t->s_rd = true;
	if (events & (EV_RDHUP | EV_HUP | EV_ERR))
		t->s_hup = true;
	if (events & (EV_WRITE | EV_HUP | EV_ERR))
		t->s_wr = true;
	tcp_pump(t);
}

static void on_tcp_timeout(struct ev_loop *loop, struct ev_timer *timer)
{
	struct px_tcp *t = timer->data;
	if (t->kicked) {
		t->kicked = false;
		ev_timer_in(loop, &t->timer, t->g->cfg->tcp_idle_ns);
		tcp_pump(t);
		return;
	}
	if (!t->connected && tcp_retry(t) == 0)	/* connecting took too long */
		return;
	t->timed_out = true;
	tcp_close(t);
}

static void tcp_free(void *p)
{
	struct px_tcp *t = p;
	px_obj_put(t->w, t, sizeof(*t));
}

static void tcp_close(struct px_tcp *t)
{
	struct px_worker *w = t->w;
	if (t->closed)
		return;
	tcp_log(t, !t->connected ? PX_TERM_CONNECT : t->up_shut && t->down_shut ? PX_TERM_NONE :
		   t->timed_out ? PX_TERM_TIMEOUT : PX_TERM_ABORTED);
	t->closed = true;
	px_live_del(&t->live);
	px_gauge_add(&t->ls->active, -1);
	tcp_release(t);
	close(t->c.fd);
	ev_timer_stop(w->loop, &t->timer);
	px_buf_put(w, t->up);
	px_buf_put(w, t->down);
	t->up = t->down = NULL;
	px_wgen_put(t->g);
	px_bury(w, t, tcp_free);
}

static void live_close(void *t) { tcp_close(t); }

void px_tcp_accept(struct px_listener *li, int fd, uint32_t client_ip, uint16_t client_port)
{
	struct px_worker *w = li->g->w;
	const struct px_listener_cfg *l = li->cfg;
	struct px_tcp *t = px_obj_get(w, sizeof(*t));
	if (!t) {
		close(fd);
		return;
	}
	t->w = w;
	t->g = li->g;
	t->l = l;
	t->ls = &t->g->stats.listeners[li - t->g->listeners];
	t->pool = l->pool;
	t->backend = -1;
	t->client_ip = client_ip;
	t->client_port = client_port;
	t->start_ns = ev_now(w->loop);
	ev_io_init(&t->c, fd, on_tcp_client, t);
	ev_io_init(&t->s, -1, on_tcp_server, t);
	ev_timer_init(&t->timer, on_tcp_timeout, t);
	if (t->pool >= 0)
		px_count(&t->g->stats.pools[t->pool].requests, 1);
	if (t->pool < 0 || ev_io_set(w->loop, &t->c, EV_READ | EV_WRITE | EV_RDHUP | EV_ET) < 0 ||
	    tcp_attach(t) < 0) {
		tcp_log(t, t->ntried ? PX_TERM_CONNECT : PX_TERM_NO_BACKEND);
		close(fd);
		px_obj_put(w, t, sizeof(*t));
		return;
	}
	t->g->refs++;
	px_live_add(w, &t->live, live_close, NULL);	/* an L4 stream ends when its ends do */
	px_gauge_add(&t->ls->active, 1);
	t->c_rd = true;		/* data may have come with the connection */
}
