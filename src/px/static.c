/* static.c: http-static-server, a small HTTP/1.1 server for demos and tests: it answers
 * every request with its text (keep-alive, pipelining and request bodies handled), so AFD
 * can show balancing on a bare machine with nothing else installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "px.h"

struct px_static {
	struct px_live live;		/* first: the worker's list of open connections */
	struct px_worker *w;
	struct px_wgen *g;		/* its generation (the body lives there) */
	const struct px_listener_cfg *l;
	struct ev_io io;
	struct ev_timer timer;
	struct px_buf *in, *out;
	uint64_t skip;			/* request body bytes still to discard */
	struct http_chunked chunk;
	bool chunked, keepalive, closing;
	bool closed;			/* events of its last batch may still come: ignored */
};

static void static_close(struct px_static *s);

static void static_free(void *p)
{
	struct px_static *s = p;
	px_obj_put(s->w, s, sizeof(*s));
}

static void static_close(struct px_static *s)
{
	if (s->closed)
		return;
	s->closed = true;
	px_live_del(&s->live);
	ev_io_set(s->w->loop, &s->io, 0);
	ev_timer_stop(s->w->loop, &s->timer);
	close(s->io.fd);
	px_buf_put(s->w, s->in);
	px_buf_put(s->w, s->out);
	px_wgen_put(s->g);
	px_bury(s->w, s, static_free);
}

/* Append the answer to one request to the output buffer; -1 if it does not fit now. */
static int answer(struct px_static *s, const struct http_msg *m, const char *src)
{
	const struct px_listener_cfg *l = s->l;
	bool head = m->method.len == 4 && !memcmp(src + m->method.off, "HEAD", 4);
	if (!s->out && !(s->out = px_buf_get(s->w)))
		return -1;
	struct px_buf *o = s->out;
	size_t room = PX_BUF_SIZE - o->end;
	int n = snprintf(o->data + o->end, room,
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Server: afd-static\r\n%s\r\n", l->bodylen,
			 m->keep_alive && !s->w->draining ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n + (head ? 0 : l->bodylen) > room)
		return -1;
	o->end += (uint32_t)n;
	if (!head) {
		memcpy(o->data + o->end, l->body, l->bodylen);
		o->end += (uint32_t)l->bodylen;
	}
	return 0;
}

/* Consume whole requests from the input; stop at a partial one. */
static int serve(struct px_static *s)
{
	struct px_buf *b = s->in;
	while (b && b->start < b->end && !s->closing) {
		if (s->skip || s->chunked) {	/* a body we do not need */
			uint32_t avail = b->end - b->start;
			if (s->chunked) {
				bool done = false;
				ssize_t n = http_chunked_feed(&s->chunk, b->data + b->start, avail, &done);
				if (n < 0)
					return -1;
				b->start += (uint32_t)n;
				s->chunked = !done;
			} else {
				uint64_t n = s->skip < avail ? s->skip : avail;
				b->start += (uint32_t)n;
				s->skip -= n;
			}
			continue;
		}
		struct http_msg *m = &s->w->msg;
		int r = http_parse_request(b->data + b->start, b->end - b->start, m, NULL);
		if (r == HTTP_AGAIN)
			return b->end - b->start >= PX_BUF_SIZE / 2 ? -1 : 0;
		if (r < 0 || answer(s, m, b->data + b->start) < 0)
			return -1;
		b->start += (uint32_t)m->head_len;
		s->skip = m->body == HTTP_BODY_LENGTH ? m->content_length : 0;
		s->chunked = m->body == HTTP_BODY_CHUNKED;
		if (s->chunked)
			http_chunked_init(&s->chunk);
		if (!m->keep_alive || s->w->draining)
			s->closing = true;
	}
	if (b && b->start == b->end)
		b->start = b->end = 0;
	return 0;
}

static void on_static(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_static *s = io->data;
	if (s->closed)
		return;
	if ((events & EV_READ) && !s->closing) {
		if (!s->in && !(s->in = px_buf_get(s->w))) {
			static_close(s);
			return;
		}
		if (s->in->end == PX_BUF_SIZE && s->in->start) {
			memmove(s->in->data, s->in->data + s->in->start, s->in->end - s->in->start);
			s->in->end -= s->in->start;
			s->in->start = 0;
		}
		ssize_t n = recv(io->fd, s->in->data + s->in->end, PX_BUF_SIZE - s->in->end, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			static_close(s);
			return;
		}
		if (n > 0)
			s->in->end += (uint32_t)n;
		if (serve(s) < 0) {
			static_close(s);
			return;
		}
	}
	if (s->out && s->out->start < s->out->end) {
		ssize_t n = send(io->fd, s->out->data + s->out->start, s->out->end - s->out->start,
				 MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			static_close(s);
			return;
		}
		if (n > 0)
			s->out->start += (uint32_t)n;
	}
	bool pending = s->out && s->out->start < s->out->end;
	if (!pending && s->out) {
		px_buf_put(s->w, s->out);
		s->out = NULL;
	}
	if (!pending && s->closing) {
		static_close(s);
		return;
	}
	if (s->in && s->in->start == s->in->end) {
		px_buf_put(s->w, s->in);
		s->in = NULL;
	}
	ev_io_set(loop, io, pending ? EV_WRITE : EV_READ);
	ev_timer_in(loop, &s->timer, s->g->cfg->idle_timeout_ns);
}

static void on_static_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	static_close(t->data);
}

static void live_close(void *s) { static_close(s); }

static void live_drain(void *p)
{
	struct px_static *s = p;
	if (!s->in && !s->out)	/* idle between requests */
		static_close(s);
	else
		s->closing = true;
}

void px_static_accept(struct px_listener *l, int fd)
{
	struct px_worker *w = l->g->w;
	struct px_static *s = px_obj_get(w, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->w = w;
	s->g = l->g;
	s->g->refs++;
	s->l = l->cfg;
	ev_io_init(&s->io, fd, on_static, s);
	ev_timer_init(&s->timer, on_static_timeout, s);
	px_live_add(w, &s->live, live_close, live_drain);
	ev_io_set(w->loop, &s->io, EV_READ);
	ev_timer_in(w->loop, &s->timer, s->g->cfg->client_timeout_ns);
}
