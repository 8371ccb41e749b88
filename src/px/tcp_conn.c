/* tcp_conn.c: an L4 connection: a backend is picked per connection and bytes are relayed
 * both ways unchanged. Half-close is passed on: when one side ends its stream, the other
 * side's write half is shut once everything before the end was delivered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "px.h"

#define MAX_TRIED 4

struct px_tcp {
	struct px_worker *w;
	const struct px_listener_cfg *l;
	struct ev_io c, s;
	struct ev_timer timer;
	struct px_buf *up, *down;	/* client->server, server->client */
	bool connected, c_eof, s_eof, up_shut, down_shut;
	int pool, backend, ntried;
	uint32_t client_ip;
	int16_t tried[MAX_TRIED];	/* a bitmap only while picking: idle memory stays small */
};

static void tcp_close(struct px_tcp *t);
static void on_tcp_server(struct ev_loop *loop, struct ev_io *io, uint32_t events);

static void tcp_release(struct px_tcp *t)
{
	if (t->backend >= 0) {
		struct lb_backend *b = &t->w->cfg->pools[t->pool]->backends[t->backend];
		__atomic_sub_fetch(&b->active, 1, __ATOMIC_RELAXED);
		t->backend = -1;
	}
	if (t->s.fd >= 0) {
		ev_io_set(t->w->loop, &t->s, 0);
		close(t->s.fd);
		t->s.fd = -1;
	}
}

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
		struct lb_backend *b = lb_pick(&w->pickers[t->pool], &key, tried);
		if (!b)
			return -EAGAIN;
		t->tried[t->ntried++] = (int16_t)b->index;
		tried[b->index / 64] |= 1ull << (b->index % 64);
		int fd = px_connect(w, b);
		if (fd < 0)
			continue;
		t->backend = (int)b->index;
		__atomic_add_fetch(&b->active, 1, __ATOMIC_RELAXED);
		ev_io_init(&t->s, fd, on_tcp_server, t);
		t->connected = false;
		ev_timer_in(w->loop, &t->timer, w->cfg->connect_timeout_ns);
		return 0;
	}
	return -EAGAIN;
}

static ssize_t relay_read(struct px_worker *w, int fd, struct px_buf **bp)
{
	if (!*bp && !(*bp = px_buf_get(w)))
		return -ENOMEM;
	struct px_buf *b = *bp;
	if (b->start == b->end)
		b->start = b->end = 0;
	if (b->end == PX_BUF_SIZE)
		return -ENOBUFS;
	ssize_t n = recv(fd, b->data + b->end, PX_BUF_SIZE - b->end, 0);
	if (n > 0)
		b->end += (uint32_t)n;
	return n < 0 ? -errno : n;
}

static ssize_t relay_write(int fd, struct px_buf *b)
{
	if (!b || b->start == b->end)
		return 0;
	ssize_t n = send(fd, b->data + b->start, b->end - b->start, MSG_NOSIGNAL);
	if (n > 0)
		b->start += (uint32_t)n;
	return n < 0 ? -errno : n;
}

static void tcp_watch(struct px_tcp *t)
{
	struct px_worker *w = t->w;
	if (!t->connected) {
		ev_io_set(w->loop, &t->c, 0);
		ev_io_set(w->loop, &t->s, EV_WRITE);
		return;
	}
	bool up_pending = t->up && t->up->start < t->up->end;
	bool down_pending = t->down && t->down->start < t->down->end;
	uint32_t ce = 0, se = 0;
	if (!t->c_eof && !up_pending)
		ce |= EV_READ;
	if (down_pending)
		ce |= EV_WRITE;
	if (!t->s_eof && !down_pending)
		se |= EV_READ;
	if (up_pending)
		se |= EV_WRITE;
	ev_io_set(w->loop, &t->c, ce);
	ev_io_set(w->loop, &t->s, se);
	ev_timer_in(w->loop, &t->timer, w->cfg->tcp_idle_ns);
}

/* Move what can move; pass on ends of stream; close when both directions are done. */
static void tcp_pump(struct px_tcp *t)
{
	ssize_t r = relay_write(t->s.fd, t->up);
	if (r < 0 && r != -EAGAIN) {
		tcp_close(t);
		return;
	}
	r = relay_write(t->c.fd, t->down);
	if (r < 0 && r != -EAGAIN) {
		tcp_close(t);
		return;
	}
	bool up_empty = !t->up || t->up->start == t->up->end;
	bool down_empty = !t->down || t->down->start == t->down->end;
	if (t->c_eof && up_empty && !t->up_shut) {
		shutdown(t->s.fd, SHUT_WR);
		t->up_shut = true;
	}
	if (t->s_eof && down_empty && !t->down_shut) {
		shutdown(t->c.fd, SHUT_WR);
		t->down_shut = true;
	}
	if (t->up_shut && t->down_shut) {
		tcp_close(t);
		return;
	}
	if (up_empty && t->up) {
		px_buf_put(t->w, t->up);
		t->up = NULL;
	}
	if (down_empty && t->down) {
		px_buf_put(t->w, t->down);
		t->down = NULL;
	}
	tcp_watch(t);
}

static void on_tcp_client(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_tcp *t = io->data;
	if (events & (EV_READ | EV_HUP | EV_ERR)) {
		ssize_t n = relay_read(t->w, t->c.fd, &t->up);
		if (n == 0)
			t->c_eof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOBUFS) {
			tcp_close(t);
			return;
		}
	}
	tcp_pump(t);
}

static void on_tcp_server(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_tcp *t = io->data;
	if (!t->connected) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(t->s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EV_ERR | EV_HUP))) {
			tcp_release(t);	/* nothing was sent yet: another backend may do */
			if (tcp_attach(t) < 0) {
				tcp_close(t);
				return;
			}
			tcp_watch(t);
			return;
		}
		t->connected = true;
	}
	if (events & (EV_READ | EV_HUP | EV_ERR)) {
		ssize_t n = relay_read(t->w, t->s.fd, &t->down);
		if (n == 0)
			t->s_eof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOBUFS) {
			tcp_close(t);
			return;
		}
	}
	tcp_pump(t);
}

static void on_tcp_timeout(struct ev_loop *loop, struct ev_timer *timer)
{
	struct px_tcp *t = timer->data;
	if (!t->connected) {
		tcp_release(t);
		if (tcp_attach(t) == 0) {
			tcp_watch(t);
			return;
		}
	}
	tcp_close(t);
}

static void tcp_free(void *p) { free(p); }

static void tcp_close(struct px_tcp *t)
{
	struct px_worker *w = t->w;
	tcp_release(t);
	ev_io_set(w->loop, &t->c, 0);
	close(t->c.fd);
	ev_timer_stop(w->loop, &t->timer);
	px_buf_put(w, t->up);
	px_buf_put(w, t->down);
	t->up = t->down = NULL;
	px_bury(w, t, tcp_free);
}

void px_tcp_accept(struct px_worker *w, int fd, const struct px_listener_cfg *l,
		   uint32_t client_ip)
{
	struct px_tcp *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return;
	}
	t->w = w;
	t->l = l;
	t->pool = l->pool;
	t->backend = -1;
	t->client_ip = client_ip;
	ev_io_init(&t->c, fd, on_tcp_client, t);
	ev_io_init(&t->s, -1, on_tcp_server, t);
	ev_timer_init(&t->timer, on_tcp_timeout, t);
	if (t->pool < 0 || tcp_attach(t) < 0) {
		close(fd);
		free(t);
		return;
	}
	tcp_watch(t);
}
