/* http_conn.c: one HTTP/1.1 client connection and the backend connection serving its
 * current request.
 *
 * A connection reads a request head, routes it (Forth's handle-http-request or the
 * listener's pool), takes a kept-alive backend connection or opens one, forwards the
 * rewritten head and streams the body by its framing (never buffering a whole body), then
 * streams the response back the same way. Bytes of a pipelined next request wait in the
 * client buffer until the current exchange is over. A request that failed before any byte
 * reached a backend is retried on another backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "px.h"

#define HEAD_ROOM 512		/* a rewritten head may grow by this much */
#define MAX_TRIED 4

enum state {
	ST_HEAD,		/* reading a request head */
	ST_CONNECT,		/* waiting for the backend connection */
	ST_PROXY,		/* forwarding the request and the response */
	ST_CLOSING,		/* sending a last answer, then closing */
};

struct px_conn {
	struct px_worker *w;
	const struct px_listener_cfg *l;
	struct ev_io c, s;		/* client, server (s.fd -1 when none) */
	struct ev_timer timer;
	uint32_t client_ip;
	uint8_t state;
	bool client_keepalive, server_reused, head_method, req_done, resp_done;
	bool resp_head_done, server_keepalive, client_eof, sent_any;
	uint8_t client_minor;
	struct px_buf *cin;		/* from the client: [start, fwd) goes to the server */
	struct px_buf *sin;		/* from the server: [start, fwd) goes to the client */
	uint32_t cfwd, sfwd;
	uint64_t req_left, resp_left;	/* body bytes still to frame (LENGTH) */
	uint8_t req_body, resp_body;	/* enum http_body */
	struct http_chunked req_chunk, resp_chunk;
	int pool, backend;
	int ntried;
	int16_t tried[MAX_TRIED];
	uint64_t sent_ns;		/* when the request head went out: latency */
};

static void pump(struct px_conn *c);
static void close_conn(struct px_conn *c);

/* ---- small helpers ---- */
static uint32_t buf_len(const struct px_buf *b) { return b ? b->end - b->start : 0; }

static void buf_compact(struct px_buf *b, uint32_t *fwd)
{
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->end - b->start);
	*fwd -= b->start;
	b->end -= b->start;
	b->start = 0;
}

static void set_timer(struct px_conn *c, uint64_t ns)
{
	ev_timer_in(c->w->loop, &c->timer, ns);
}

static void watch(struct px_conn *c)
{
	uint32_t ce = 0, se = 0;
	bool sout = c->sin && c->sfwd > c->sin->start;
	bool cout = c->cin && c->cfwd > c->cin->start;
	switch (c->state) {
	case ST_HEAD:
		ce = EV_READ;
		break;
	case ST_CONNECT:
		se = EV_WRITE;
		break;
	case ST_PROXY:
		if (sout)
			ce |= EV_WRITE;
		else if (!c->req_done && (!c->cin || c->cin->end < sizeof(c->cin->data)))
			ce |= EV_READ;
		if (cout)
			se |= EV_WRITE;
		if (!c->resp_done && (!c->sin || c->sin->end < sizeof(c->sin->data)))
			se |= EV_READ;
		break;
	case ST_CLOSING:
		ce = sout ? EV_WRITE : 0;
		break;
	}
	ev_io_set(c->w->loop, &c->c, ce);
	if (c->s.fd >= 0)
		ev_io_set(c->w->loop, &c->s, se);
}

/* ---- final answers made by the proxy itself ---- */
static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 500: return "Internal Server Error";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Answer `status` and close once it is sent. Only when nothing of a response was sent. */
static void fail(struct px_conn *c, int status)
{
	if (c->resp_head_done) {	/* the client has part of an answer: cut it */
		close_conn(c);
		return;
	}
	px_buf_put(c->w, c->sin);
	c->sin = px_buf_get(c->w);
	if (!c->sin) {
		close_conn(c);
		return;
	}
	const char *text = status_text(status);
	int n = snprintf(c->sin->data, sizeof(c->sin->data),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s\n", status, text, strlen(text) + 1, text);
	c->sin->end = (uint32_t)n;
	c->sfwd = (uint32_t)n;
	if (c->s.fd >= 0) {
		ev_io_set(c->w->loop, &c->s, 0);
		close(c->s.fd);
		c->s.fd = -1;
	}
	c->state = ST_CLOSING;
	set_timer(c, c->w->cfg->client_timeout_ns);
	pump(c);
}

/* ---- backend side ---- */
static void release_backend(struct px_conn *c, bool reuse)
{
	if (c->backend >= 0) {
		struct lb_backend *b = &c->w->cfg->pools[c->pool]->backends[c->backend];
		__atomic_sub_fetch(&b->active, 1, __ATOMIC_RELAXED);
	}
	if (c->s.fd >= 0) {
		ev_io_set(c->w->loop, &c->s, 0);
		if (reuse)
			px_idle_put(c->w, c->s.fd, c->pool, c->backend);
		else
			close(c->s.fd);
		c->s.fd = -1;
	}
	c->backend = -1;
}

static void on_server(struct ev_loop *loop, struct ev_io *io, uint32_t events);

/* Pick a backend not tried yet (the routing word's choice first, if it made one) and get a
 * connection to it: a kept-alive one if there is. */
static int attach_backend(struct px_conn *c, int preferred)
{
	struct px_worker *w = c->w;
	uint64_t tried[LB_MAX_BACKENDS / 64];
	const uint64_t *tp = NULL;
	if (c->ntried) {
		memset(tried, 0, sizeof(tried));
		for (int i = 0; i < c->ntried; i++)
			tried[c->tried[i] / 64] |= 1ull << (c->tried[i] % 64);
		tp = tried;
	}
	for (;;) {
		struct lb_key key = { .hash = c->client_ip, .rand = px_rand(w), .now_ns = ev_now(w->loop) };
		struct lb_pool *pool = w->cfg->pools[c->pool];
		struct lb_backend *b = NULL;
		if (preferred >= 0 && (uint32_t)preferred < pool->n &&
		    lb_backend_usable(&pool->backends[preferred]))
			b = &pool->backends[preferred];
		preferred = -1;
		if (!b)
			b = lb_pick(&w->pickers[c->pool], &key, tp);
		if (!b)
			return -EAGAIN;
		c->backend = (int)b->index;
		__atomic_add_fetch(&b->active, 1, __ATOMIC_RELAXED);
		if (c->ntried < MAX_TRIED)
			c->tried[c->ntried++] = (int16_t)b->index;
		struct px_idle *idle = px_idle_take(w, c->pool, c->backend);
		if (idle) {
			ev_io_init(&c->s, idle->fd, on_server, c);
			px_bury(w, idle, free);
			c->server_reused = true;
			c->state = ST_PROXY;
			return 0;
		}
		int fd = px_connect(w, b);
		if (fd >= 0) {
			ev_io_init(&c->s, fd, on_server, c);
			c->server_reused = false;
			c->state = ST_CONNECT;
			return 0;
		}
		release_backend(c, false);	/* no socket at all: count it tried, go on */
		if (c->ntried >= MAX_TRIED)
			return fd;
		if (!tp) {
			memset(tried, 0, sizeof(tried));
			tp = tried;
		}
		tried[c->tried[c->ntried - 1] / 64] |= 1ull << (c->tried[c->ntried - 1] % 64);
	}
}

/* The backend failed before it got a byte of this request: try another one. */
static void retry_or_fail(struct px_conn *c, int status, bool backend_failed)
{
	if (backend_failed)
		px_health_passive(c->w->cfg, c->pool, c->backend, false);
	release_backend(c, false);
	if (!c->sent_any && c->ntried < c->w->cfg->max_retries + 1 &&
	    attach_backend(c, -1) == 0) {
		set_timer(c, c->state == ST_CONNECT ? c->w->cfg->connect_timeout_ns
						    : c->w->cfg->server_timeout_ns);
		pump(c);
		return;
	}
	fail(c, status);
}

/* ---- request framing: how much of cin belongs to the current request ---- */
static int frame(struct px_buf *b, uint32_t *fwd, uint8_t kind, uint64_t *left,
		 struct http_chunked *ch, bool *done)
{
	uint32_t avail = b->end - *fwd;
	if (*done || avail == 0)
		return 0;
	switch (kind) {
	case HTTP_BODY_NONE:
		*done = true;
		return 0;
	case HTTP_BODY_LENGTH: {
		uint64_t take = *left < avail ? *left : avail;
		*fwd += (uint32_t)take;
		*left -= take;
		*done = *left == 0;
		return 0;
	}
	case HTTP_BODY_CHUNKED: {
		ssize_t n = http_chunked_feed(ch, b->data + *fwd, avail, done);
		if (n < 0)
			return (int)n;
		*fwd += (uint32_t)n;
		return 0;
	}
	default:		/* until close */
		*fwd = b->end;
		return 0;
	}
}

/* ---- heads rewritten for the other side ---- */
static bool hop_by_hop(const char *name, uint32_t len)
{
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection",
					   "te", "upgrade", "x-forwarded-for" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(*hop); i++)
		if (strlen(hop[i]) == len && !strncasecmp(hop[i], name, len))
			return true;
	return false;
}

static int put(char *dst, size_t cap, size_t *at, const char *s, size_t n)
{
	if (*at + n > cap)
		return -1;
	memcpy(dst + *at, s, n);
	*at += n;
	return 0;
}

/* The request head as the backend gets it: hop-by-hop headers dropped, X-Forwarded-For. */
static int rewrite_request(struct px_conn *c, const char *src, const struct http_msg *m,
			   char *dst, size_t cap)
{
	size_t at = 0;
	const char *eol = memchr(src, '\n', m->head_len);
	int err = put(dst, cap, &at, src, (size_t)(eol - src) + 1);
	const struct http_header *xff = http_header_find(m, src, "x-forwarded-for");
	for (int i = 0; i < m->nheaders && !err; i++) {
		const struct http_header *h = &m->headers[i];
		if (hop_by_hop(src + h->name.off, h->name.len))
			continue;
		err |= put(dst, cap, &at, src + h->name.off, h->name.len);
		err |= put(dst, cap, &at, ": ", 2);
		err |= put(dst, cap, &at, src + h->value.off, h->value.len);
		err |= put(dst, cap, &at, "\r\n", 2);
	}
	char ip[16], line[64];
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", c->client_ip >> 24, (c->client_ip >> 16) & 255,
		 (c->client_ip >> 8) & 255, c->client_ip & 255);
	err |= put(dst, cap, &at, "X-Forwarded-For: ", 17);
	if (xff) {
		err |= put(dst, cap, &at, src + xff->value.off, xff->value.len);
		err |= put(dst, cap, &at, ", ", 2);
	}
	int n = snprintf(line, sizeof(line), "%s\r\n", ip);
	err |= put(dst, cap, &at, line, (size_t)n);
	if (m->minor == 0)	/* HTTP/1.0 backends close unless asked */
		err |= put(dst, cap, &at, "Connection: keep-alive\r\n", 24);
	err |= put(dst, cap, &at, "\r\n", 2);
	return err ? -1 : (int)at;
}

/* The response head as the client gets it: our own Connection header. */
static int rewrite_response(struct px_conn *c, const char *src, const struct http_msg *m,
			    char *dst, size_t cap)
{
	size_t at = 0;
	const char *eol = memchr(src, '\n', m->head_len);
	int err = put(dst, cap, &at, src, (size_t)(eol - src) + 1);
	for (int i = 0; i < m->nheaders && !err; i++) {
		const struct http_header *h = &m->headers[i];
		if (hop_by_hop(src + h->name.off, h->name.len))
			continue;
		err |= put(dst, cap, &at, src + h->name.off, h->name.len);
		err |= put(dst, cap, &at, ": ", 2);
		err |= put(dst, cap, &at, src + h->value.off, h->value.len);
		err |= put(dst, cap, &at, "\r\n", 2);
	}
	if (!c->client_keepalive)
		err |= put(dst, cap, &at, "Connection: close\r\n", 19);
	else if (c->client_minor == 0)	/* an HTTP/1.0 client keeps alive only if told */
		err |= put(dst, cap, &at, "Connection: keep-alive\r\n", 24);
	err |= put(dst, cap, &at, "\r\n", 2);
	return err ? -1 : (int)at;
}

/* Replace the head at the start of *bp with `head`, keeping the bytes after it. */
static int replace_head(struct px_worker *w, struct px_buf **bp, size_t old_len,
			const char *head, size_t len)
{
	struct px_buf *b = *bp, *nb = px_buf_get(w);
	size_t rest = b->end - b->start - old_len;
	if (!nb || len + rest > sizeof(nb->data)) {
		px_buf_put(w, nb);
		return -1;
	}
	memcpy(nb->data, head, len);
	memcpy(nb->data + len, b->data + b->start + old_len, rest);
	nb->end = (uint32_t)(len + rest);
	px_buf_put(w, b);
	*bp = nb;
	return 0;
}

/* ---- a request head arrived ---- */
static void start_request(struct px_conn *c)
{
	struct px_worker *w = c->w;
	struct http_msg *m = &w->msg;
	struct px_buf *b = c->cin;
	struct http_limits lim = { sizeof(b->data) - HEAD_ROOM, HTTP_MAX_HEADERS };
	int r = http_parse_request(b->data + b->start, b->end - b->start, m, &lim);
	if (r == HTTP_AGAIN) {
		if (b->end - b->start >= lim.max_head)
			fail(c, 431);
		else
			watch(c);
		return;
	}
	if (r < 0) {
		fail(c, -r);
		return;
	}
	w->requests++;
	const char *src = b->data + b->start;
	c->client_keepalive = m->keep_alive;
	c->client_minor = (uint8_t)m->minor;
	c->head_method = m->method.len == 4 && !memcmp(src + m->method.off, "HEAD", 4);
	c->req_body = (uint8_t)m->body;
	c->req_left = m->content_length;
	http_chunked_init(&c->req_chunk);
	c->req_done = m->body == HTTP_BODY_NONE;
	c->resp_done = c->resp_head_done = c->sent_any = false;
	c->ntried = 0;
	c->pool = c->l->pool;
	int backend = -1;
	if (w->route_xt && px_route(w, c, src, m, &c->pool, &backend) < 0) {
		fail(c, 500);	/* the routing word failed: its error is in the log */
		return;
	}
	if (c->pool < 0) {
		fail(c, 503);
		return;
	}
	char head[sizeof(b->data)];
	int n = rewrite_request(c, src, m, head, sizeof(head));
	if (n < 0 || replace_head(w, &c->cin, m->head_len, head, (size_t)n) < 0) {
		fail(c, 431);
		return;
	}
	c->cfwd = c->cin->start + (uint32_t)n;
	bool done = c->req_done;
	if (frame(c->cin, &c->cfwd, c->req_body, &c->req_left, &c->req_chunk, &done) < 0) {
		fail(c, 400);
		return;
	}
	c->req_done = done;
	if (attach_backend(c, backend) < 0) {
		fail(c, 503);
		return;
	}
	c->sent_ns = ev_now(w->loop);
	set_timer(c, c->state == ST_CONNECT ? w->cfg->connect_timeout_ns
					    : w->cfg->server_timeout_ns);
	pump(c);
}

/* ---- the response head arrived ---- */
static int start_response(struct px_conn *c)
{
	struct px_worker *w = c->w;
	struct http_msg *m = &w->msg;
	struct px_buf *b = c->sin;
	const char *method = c->head_method ? "HEAD" : "GET";
	int r = http_parse_response(b->data + b->start, b->end - b->start, m, NULL, method,
				    strlen(method));
	if (r == HTTP_AGAIN)
		return b->end - b->start >= sizeof(b->data) - HEAD_ROOM ? -502 : 0;
	if (r < 0)
		return -502;
	struct lb_backend *be = &w->cfg->pools[c->pool]->backends[c->backend];
	lb_backend_observe_latency(be, ev_now(w->loop) - c->sent_ns, ev_now(w->loop));
	px_health_passive(w->cfg, c->pool, c->backend, true);
	if (m->status >= 100 && m->status < 200 && m->status != 101) {
		/* interim (100 Continue): pass it on as it is, wait for the final answer */
		c->sfwd = b->start + (uint32_t)m->head_len;
		return 1;
	}
	if (m->status == 101)
		return -502;	/* protocol upgrades are not proxied yet */
	c->server_keepalive = m->keep_alive;
	c->resp_body = (uint8_t)m->body;
	c->resp_left = m->content_length;
	http_chunked_init(&c->resp_chunk);
	c->resp_done = m->body == HTTP_BODY_NONE;
	if (m->body == HTTP_BODY_CLOSE)
		c->client_keepalive = false;	/* the end of the body is the end of the stream */
	char head[sizeof(b->data)];
	const char *src = b->data + b->start;
	int n = rewrite_response(c, src, m, head, sizeof(head));
	if (n < 0 || replace_head(w, &c->sin, m->head_len, head, (size_t)n) < 0)
		return -502;
	c->sfwd = (uint32_t)n;
	c->resp_head_done = true;
	bool done = c->resp_done;
	if (frame(c->sin, &c->sfwd, c->resp_body, &c->resp_left, &c->resp_chunk, &done) < 0)
		return -502;
	c->resp_done = done;
	return 1;
}

/* ---- moving bytes ---- */
static ssize_t read_into(struct px_worker *w, int fd, struct px_buf **bp, uint32_t *fwd,
			 size_t limit)
{
	if (!*bp && !(*bp = px_buf_get(w)))
		return -ENOMEM;
	struct px_buf *b = *bp;
	if (b->end >= limit)
		buf_compact(b, fwd);
	if (b->end >= limit)
		return -ENOBUFS;
	ssize_t n = recv(fd, b->data + b->end, limit - b->end, 0);
	if (n > 0)
		b->end += (uint32_t)n;
	return n < 0 ? -errno : n;
}

static ssize_t write_from(int fd, struct px_buf *b, uint32_t fwd)
{
	if (!b || fwd <= b->start)
		return 0;
	ssize_t n = send(fd, b->data + b->start, fwd - b->start, MSG_NOSIGNAL);
	if (n > 0)
		b->start += (uint32_t)n;
	return n < 0 ? -errno : n;
}

/* The exchange is over: keep what can be kept, then the next request or the end. */
static void finish_exchange(struct px_conn *c)
{
	bool reuse = c->server_keepalive && c->resp_body != HTTP_BODY_CLOSE &&
		     c->sin->start == c->sin->end;
	release_backend(c, reuse);
	px_buf_put(c->w, c->sin);
	c->sin = NULL;
	if (!c->client_keepalive) {
		close_conn(c);
		return;
	}
	c->state = ST_HEAD;
	c->resp_head_done = false;
	struct px_buf *b = c->cin;
	if (b && b->start == b->end) {
		px_buf_put(c->w, b);	/* idle keep-alive connections hold no buffer */
		c->cin = NULL;
	}
	set_timer(c, c->cin ? c->w->cfg->client_timeout_ns : c->w->cfg->idle_timeout_ns);
	if (c->cin)
		start_request(c);	/* a pipelined request is already here */
	else
		watch(c);
}

/* Do all the work the buffers allow, then say what to wait for. */
static void pump(struct px_conn *c)
{
	for (int round = 0; round < 4; round++) {
		bool progress = false;
		if (c->state == ST_CLOSING) {
			ssize_t n = write_from(c->c.fd, c->sin, c->sfwd);
			if (n < 0 && n != -EAGAIN) {
				close_conn(c);
				return;
			}
			if (c->sin->start == c->sfwd) {
				shutdown(c->c.fd, SHUT_WR);
				close_conn(c);
				return;
			}
			break;
		}
		if (c->state != ST_PROXY)
			break;
		/* request bytes to the backend */
		ssize_t n = write_from(c->s.fd, c->cin, c->cfwd);
		if (n > 0) {
			c->sent_any = true;
			progress = true;
		} else if (n < 0 && n != -EAGAIN) {
			retry_or_fail(c, 502, true);
			return;
		}
		/* response bytes to the client */
		n = write_from(c->c.fd, c->sin, c->sfwd);
		if (n > 0)
			progress = true;
		else if (n < 0 && n != -EAGAIN) {
			close_conn(c);
			return;
		}
		if (c->resp_done && c->req_done && c->sin && c->sin->start == c->sfwd &&
		    c->cin && c->cin->start == c->cfwd) {
			finish_exchange(c);
			return;
		}
		if (!progress)
			break;
	}
	watch(c);
}

static void on_client(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_conn *c = io->data;
	if (c->state == ST_CLOSING) {
		pump(c);
		return;
	}
	if (events & EV_READ) {
		if (c->state == ST_HEAD || !c->req_done) {
			ssize_t n = read_into(c->w, c->c.fd, &c->cin, &c->cfwd,
					      c->state == ST_HEAD ? PX_BUF_SIZE - HEAD_ROOM : PX_BUF_SIZE);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOBUFS)) {
				close_conn(c);	/* the client left */
				return;
			}
			if (c->state == ST_HEAD) {
				if (n > 0)
					set_timer(c, c->w->cfg->client_timeout_ns);
				start_request(c);
				return;
			}
			bool done = c->req_done;
			if (frame(c->cin, &c->cfwd, c->req_body, &c->req_left, &c->req_chunk,
				  &done) < 0) {
				fail(c, 400);
				return;
			}
			c->req_done = done;
		}
	}
	if (events & (EV_ERR | EV_HUP)) {
		close_conn(c);
		return;
	}
	pump(c);
}

static void on_server(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_conn *c = io->data;
	if (c->state == ST_CONNECT) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EV_ERR | EV_HUP))) {
			retry_or_fail(c, 503, true);
			return;
		}
		c->state = ST_PROXY;
		set_timer(c, c->w->cfg->server_timeout_ns);
		pump(c);
		return;
	}
	if (events & (EV_READ | EV_ERR | EV_HUP)) {
		ssize_t n = read_into(c->w, c->s.fd, &c->sin, &c->sfwd, PX_BUF_SIZE);
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOBUFS)) {
			if (c->resp_body == HTTP_BODY_CLOSE && c->resp_head_done) {
				c->resp_done = true;	/* the end of an until-close body */
				c->server_keepalive = false;
				pump(c);
				return;
			}
			/* a kept-alive connection the backend had closed: a new one, if we may */
			if (!c->resp_head_done && c->server_reused && buf_len(c->sin) == 0 &&
			    c->req_body == HTTP_BODY_NONE) {
				c->sent_any = false;
				c->ntried--;
				retry_or_fail(c, 502, false);
				return;
			}
			if (c->resp_head_done)
				close_conn(c);
			else
				fail(c, 502);
			return;
		}
		if (n > 0 && !c->resp_head_done) {
			int r;
			while ((r = start_response(c)) == 1 && !c->resp_head_done)
				;
			if (r < 0) {
				fail(c, -r);
				return;
			}
		} else if (n > 0) {
			bool done = c->resp_done;
			if (frame(c->sin, &c->sfwd, c->resp_body, &c->resp_left, &c->resp_chunk,
				  &done) < 0) {
				close_conn(c);
				return;
			}
			c->resp_done = done;
		}
		if (c->resp_head_done)
			set_timer(c, c->w->cfg->server_timeout_ns);
	}
	pump(c);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	struct px_conn *c = t->data;
	switch (c->state) {
	case ST_HEAD:
		if (buf_len(c->cin))
			fail(c, 408);
		else
			close_conn(c);	/* an idle keep-alive client */
		break;
	case ST_CONNECT:
		retry_or_fail(c, 503, true);
		break;
	case ST_PROXY:
		if (c->resp_head_done)
			close_conn(c);
		else
			fail(c, 504);
		break;
	default:
		close_conn(c);
	}
}

static void conn_free(void *p) { free(p); }

static void close_conn(struct px_conn *c)
{
	struct px_worker *w = c->w;
	release_backend(c, false);
	ev_io_set(w->loop, &c->c, 0);
	close(c->c.fd);
	ev_timer_stop(w->loop, &c->timer);
	px_buf_put(w, c->cin);
	px_buf_put(w, c->sin);
	c->cin = c->sin = NULL;
	c->c.fn = NULL;
	px_bury(w, c, conn_free);
}

void px_http_accept(struct px_worker *w, int fd, const struct px_listener_cfg *l,
		    uint32_t client_ip)
{
	struct px_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w = w;
	c->l = l;
	c->client_ip = client_ip;
	c->state = ST_HEAD;
	c->backend = -1;
	ev_io_init(&c->c, fd, on_client, c);
	ev_io_init(&c->s, -1, on_server, c);
	ev_timer_init(&c->timer, on_timeout, c);
	set_timer(c, w->cfg->client_timeout_ns);
	watch(c);
}

/* For the request words: the client's address. */
uint32_t px_conn_client_ip(const struct px_conn *c) { return c->client_ip; }
