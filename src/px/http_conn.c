/* http_conn.c: one HTTP/1.1 client connection and the backend connection serving its
 * current request.
 *
 * A connection reads a request head, routes it (Forth's handle-http-request or the
 * listener's pool), takes a kept-alive backend connection or opens one, forwards the
 * rewritten head and streams the body by its framing (never buffering a whole body), then
 * streams the response back the same way. Bytes of a pipelined next request wait in the
 * client buffer until the current exchange is over. A request that failed before any byte
 * reached a backend is retried on another backend.
 *
 * I/O is edge-triggered: each socket is registered once and the connection keeps what the
 * kernel said (readable, writable) in flags, cleared when a read or write comes up short.
 * pump() then does whatever the flags and buffers allow. No epoll_ctl on the request path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "px.h"

#define HEAD_ROOM 512		/* a rewritten head may grow by this much */
#define MAX_TRIED 4
#define MAX_ROUNDS 32		/* then let other connections run (a long stream) */

enum state {
	ST_HEAD,		/* reading a request head */
	ST_CONNECT,		/* waiting for the backend connection */
	ST_PROXY,		/* forwarding the request and the response */
	ST_CLOSING,		/* sending a last answer, then closing */
};

struct px_conn {
	struct px_live live;		/* first: the worker's list of open connections */
	struct px_worker *w;
	struct px_wgen *g;		/* the generation of its current exchange */
	const struct px_listener_cfg *l;
	int li;				/* l's index in g */
	struct px_lstats *ls;		/* its listener's counters (metrics.c) */
	struct ev_io c;			/* the client */
	struct px_sconn *s;		/* the backend connection, while there is one */
	struct ev_timer timer;
	uint32_t client_ip;
	uint8_t state, client_minor, req_body, resp_body;	/* enum http_body */
	bool c_rd, c_wr;		/* client readiness */
	bool c_hup;			/* the client shut its side: read on until recv says 0 */
	bool closed, kicked;
	bool client_keepalive, head_method, req_done, resp_done, resp_head_done;
	bool server_keepalive, sent_any, server_reused;
	bool safe_method;		/* GET, HEAD, OPTIONS: may be sent again (RFC 9110 9.2.1) */
	uint8_t empty_retries;		/* a fresh connection closed before any answer */
	struct px_buf *cin;		/* from the client: [start, cfwd) goes to the backend */
	struct px_buf *sin;		/* from the backend: [start, sfwd) goes to the client */
	uint32_t cfwd, sfwd, seen;	/* seen: request bytes when the head last parsed short */
	uint64_t req_left, resp_left;	/* body bytes still to frame (LENGTH) */
	struct http_chunked req_chunk, resp_chunk;
	int pool, backend, ntried;
	int16_t tried[MAX_TRIED];
	uint64_t sent_ns;		/* when the request head went out: latency */
	uint64_t key;			/* the request's hash key */
	bool dechunk;			/* an HTTP/1.0 client gets a chunked body as plain bytes */
	uint8_t dc_state, dc_digits;	/* dechunk: state, hex digits of this size line */
	uint64_t dc_left;
	uint16_t client_port;
	uint64_t head_ns;		/* the first byte of the request head came, 0: not yet */
	struct px_areq *areq;		/* the access log's record of the request (log.h) */
};

static void close_conn(struct px_conn *c);

/* ---- small helpers ---- */
static uint32_t buf_len(const struct px_buf *b) { return b ? b->end - b->start : 0; }
static bool pending(const struct px_buf *b, uint32_t fwd) { return b && fwd > b->start; }

static void buf_compact(struct px_buf *b, uint32_t *fwd)
{
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->end - b->start);
	*fwd -= b->start;
	b->end -= b->start;
	b->start = 0;
}

/* The timeout of the state the connection is in. */
static void phase_timer(struct px_conn *c)
{
	const struct px_config *cfg = c->g->cfg;
	uint64_t ns;
	switch (c->state) {
	case ST_HEAD: ns = buf_len(c->cin) ? cfg->client_timeout_ns : cfg->idle_timeout_ns; break;
	case ST_CONNECT: ns = cfg->connect_timeout_ns; break;
	case ST_PROXY: ns = cfg->server_timeout_ns; break;
	default: ns = cfg->client_timeout_ns; break;
	}
	ev_timer_in(c->w->loop, &c->timer, ns);
}

/* Read into a buffer taken on demand (compacted when its end is reached). */
static ssize_t read_into(struct px_worker *w, int fd, struct px_buf **bp, uint32_t *fwd,
			 size_t limit, bool *ready, bool hup)
{
	if (!*bp) {
		if (!(*bp = px_buf_get(w)))
			return -ENOMEM;
		*fwd = 0;
	}
	struct px_buf *b = *bp;
	if (b->end >= limit)
		buf_compact(b, fwd);
	if (b->end >= limit)
		return -ENOBUFS;
	return px_buf_recv(fd, b, limit, ready, hup);
}

/* ---- final answers made by the proxy itself ---- */
static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 429: return "Too Many Requests";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* ---- counters (metrics.c) ---- */
static void count_response(struct px_conn *c, int status)
{
	if (status >= 100 && status < 600)
		px_count(&c->ls->responses[status / 100 - 1], 1);
}

/* ---- the access log (access.c): a record from the parsed head to the exchange's end ---- */
static void log_begin(struct px_conn *c, const struct http_msg *m)
{
	if (c->w->alog && !c->areq)
		c->areq = px_alog_begin(c->w, c->cin ? c->cin->data + c->cin->start : "",
					buf_len(c->cin), m, c->head_ns);
}

static void log_end(struct px_conn *c, enum px_term term)
{
	if (!c->areq)
		return;
	struct px_alog_end e = { c->g->cfg, c->client_ip, c->client_port, c->pool,
				 c->ntried ? c->tried[c->ntried - 1] : -1, c->ntried, term };
	px_alog_http(c->w, &c->areq, &e);
}

/* The backend of the current exchange failed it (before release_backend forgets which). */
static void backend_fault(struct px_conn *c)
{
	if (c->backend >= 0)
		px_count(&c->g->stats.backends[c->pool][c->backend].failures, 1);
	px_policy_backend_result(c->g->cfg, c->pool, c->backend, 0);	/* circuit breaker */
}

/* ---- the backend side ---- */
static void release_backend(struct px_conn *c, bool reuse)
{
	if (c->backend >= 0) {
		struct lb_backend *b = &c->g->cfg->pools[c->pool]->backends[c->backend];
		__atomic_sub_fetch(&b->st->active, 1, __ATOMIC_RELAXED);
	}
	if (c->s) {
		if (reuse)
			px_idle_put(c->s);
		else
			px_sconn_close(c->s);
		c->s = NULL;
	}
	c->backend = -1;
}

/* Answer `status` and close once it is sent. Only while nothing of a response was sent. */
static void fail(struct px_conn *c, int status)
{
	if (c->resp_head_done) {	/* the client has part of an answer: cut it */
		close_conn(c);
		return;
	}
	log_begin(c, NULL);	/* a head that never completed (408) has no record yet */
	release_backend(c, false);
	px_buf_put(c->w, c->sin);
	if (!(c->sin = px_buf_get(c->w))) {
		close_conn(c);
		return;
	}
	const char *text = status_text(status);
	int n = snprintf(c->sin->data, PX_BUF_SIZE,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "%sConnection: close\r\n\r\n%s\n", status, text, strlen(text) + 1,
			 status == 429 ? "Retry-After: 1\r\n" : "", text);
	c->sin->end = c->sfwd = (uint32_t)n;
	count_response(c, status);
	px_alog_status(c->areq, status, true);
	c->state = ST_CLOSING;
	phase_timer(c);
}

/* The request's key for source-hash and maglev-hash, as the pool says: the client's
 * address, a header's value or a cookie's (falling back to the address when absent). */
static uint64_t request_key(const struct px_conn *c, const struct http_msg *m, const char *src)
{
	const struct px_pool_cfg *pc = &c->g->cfg->pools_cfg[c->pool];
	if (pc->hash_by != PX_HASH_CLIENT && m && src) {
		char name[65];
		memcpy(name, pc->hash_by == PX_HASH_HEADER ? pc->hash_name : "cookie",
		       pc->hash_by == PX_HASH_HEADER ? pc->hash_len : 7);
		name[pc->hash_by == PX_HASH_HEADER ? pc->hash_len : 6] = 0;
		for (int i = 0; i < m->nheaders; i++) {
			const struct http_header *h = &m->headers[i];
			if (h->name.len != strlen(name) || strncasecmp(src + h->name.off, name, h->name.len))
				continue;
			const char *v = src + h->value.off, *end = v + h->value.len;
			if (pc->hash_by == PX_HASH_HEADER)
				return lb_hash(v, h->value.len, 0);
			while (v < end) {	/* Cookie: a=1; b=2 */
				while (v < end && (*v == ' ' || *v == ';'))
					v++;
				const char *eq = memchr(v, '=', (size_t)(end - v));
				const char *semi = memchr(v, ';', (size_t)(end - v));
				if (!semi)
					semi = end;
				if (eq && eq < semi && (size_t)(eq - v) == pc->hash_len &&
				    !memcmp(v, pc->hash_name, pc->hash_len))
					return lb_hash(eq + 1, (size_t)(semi - eq - 1), 0);
				v = semi;
			}
		}
	}
	return lb_hash(&c->client_ip, sizeof(c->client_ip), 0);
}

/* Pick a backend not tried yet (the routing word's choice first, if it made one) and get a
 * connection to it: a kept-alive one if there is. */
static int attach_backend(struct px_conn *c, int preferred)
{
	struct px_worker *w = c->w;
	struct px_wgen *g = c->g;
	struct lb_pool *pool = g->cfg->pools[c->pool];
	uint64_t tried[LB_MAX_BACKENDS / 64];
	const uint64_t *tp = NULL;
	if (c->ntried) {
		memset(tried, 0, sizeof(tried));
		for (int i = 0; i < c->ntried; i++)
			tried[c->tried[i] / 64] |= 1ull << (c->tried[i] % 64);
		tp = tried;
	}
	while (c->ntried < MAX_TRIED) {
		struct lb_backend *b = NULL;
		if (preferred >= 0 && (uint32_t)preferred < pool->n &&
		    lb_backend_usable(&pool->backends[preferred]))
			b = &pool->backends[preferred];
		preferred = -1;
		if (!b) {
			struct lb_key key = { .hash = c->key, .rand = px_rand(w),
					      .now_ns = ev_now(w->loop) };
			b = lb_pick(&g->pickers[c->pool], &key, tp);
		}
		if (!b)
			break;
		c->tried[c->ntried++] = (int16_t)b->index;
		struct px_bstats *bs = &g->stats.backends[c->pool][b->index];
		px_count(&bs->requests, 1);
		if (!tp) {
			memset(tried, 0, sizeof(tried));
			tp = tried;
		}
		tried[b->index / 64] |= 1ull << (b->index % 64);
		struct px_sconn *s = px_idle_take(g, c->pool, (int)b->index);
		c->server_reused = s != NULL;
		if (!s)
			s = px_sconn_open(g, c->pool, (int)b->index);
		if (!s) {
			px_count(&bs->failures, 1);
			continue;	/* no socket at all: counted as tried, go on */
		}
		c->backend = (int)b->index;
		__atomic_add_fetch(&b->st->active, 1, __ATOMIC_RELAXED);
		if (c->ntried > 1)	/* another backend failed this request before */
			px_count(&g->stats.pools[c->pool].retries, 1);
		s->owner = c;
		c->s = s;
		c->state = s->connected ? ST_PROXY : ST_CONNECT;
		phase_timer(c);
		return 0;
	}
	px_count(&g->stats.pools[c->pool].no_backend, 1);
	return -EAGAIN;
}

/* The backend failed before it got a byte of this request: try another one. */
static void retry_or_fail(struct px_conn *c, int status, bool backend_failed)
{
	if (backend_failed) {
		px_health_passive(c->g->cfg, c->pool, c->backend, false);
		backend_fault(c);
	}
	release_backend(c, false);
	if (c->sent_any || c->ntried > c->g->cfg->max_retries || attach_backend(c, -1) < 0)
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

/* Strip chunked framing from the response bytes [sfwd, end) in place, for an HTTP/1.0
 * client; the data that remains is forwarded and the end of the stream marks its end. */
enum { DC_SIZE, DC_EXT, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF, DC_TRAILER, DC_TLINE,
       DC_END_LF, DC_DONE };

static int dechunk(struct px_conn *c)
{
	struct px_buf *b = c->sin;
	char *p = b->data + c->sfwd, *end = b->data + b->end, *out = p;
	while (p < end && c->dc_state != DC_DONE) {
		char ch = *p;
		switch (c->dc_state) {
		case DC_SIZE:
			if (ch == ';' || ch == '\r') {
				if (!c->dc_digits)
					return -1;
				c->dc_state = ch == ';' ? DC_EXT : DC_SIZE_LF;
				c->dc_digits = 0;
			} else {
				int d = ch >= '0' && ch <= '9' ? ch - '0' : (ch | 32) >= 'a' && (ch | 32) <= 'f' ?
					(ch | 32) - 'a' + 10 : -1;
				if (d < 0 || ++c->dc_digits > 15)
					return -1;
				c->dc_left = c->dc_left * 16 + (uint64_t)d;
			}
			p++;
			break;
		case DC_EXT:
			c->dc_state = ch == '\r' ? DC_SIZE_LF : DC_EXT;
			p++;
			break;
		case DC_SIZE_LF:
			if (ch != '\n')
				return -1;
			c->dc_state = c->dc_left ? DC_DATA : DC_TRAILER;
			p++;
			break;
		case DC_DATA: {
			uint64_t n = (uint64_t)(end - p) < c->dc_left ? (uint64_t)(end - p) : c->dc_left;
			memmove(out, p, n);
			out += n;
			p += n;
			if ((c->dc_left -= n) == 0)
				c->dc_state = DC_DATA_CR;
			break;
		}
		case DC_DATA_CR:
		case DC_DATA_LF:
			if (ch != (c->dc_state == DC_DATA_CR ? '\r' : '\n'))
				return -1;
			c->dc_state = c->dc_state == DC_DATA_CR ? DC_DATA_LF : DC_SIZE;
			p++;
			break;
		case DC_TRAILER:	/* at the start of a trailer line, or of the final CRLF */
			c->dc_state = ch == '\r' ? DC_END_LF : DC_TLINE;
			p++;
			break;
		case DC_TLINE:
			if (ch == '\n')
				c->dc_state = DC_TRAILER;
			p++;
			break;
		case DC_END_LF:
			if (ch != '\n')
				return -1;
			c->dc_state = DC_DONE;
			p++;
			break;
		}
	}
	if (p < end && c->dc_state == DC_DONE)
		c->server_keepalive = false;	/* bytes after the end: do not reuse it */
	b->end = (uint32_t)(out - b->data);
	c->sfwd = b->end;
	c->resp_done = c->dc_state == DC_DONE;
	return 0;
}

/* The response body's framing: find its end, or strip it for an HTTP/1.0 client. */
static int frame_response(struct px_conn *c)
{
	if (c->dechunk)
		return dechunk(c);
	bool done = c->resp_done;
	int err = frame(c->sin, &c->sfwd, c->resp_body, &c->resp_left, &c->resp_chunk, &done);
	c->resp_done = done;
	return err;
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

/* The start line and the headers of a head, less hop-by-hop ones (and, when de-chunking,
 * Transfer-Encoding): what both rewrites begin with. */
static int copy_head(const struct px_conn *c, const char *src, const struct http_msg *m,
		     char *dst, size_t cap, size_t *at)
{
	const char *eol = memchr(src, '\n', m->head_len);
	int err = put(dst, cap, at, src, (size_t)(eol - src) + 1);
	for (int i = 0; i < m->nheaders && !err; i++) {
		const struct http_header *h = &m->headers[i];
		if (hop_by_hop(src + h->name.off, h->name.len))
			continue;
		if (c->dechunk && h->name.len == 17 &&
		    !strncasecmp(src + h->name.off, "transfer-encoding", 17))
			continue;
		err |= put(dst, cap, at, src + h->name.off, h->name.len);
		err |= put(dst, cap, at, ": ", 2);
		err |= put(dst, cap, at, src + h->value.off, h->value.len);
		err |= put(dst, cap, at, "\r\n", 2);
	}
	return err;
}

/* The request head as the backend gets it: hop-by-hop headers dropped, X-Forwarded-For. */
static int rewrite_request(struct px_conn *c, const char *src, const struct http_msg *m,
			   char *dst, size_t cap)
{
	size_t at = 0;
	c->dechunk = false;	/* a request is forwarded as framed */
	int err = copy_head(c, src, m, dst, cap, &at);
	char ip[16], line[64];
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", c->client_ip >> 24, (c->client_ip >> 16) & 255,
		 (c->client_ip >> 8) & 255, c->client_ip & 255);
	err |= put(dst, cap, &at, "X-Forwarded-For: ", 17);
	for (int i = 0; i < m->nheaders; i++) {	/* every earlier hop, in order */
		const struct http_header *h = &m->headers[i];
		if (h->name.len == 15 && !strncasecmp(src + h->name.off, "x-forwarded-for", 15) &&
		    h->value.len) {
			err |= put(dst, cap, &at, src + h->value.off, h->value.len);
			err |= put(dst, cap, &at, ", ", 2);
		}
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
	int err = copy_head(c, src, m, dst, cap, &at);
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

/* ---- a request head: 1 started, 0 incomplete, -1 answered with an error ---- */
/* Between two requests a connection takes the worker's current generation. */
static void follow_generation(struct px_conn *c)
{
	if (c->g == c->w->cur || c->s)
		return;
	struct px_wgen *g = px_wgen_switch(c->g, &c->li);
	if (g == c->g)
		return;
	px_gauge_add(&c->ls->active, -1);
	c->g = g;
	c->l = &g->cfg->listeners[c->li];
	c->ls = &g->stats.listeners[c->li];
	px_gauge_add(&c->ls->active, 1);
}

static int start_request(struct px_conn *c)
{
	struct px_worker *w = c->w;
	follow_generation(c);
	struct http_msg *m = &w->msg;
	struct px_buf *b = c->cin;
	struct http_limits lim = { PX_BUF_SIZE - HEAD_ROOM, HTTP_MAX_HEADERS };
	int r = http_parse_request(b->data + b->start, b->end - b->start, m, &lim);
	if (r == HTTP_AGAIN) {
		if (b->end - b->start < lim.max_head)
			return 0;
		r = HTTP_TOO_LARGE;
	}
	px_count(&c->ls->requests, 1);
	log_begin(c, r < 0 ? NULL : m);
	if (r < 0) {
		fail(c, -r);
		return -1;
	}
	const char *src = b->data + b->start;
	c->client_keepalive = m->keep_alive && !w->draining;
	c->client_minor = (uint8_t)m->minor;
	c->head_method = m->method.len == 4 && !memcmp(src + m->method.off, "HEAD", 4);
	c->safe_method = c->head_method ||
			 (m->method.len == 3 && !memcmp(src + m->method.off, "GET", 3)) ||
			 (m->method.len == 7 && !memcmp(src + m->method.off, "OPTIONS", 7));
	c->empty_retries = 0;
	c->req_body = (uint8_t)m->body;
	c->req_left = m->content_length;
	http_chunked_init(&c->req_chunk);
	c->req_done = m->body == HTTP_BODY_NONE;
	c->resp_done = c->resp_head_done = c->sent_any = false;
	c->ntried = 0;
	c->pool = c->l->pool;
	int backend = -1;
	int st = px_policy_request(c->g->cfg, c->l, c->client_ip, ev_now(w->loop)); /* 403, 429 */
	if (!st && c->g->route_xt)
		st = px_route(c->g, c, src, m, &c->pool, &backend);
	if (st) {
		fail(c, st > 0 ? st : 500);	/* a policy's or the routing word's answer; or it failed */
		return -1;
	}
	if (c->pool < 0) {
		fail(c, 503);
		return -1;
	}
	c->key = request_key(c, m, src);
	char head[PX_BUF_SIZE];
	int n = rewrite_request(c, src, m, head, sizeof(head));
	if (n < 0 || replace_head(w, &c->cin, m->head_len, head, (size_t)n) < 0) {
		fail(c, 431);
		return -1;
	}
	c->seen = 0;
	c->cfwd = (uint32_t)n;
	bool done = c->req_done;
	if (frame(c->cin, &c->cfwd, c->req_body, &c->req_left, &c->req_chunk, &done) < 0) {
		fail(c, 400);
		return -1;
	}
	px_alog_in(c->areq, c->cfwd - (uint32_t)n);	/* body bytes that came with the head */
	c->req_done = done;
	px_count(&c->g->stats.pools[c->pool].requests, 1);
	if (attach_backend(c, backend) < 0) {
		fail(c, 503);
		return -1;
	}
	c->sent_ns = ev_now(w->loop);
	return 1;
}

/* ---- the response head: 1 parsed (final or interim), 0 incomplete, < 0 an HTTP error ---- */
static int start_response(struct px_conn *c)
{
	struct px_worker *w = c->w;
	struct http_msg *m = &w->msg;
	struct px_buf *b = c->sin;
	const char *method = c->head_method ? "HEAD" : "GET";
	int r = http_parse_response(b->data + b->start + (c->sfwd - b->start),
				    b->end - c->sfwd, m, NULL, method, strlen(method));
	if (r == HTTP_AGAIN)
		return b->end - c->sfwd >= PX_BUF_SIZE - HEAD_ROOM ? -502 : 0;
	if (r < 0)
		return -502;
	if (m->status >= 100 && m->status < 200 && m->status != 101) {
		/* interim (100 Continue): passed on as it is; the final answer follows */
		c->sfwd += (uint32_t)m->head_len;
		count_response(c, m->status);
		return 1;
	}
	if (m->status == 101)
		return -502;	/* protocol upgrades are not proxied yet */
	if (c->sfwd != b->start)
		return 0;	/* send the interim answers first: the head is rewritten in place */
	struct lb_backend *be = &c->g->cfg->pools[c->pool]->backends[c->backend];
	uint64_t latency = ev_now(w->loop) - c->sent_ns;
	lb_backend_observe_latency(be, latency, ev_now(w->loop));
	px_observe_latency(c->g, c->pool, c->backend, latency);
	px_alog_backend_time(c->areq, latency);
	px_health_passive(c->g->cfg, c->pool, c->backend, true);
	px_policy_backend_result(c->g->cfg, c->pool, c->backend, m->status);
	c->server_keepalive = m->keep_alive;
	c->resp_body = (uint8_t)m->body;
	c->resp_left = m->content_length;
	http_chunked_init(&c->resp_chunk);
	c->resp_done = m->body == HTTP_BODY_NONE;
	c->dechunk = m->body == HTTP_BODY_CHUNKED && c->client_minor == 0;
	c->dc_state = DC_SIZE;
	c->dc_digits = 0;
	c->dc_left = 0;
	if (m->body == HTTP_BODY_CLOSE || c->dechunk)
		c->client_keepalive = false;	/* the end of the body is the end of the stream */
	char head[PX_BUF_SIZE];
	int n = rewrite_response(c, b->data + b->start, m, head, sizeof(head));
	if (n < 0 || replace_head(w, &c->sin, m->head_len, head, (size_t)n) < 0)
		return -502;
	c->sfwd = (uint32_t)n;
	c->resp_head_done = true;
	count_response(c, m->status);
	px_alog_status(c->areq, m->status, false);
	return frame_response(c) < 0 ? -502 : 1;
}

/* The exchange is over: keep what can be kept; then the next request, or the end. */
static void finish_exchange(struct px_conn *c)
{
	bool reuse = c->server_keepalive && c->resp_body != HTTP_BODY_CLOSE &&
		     c->sin->start == c->sin->end;
	log_end(c, PX_TERM_NONE);
	c->head_ns = 0;		/* a pipelined next request starts now */
	release_backend(c, reuse);
	px_buf_put(c->w, c->sin);
	c->sin = NULL;
	if (!c->client_keepalive) {
		shutdown(c->c.fd, SHUT_WR);
		close_conn(c);
		return;
	}
	c->state = ST_HEAD;
	c->resp_head_done = false;
	c->seen = 0;
	if (c->cin && c->cin->start == c->cin->end) {
		px_buf_put(c->w, c->cin);	/* idle keep-alive connections hold no buffer */
		c->cin = NULL;
	}
	phase_timer(c);
}

/* ---- the steps pump() runs; each says whether it made progress ---- */
static bool step_head(struct px_conn *c)
{
	uint32_t have = buf_len(c->cin);
	if (have > c->seen) {		/* bytes the parser has not seen: a head, maybe */
		c->seen = have;
		return start_request(c) != 0;
	}
	if (!c->c_rd)
		return false;
	bool first = have == 0;
	ssize_t n = read_into(c->w, c->c.fd, &c->cin, &c->cfwd, PX_BUF_SIZE - HEAD_ROOM, &c->c_rd,
			      c->c_hup);
	if (n > 0) {
		px_count(&c->ls->bytes_in, (uint64_t)n);
		if (first) {	/* a request has begun: it must now arrive in time */
			if (c->w->alog)	/* and the access log's time for it starts */
				c->head_ns = ev_now(c->w->loop);
			phase_timer(c);
		}
		return true;
	}
	if (n == -EAGAIN) {
		if (first) {	/* nothing came: an idle connection holds no buffer */
			px_buf_put(c->w, c->cin);
			c->cin = NULL;
		}
		return false;
	}
	close_conn(c);		/* the client left, or an error */
	return false;
}

static bool step_connect(struct px_conn *c)
{
	struct px_sconn *s = c->s;
	if (!s->wr)
		return false;
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(s->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		retry_or_fail(c, 503, true);
		return true;
	}
	s->connected = true;
	c->state = ST_PROXY;
	phase_timer(c);
	return true;
}

/* The backend's connection ended (or a write met its reset) before any of the response,
 * for a request without a body: if the connection was a kept-alive one, or the request is
 * safe to send twice (a fresh connection a backend closed as it shut down gracefully),
 * the request goes again on a new connection, to the same backend or another, as if this
 * one had never been tried. 0 if it did. */
static int reused_dead(struct px_conn *c)
{
	if (c->resp_head_done || buf_len(c->sin) != 0 || c->req_body != HTTP_BODY_NONE)
		return -1;
	if (!c->server_reused && (!c->safe_method || c->empty_retries >= 2))
		return -1;
	if (!c->server_reused)
		c->empty_retries++;
	c->sent_any = false;
	c->ntried--;
	c->cin->start = 0;	/* the request is still there: send it again */
	retry_or_fail(c, 502, false);
	return 0;
}

/* The backend's stream ended or broke before the response was complete. */
static void server_gone(struct px_conn *c)
{
	if (c->resp_body == HTTP_BODY_CLOSE && c->resp_head_done) {
		c->resp_done = true;	/* the end of an until-close body */
		c->server_keepalive = false;
		return;
	}
	if (reused_dead(c) == 0)
		return;
	backend_fault(c);
	if (c->resp_head_done)
		close_conn(c);
	else
		fail(c, 502);
}

static bool step_proxy(struct px_conn *c)
{
	struct px_sconn *s = c->s;
	bool progress = false;
	ssize_t n;
	if (s->wr && pending(c->cin, c->cfwd)) {	/* request bytes to the backend */
		n = px_buf_send(s->io.fd, c->cin, c->cfwd, &s->wr);
		if (n > 0) {
			c->sent_any = progress = true;
		} else if (n != -EAGAIN) {
			if (c->sent_any || reused_dead(c) < 0)
				retry_or_fail(c, 502, true);
			return true;
		}
	}
	if (s->rd && !c->resp_done) {			/* response bytes from the backend */
		bool head_done = c->resp_head_done;
		n = read_into(c->w, s->io.fd, &c->sin, &c->sfwd, PX_BUF_SIZE, &s->rd, s->hup);
		if (n > 0) {
			progress = true;
			if (head_done && frame_response(c) < 0) {
				backend_fault(c);
				close_conn(c);
				return false;
			}
			phase_timer(c);
		} else if (n != -EAGAIN && n != -ENOBUFS) {
			server_gone(c);
			return true;
		}
	}
	if (!c->resp_head_done && c->sin && c->sin->end > c->sfwd) {	/* a response head */
		int r = start_response(c);
		if (r < 0) {
			backend_fault(c);
			fail(c, -r);
			return true;
		}
		progress |= r == 1;
	}
	if (c->c_wr && pending(c->sin, c->sfwd)) {	/* response bytes to the client */
		n = px_buf_send(c->c.fd, c->sin, c->sfwd, &c->c_wr);
		if (n > 0) {
			px_count(&c->ls->bytes_out, (uint64_t)n);
			px_alog_out(c->areq, (uint64_t)n);
			progress = true;
		} else if (n != -EAGAIN) {
			close_conn(c);
			return false;
		}
	}
	if (c->c_rd && !c->req_done) {			/* more request body */
		n = read_into(c->w, c->c.fd, &c->cin, &c->cfwd, PX_BUF_SIZE, &c->c_rd, c->c_hup);
		if (n > 0) {
			px_count(&c->ls->bytes_in, (uint64_t)n);
			bool done = c->req_done;
			uint32_t was = c->cfwd;
			if (frame(c->cin, &c->cfwd, c->req_body, &c->req_left, &c->req_chunk,
				  &done) < 0) {
				fail(c, 400);
				return true;
			}
			px_alog_in(c->areq, c->cfwd - was);
			c->req_done = done;
			progress = true;
		} else if (n != -EAGAIN && n != -ENOBUFS) {
			close_conn(c);	/* the client left mid-request */
			return false;
		}
	}
	if (c->resp_done && c->req_done && !pending(c->sin, c->sfwd) && c->sin &&
	    !pending(c->cin, c->cfwd)) {
		finish_exchange(c);
		return true;
	}
	return progress;
}

static bool step_closing(struct px_conn *c)
{
	if (c->c_wr && pending(c->sin, c->sfwd)) {
		ssize_t n = px_buf_send(c->c.fd, c->sin, c->sfwd, &c->c_wr);
		if (n < 0 && n != -EAGAIN) {
			close_conn(c);
			return false;
		}
		if (n > 0) {
			px_count(&c->ls->bytes_out, (uint64_t)n);
			px_alog_out(c->areq, (uint64_t)n);
		}
	}
	if (!pending(c->sin, c->sfwd)) {
		shutdown(c->c.fd, SHUT_WR);
		close_conn(c);
	}
	return false;
}

/* Do all the work the readiness flags and the buffers allow. */
static void pump(struct px_conn *c)
{
	for (int round = 0; round < MAX_ROUNDS && !c->closed; round++) {
		bool progress;
		switch (c->state) {
		case ST_HEAD: progress = step_head(c); break;
		case ST_CONNECT: progress = step_connect(c); break;
		case ST_PROXY: progress = step_proxy(c); break;
		default: progress = step_closing(c); break;
		}
		if (!progress)
			return;
	}
	if (!c->closed) {	/* a long stream: let the others run, then go on */
		c->kicked = true;
		ev_timer_in(c->w->loop, &c->timer, 0);
	}
}

static void on_client(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_conn *c = io->data;
	if (c->closed)
		return;
	if (events & (EV_READ | EV_RDHUP | EV_HUP | EV_ERR))
		c->c_rd = true;
	if (events & (EV_RDHUP | EV_HUP | EV_ERR))
		c->c_hup = true;
	if (events & (EV_WRITE | EV_HUP | EV_ERR))
		c->c_wr = true;
	pump(c);
}

void px_http_server_event(struct px_conn *c)
{
	if (!c->closed)
		pump(c);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	struct px_conn *c = t->data;
	if (c->kicked) {
		c->kicked = false;
		phase_timer(c);
		pump(c);
		return;
	}
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
		backend_fault(c);
		if (c->resp_head_done)
			close_conn(c);
		else
			fail(c, 504);
		break;
	default:
		close_conn(c);
		return;
	}
	if (!c->closed)
		pump(c);
}

static void conn_free(void *p)
{
	struct px_conn *c = p;
	px_obj_put(c->w, c, sizeof(*c));
}

static void close_conn(struct px_conn *c)
{
	struct px_worker *w = c->w;
	if (c->closed)
		return;
	log_end(c, c->state == ST_CLOSING ? PX_TERM_NONE :	/* after an answer of its own */
		   c->c_hup ? PX_TERM_CLIENT_CLOSED : PX_TERM_ABORTED);
	c->closed = true;
	px_live_del(&c->live);
	px_gauge_add(&c->ls->active, -1);
	release_backend(c, false);
	close(c->c.fd);		/* closing the only descriptor also leaves epoll */
	ev_timer_stop(w->loop, &c->timer);
	px_buf_put(w, c->cin);
	px_buf_put(w, c->sin);
	c->cin = c->sin = NULL;
	px_wgen_put(c->g);
	px_bury(w, c, conn_free);
}

static void live_close(void *c) { close_conn(c); }

/* SIGTERM: a connection without a whole request yet (idle, or a head still arriving) is
 * closed now: nothing was accepted, and clients retry a request whose connection closed
 * before any answer. One in the middle of an exchange gets its answer with Connection:
 * close. */
static void live_drain(void *p)
{
	struct px_conn *c = p;
	if (c->state == ST_HEAD && !c->w->soft_drain)	/* soft: answered, then closed */
		close_conn(c);
	else
		c->client_keepalive = false;
}

void px_http_accept(struct px_listener *l, int fd, uint32_t client_ip, uint16_t client_port)
{
	struct px_worker *w = l->g->w;
	struct px_conn *c = px_obj_get(w, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w = w;
	c->g = l->g;
	c->g->refs++;
	c->l = l->cfg;
	c->li = (int)(l - l->g->listeners);
	c->ls = &c->g->stats.listeners[c->li];
	c->client_ip = client_ip;
	c->client_port = client_port;
	c->state = ST_HEAD;
	c->backend = -1;
	ev_io_init(&c->c, fd, on_client, c);
	ev_timer_init(&c->timer, on_timeout, c);
	if (ev_io_set(w->loop, &c->c, EV_READ | EV_WRITE | EV_RDHUP | EV_ET) < 0) {
		close(fd);
		px_wgen_put(c->g);
		px_obj_put(w, c, sizeof(*c));
		return;
	}
	px_live_add(w, &c->live, live_close, live_drain);
	px_gauge_add(&c->ls->active, 1);
	c->c_rd = true;		/* accepted after data may have arrived: look at once */
	phase_timer(c);
	pump(c);
}

/* For the request words: the client's address. */
uint32_t px_conn_client_ip(const struct px_conn *c) { return c->client_ip; }
