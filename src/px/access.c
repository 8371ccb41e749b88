/* access.c: the access log, written by the workers.
 *
 * Each worker formats its lines into a buffer of its own, so logging a request takes no lock
 * and no system call: the buffer is written with one write(2) when it holds ALOG_FLUSH
 * bytes, ALOG_TICK after its first line (an ev timer of the worker's loop, armed only while
 * lines wait: an idle worker does not wake up for the log), and when the worker stops. What
 * a line needs from the request head is copied into a record when the head is parsed,
 * because the head itself is rewritten and sent on long before the exchange ends.
 *
 * Bounded: the buffer never grows. A destination that would block keeps what it did not
 * take for the next tick; a line that finds no room, or a write that fails (ENOSPC, EIO), is
 * dropped and counted (afd_log_lines_dropped_total). On a pipe, lines go in writes of at
 * most PIPE_BUF bytes cut at line ends, each whole, so the workers' lines never mix. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "log.h"
#include "px.h"

#define ALOG_BUF (160 * 1024)
#define ALOG_FLUSH (64 * 1024)		/* write when this much waits */
#define ALOG_LINE_MAX (32 * 1024)	/* the most one line can take, hostile bytes escaped */
#define ALOG_TICK 100000000ull		/* ns: the longest a line waits */
#define MAX_FREE_RECS 64

struct px_alog {
	struct px_worker *w;
	struct ev_timer timer;
	struct px_areq *free;		/* records to reuse */
	int nfree;
	bool json;
	uint32_t len;			/* bytes waiting in buf */
	int64_t sec;			/* the second `date` holds */
	uint64_t dropped;		/* lines dropped not yet said in the event log */
	uint64_t said_ns;		/* when it last said so: at most once a second */
	char date[PX_LOG_TIME_LEN + 1];
	char buf[ALOG_BUF];
};

/* ---- writing the buffer ---- */
/* Lines lost: counted at once (metrics), and said in the event log at most once a second
 * per worker, so a full disk is seen without flooding the event log too. */
static void dropped(struct px_alog *a, uint64_t n, int err)
{
	px_log_count(PX_LOG_ACCESS, 0, n);
	a->dropped += n;
	uint64_t now = ev_now(a->w->loop);
	if (a->said_ns && now - a->said_ns < 1000000000ull)
		return;
	px_log_event(PX_LOG_WARN, "worker %d: access log: %llu line%s dropped (%s)", a->w->id,
		     (unsigned long long)a->dropped, a->dropped == 1 ? "" : "s", strerror(err));
	a->said_ns = now ? now : 1;
	a->dropped = 0;
}

static uint32_t count_lines(const char *p, size_t n)
{
	uint32_t k = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	return k;
}

/* How much of buf[off..len) to write at once: all of it, or on a pipe whole lines of at
 * most PIPE_BUF bytes (a single longer line goes alone). */
static size_t chunk(const struct px_alog *a, uint32_t off, bool pipe)
{
	size_t n = a->len - off;
	if (!pipe || n <= PIPE_BUF)
		return n;
	const char *p = a->buf + off;
	const char *nl = memrchr(p, '\n', PIPE_BUF);
	if (nl)
		return (size_t)(nl - p) + 1;
	nl = memchr(p + PIPE_BUF, '\n', n - PIPE_BUF);
	return nl ? (size_t)(nl - p) + 1 : n;
}

static void flush(struct px_alog *a)
{
	bool pipe = px_log_is_pipe(PX_LOG_ACCESS);
	uint32_t off = 0;
	while (off < a->len) {
		size_t n = chunk(a, off, pipe);
		ssize_t r = px_log_write(PX_LOG_ACCESS, a->buf + off, n);
		if (r > 0) {
			px_log_count(PX_LOG_ACCESS, count_lines(a->buf + off, (size_t)r), 0);
			off += (uint32_t)r;
			continue;
		}
		if (r == -EAGAIN)	/* full for now: keep the rest for the next tick */
			break;
		/* failed (ENOSPC, EIO, EBADF...): what waits is lost */
		dropped(a, count_lines(a->buf + off, a->len - off), r < 0 ? (int)-r : EIO);
		off = a->len;
	}
	memmove(a->buf, a->buf + off, a->len - off);
	a->len -= off;
	if (a->len && !ev_timer_armed(&a->timer))
		ev_timer_in(a->w->loop, &a->timer, ALOG_TICK);
}

static void on_tick(struct ev_loop *loop, struct ev_timer *t)
{
	flush(t->data);
}

/* ---- formatting: an output that never runs past its end ---- */
struct out {
	char *p, *end;
};

/* Inlined: most copies are of literals, whose length and memcpy the compiler then folds. */
static inline __attribute__((always_inline)) void put(struct out *o, const char *s, size_t n)
{
	if (n > (size_t)(o->end - o->p))
		n = (size_t)(o->end - o->p);
	memcpy(o->p, s, n);
	o->p += n;
}

static inline __attribute__((always_inline)) void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Numbers two digits at a time: a line has about twenty of them. */
static const char two_digits[] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

static void put_u64(struct out *o, uint64_t v)
{
	int n = 1;
	for (uint64_t t = v; t >= 10; t /= 10)
		n++;
	if (o->end - o->p < n)
		return;
	char *p = o->p + n;	/* written from the end, straight into the line */
	o->p = p;
	while (v >= 100) {
		p -= 2;
		memcpy(p, two_digits + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, two_digits + v * 2, 2);
	} else {
		*--p = (char)('0' + v);
	}
}

/* ns as milliseconds with three decimals: 1.234 */
static void put_ms(struct out *o, uint64_t ns)
{
	uint64_t us = ns / 1000;
	char frac[4] = { '.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10),
			 (char)('0' + us % 10) };
	put_u64(o, us / 1000);
	put(o, frac, 4);
}

static void put_addr(struct out *o, uint32_t ip, uint16_t port)
{
	for (int i = 3; i >= 0; i--) {
		put_u64(o, (ip >> (8 * i)) & 255);
		put(o, i ? "." : ":", 1);
	}
	put_u64(o, port);
}

/* Bytes as they may appear in a line: text escapes " \ and every byte outside printable
 * ASCII as \xHH (as nginx does); JSON escapes " and \ and writes every byte outside
 * printable ASCII as \u00HH, so the line is valid JSON (and ASCII) whatever came in. */
static bool plain(unsigned char ch) { return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'; }

static void put_esc(struct out *o, const char *s, size_t n, bool json)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		size_t run = i;
		while (run < n && plain((unsigned char)s[run]))
			run++;
		put(o, s + i, run - i);	/* the usual case: all of it, in one copy */
		if ((i = run) == n)
			break;
		unsigned char ch = (unsigned char)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
		if (json && (ch == '"' || ch == '\\'))
			put(o, (char[]){ '\\', (char)ch }, 2);
		else if (json)
			put(o, e, 6);
		else
			put(o, (char[]){ '\\', 'x', e[4], e[5] }, 4);
	}
}

/* A string field: "escaped" (null in JSON, "-" in text, when absent). */
static void put_str(struct out *o, const char *s, size_t n, bool present, bool json)
{
	if (!present) {
		puts_(o, json ? "null" : "\"-\"");
		return;
	}
	put(o, "\"", 1);
	put_esc(o, s, n, json);
	put(o, "\"", 1);
}

/* The request's start as RFC 3339 UTC with milliseconds; the date part is made once a
 * second. start_ns is monotonic (ev_now): the wall clock is read now and set back. */
static void put_time(struct px_alog *a, struct out *o, uint64_t start_ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ago = (int64_t)(ev_now(a->w->loop) - start_ns);
	int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (ago > 0 ? ago / 1000000 : 0);
	if (ms / 1000 != a->sec) {
		a->sec = ms / 1000;
		px_log_rfc3339(a->date, a->sec, 0);
	}
	put(o, a->date, 20);	/* 2026-01-02T03:04:05. */
	char f[4] = { (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10),
		      'Z' };
	put(o, f, 4);
}

static const char *term_name(const struct px_areq *r, const struct px_alog_end *e)
{
	static const char *const names[] = {
		[PX_TERM_CLIENT_CLOSED] = "client-closed", [PX_TERM_ABORTED] = "aborted",
		[PX_TERM_TIMEOUT] = "timeout", [PX_TERM_CONNECT] = "connect-failed",
		[PX_TERM_NO_BACKEND] = "no-backend",
	};
	if (e->term != PX_TERM_NONE)
		return names[e->term];
	if (!r || !r->own)
		return NULL;
	switch (r->status) {	/* afd's own answers: why it made one */
	case 400: return "bad-request";
	case 408: return "client-timeout";
	case 431: return "head-too-large";
	case 500: return "route-error";
	case 501: return "not-implemented";
	case 502: return "bad-gateway";
	case 503: return e->tries ? "connect-failed" : "no-backend";
	case 504: return "server-timeout";
	case 505: return "bad-version";
	default: return "error";
	}
}

/* The fields both kinds of line end with: pool, backend, times, retries, why it ended. */
static void put_tail(struct px_alog *a, struct out *o, const struct px_alog_end *e,
		     const char *term, uint64_t duration_ns, uint64_t backend_ns)
{
	const struct px_config *cfg = e->cfg;
	const char *pool = e->pool >= 0 ? cfg->pools[e->pool]->name : NULL;
	const struct lb_backend *b = pool && e->backend >= 0 ?
		&cfg->pools[e->pool]->backends[e->backend] : NULL;
	uint64_t retries = e->tries > 1 ? (uint64_t)e->tries - 1 : 0;
	if (a->json) {
		puts_(o, ",\"pool\":");
		put_str(o, pool, pool ? strlen(pool) : 0, pool, true);
		puts_(o, ",\"backend\":");
		if (b) {
			put(o, "\"", 1);
			put_addr(o, b->ip, b->port);
			put(o, "\"", 1);
		} else {
			puts_(o, "null");
		}
		puts_(o, ",\"duration_ms\":");
		put_ms(o, duration_ns);
		puts_(o, ",\"backend_ms\":");
		if (backend_ns)
			put_ms(o, backend_ns);
		else
			puts_(o, "null");
		puts_(o, ",\"retries\":");
		put_u64(o, retries);
		puts_(o, ",\"term\":");
		put_str(o, term, term ? strlen(term) : 0, term, true);
		puts_(o, "}\n");
		return;
	}
	put(o, " ", 1);
	if (pool)
		put_esc(o, pool, strlen(pool), false);
	else
		put(o, "-", 1);
	put(o, " ", 1);
	if (b)
		put_addr(o, b->ip, b->port);
	else
		put(o, "-", 1);
	put(o, " ", 1);
	put_ms(o, duration_ns);
	put(o, " ", 1);
	if (backend_ns)
		put_ms(o, backend_ns);
	else
		put(o, "-", 1);
	put(o, " ", 1);
	put_u64(o, retries);
	put(o, " ", 1);
	puts_(o, term ? term : "-");
	put(o, "\n", 1);
}

/* Room for one more line (writing what waits if need be); false: the line is dropped. */
static bool room(struct px_alog *a)
{
	if (ALOG_BUF - a->len < ALOG_LINE_MAX)
		flush(a);
	if (ALOG_BUF - a->len >= ALOG_LINE_MAX)
		return true;
	dropped(a, 1, EAGAIN);	/* the destination would block, and the buffer is full */
	return false;
}

/* The line in buf[len..o->p) is complete. */
static void commit(struct px_alog *a, struct out *o)
{
	if (o->p == o->end)	/* cannot happen within ALOG_LINE_MAX; never half a line */
		o->p[-1] = '\n';
	a->len = (uint32_t)(o->p - a->buf);
	if (a->len >= ALOG_FLUSH)
		flush(a);
	else if (!ev_timer_armed(&a->timer))
		ev_timer_in(a->w->loop, &a->timer, ALOG_TICK);
}

static void start_line(struct px_alog *a, struct out *o, const struct px_alog_end *e,
		       uint64_t start_ns)
{
	o->p = a->buf + a->len;
	o->end = o->p + ALOG_LINE_MAX;
	if (a->json) {
		puts_(o, "{\"time\":\"");
		put_time(a, o, start_ns);
		puts_(o, "\",\"client\":\"");
		put_addr(o, e->client_ip, e->client_port);
		put(o, "\"", 1);
	} else {
		put_addr(o, e->client_ip, e->client_port);
		puts_(o, " - - [");
		put_time(a, o, start_ns);
		puts_(o, "] ");
	}
}

/* ---- one HTTP request ---- */
static void http_text(struct out *o, const struct px_areq *r)
{
	put(o, "\"", 1);
	if (r->parsed) {
		put_esc(o, r->method, r->method_len, false);
		put(o, " ", 1);
	}
	put_esc(o, r->target, r->target_len, false);
	if (r->cut)
		puts_(o, "...");
	if (r->parsed)
		puts_(o, r->minor ? " HTTP/1.1" : " HTTP/1.0");
	puts_(o, "\" ");
	put_u64(o, r->status);
	put(o, " ", 1);
	put_u64(o, r->bytes_out);
	put(o, " ", 1);
	put_str(o, r->referer, r->referer_len, r->referer_len, false);
	put(o, " ", 1);
	put_str(o, r->ua, r->ua_len, r->ua_len, false);
	put(o, " ", 1);
	put_str(o, r->host, r->host_len, r->host_len, false);
	put(o, " ", 1);
	put_u64(o, r->bytes_in);
}

static void http_json(struct out *o, const struct px_areq *r)
{
	puts_(o, ",\"method\":");
	put_str(o, r->method, r->method_len, r->parsed, true);
	puts_(o, ",\"target\":\"");
	put_esc(o, r->target, r->target_len, true);
	puts_(o, r->cut ? "...\"" : "\"");
	puts_(o, ",\"protocol\":");
	puts_(o, !r->parsed ? "null" : r->minor ? "\"HTTP/1.1\"" : "\"HTTP/1.0\"");
	puts_(o, ",\"status\":");
	put_u64(o, r->status);
	puts_(o, ",\"bytes_in\":");
	put_u64(o, r->bytes_in);
	puts_(o, ",\"bytes_out\":");
	put_u64(o, r->bytes_out);
	puts_(o, ",\"referer\":");
	put_str(o, r->referer, r->referer_len, r->referer_len, true);
	puts_(o, ",\"user_agent\":");
	put_str(o, r->ua, r->ua_len, r->ua_len, true);
	puts_(o, ",\"host\":");
	put_str(o, r->host, r->host_len, r->host_len, true);
}

static void rec_put(struct px_alog *a, struct px_areq *r)
{
	if (a->nfree >= MAX_FREE_RECS) {
		free(r);
		return;
	}
	r->next = a->free;
	a->free = r;
	a->nfree++;
}

void px_alog_http(struct px_worker *w, struct px_areq **rp, const struct px_alog_end *e)
{
	struct px_alog *a = w->alog;
	struct px_areq *r = *rp;
	*rp = NULL;
	if (!a) {	/* the access log was turned off during the request */
		free(r);
		return;
	}
	if (!r)
		return;
	if (room(a)) {
		struct px_alog_end routed = *e;
		if (!r->parsed)	/* a head that did not parse was not routed */
			routed.pool = routed.backend = -1;
		e = &routed;
		struct out o;
		start_line(a, &o, e, r->start_ns);
		if (a->json)
			http_json(&o, r);
		else
			http_text(&o, r);
		put_tail(a, &o, e, term_name(r, e), ev_now(w->loop) - r->start_ns, r->backend_ns);
		commit(a, &o);
	}
	rec_put(a, r);
}

/* ---- one L4 connection ---- */
void px_alog_tcp(struct px_worker *w, const struct px_alog_end *e, uint32_t listen_ip,
		 uint16_t listen_port, uint64_t start_ns, uint64_t connect_ns,
		 uint64_t bytes_in, uint64_t bytes_out)
{
	struct px_alog *a = w->alog;
	if (!a || !room(a))
		return;
	struct out o;
	start_line(a, &o, e, start_ns);
	if (a->json) {
		puts_(&o, ",\"protocol\":\"tcp\",\"listener\":\"");
		put_addr(&o, listen_ip, listen_port);
		puts_(&o, "\",\"bytes_in\":");
		put_u64(&o, bytes_in);
		puts_(&o, ",\"bytes_out\":");
		put_u64(&o, bytes_out);
	} else {
		puts_(&o, "\"TCP ");
		put_addr(&o, listen_ip, listen_port);
		puts_(&o, "\" - ");
		put_u64(&o, bytes_out);
		puts_(&o, " \"-\" \"-\" \"-\" ");
		put_u64(&o, bytes_in);
	}
	put_tail(a, &o, e, term_name(NULL, e), ev_now(w->loop) - start_ns,
		 connect_ns > start_ns ? connect_ns - start_ns : 0);
	commit(a, &o);
}

/* ---- the record of a request ---- */
static uint16_t copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n > cap)
		n = cap;
	memcpy(dst, src, n);
	return (uint16_t)n;
}

static void copy_headers(struct px_areq *r, const char *head, const struct http_msg *m)
{
	for (int i = 0; i < m->nheaders; i++) {
		const struct http_header *h = &m->headers[i];
		const char *name = head + h->name.off, *v = head + h->value.off;
		if (i == m->host)
			r->host_len = copy_field(r->host, sizeof(r->host), v, h->value.len);
		else if (h->name.len == 10 && !strncasecmp(name, "user-agent", 10))
			r->ua_len = copy_field(r->ua, sizeof(r->ua), v, h->value.len);
		else if (h->name.len == 7 && !strncasecmp(name, "referer", 7))
			r->referer_len = copy_field(r->referer, sizeof(r->referer), v, h->value.len);
	}
}

/* A head that did not parse: its first line as it came, up to CR or LF. */
static void copy_raw_line(struct px_areq *r, const char *head, size_t len)
{
	size_t i = 0;
	while (i < len && (head[i] == '\r' || head[i] == '\n'))
		i++;
	size_t end = i;
	while (end < len && head[end] != '\r' && head[end] != '\n')
		end++;
	r->target_len = copy_field(r->target, sizeof(r->target), head + i, end - i);
	r->cut = end - i > sizeof(r->target);
	r->bytes_in = len;
}

struct px_areq *px_alog_begin(struct px_worker *w, const char *head, size_t len,
			      const struct http_msg *m, uint64_t start_ns)
{
	struct px_alog *a = w->alog;
	struct px_areq *r = a->free;
	if (r) {
		a->free = r->next;
		a->nfree--;
	} else if (!(r = malloc(sizeof(*r)))) {
		return NULL;	/* no record: the request goes unlogged, the proxy goes on */
	}
	r->start_ns = start_ns ? start_ns : ev_now(w->loop);
	r->backend_ns = r->bytes_out = 0;
	r->status = 0;
	r->own = r->cut = false;
	r->method_len = 0;
	r->target_len = r->ua_len = r->referer_len = r->host_len = 0;
	r->parsed = m != NULL;
	if (!m) {
		copy_raw_line(r, head, len);
		return r;
	}
	r->minor = (uint8_t)m->minor;
	r->method_len = (uint8_t)copy_field(r->method, sizeof(r->method), head + m->method.off,
					    m->method.len);
	r->target_len = copy_field(r->target, sizeof(r->target), head + m->target.off,
				   m->target.len);
	r->cut = m->target.len > sizeof(r->target);
	r->bytes_in = m->head_len;	/* the body is counted as it is framed */
	copy_headers(r, head, m);
	return r;
}

/* ---- a worker's log ---- */
int px_alog_sync(struct px_worker *w)
{
	if (!px_log_on(PX_LOG_ACCESS)) {
		px_alog_fini(w);
		return 0;
	}
	if (w->alog) {
		w->alog->json = px_log_json(PX_LOG_ACCESS);
		return 0;
	}
	struct px_alog *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->w = w;
	a->free = NULL;
	a->nfree = 0;
	a->len = 0;
	a->sec = -1;
	a->dropped = a->said_ns = 0;
	a->json = px_log_json(PX_LOG_ACCESS);
	ev_timer_init(&a->timer, on_tick, a);
	w->alog = a;
	return 0;
}

void px_alog_fini(struct px_worker *w)
{
	struct px_alog *a = w->alog;
	if (!a)
		return;
	flush(a);
	a->said_ns = 0;		/* the last word on what was lost */
	if (a->len || a->dropped)	/* the destination would still block: give up */
		dropped(a, count_lines(a->buf, a->len), EAGAIN);
	ev_timer_stop(w->loop, &a->timer);
	while (a->free) {
		struct px_areq *next = a->free->next;
		free(a->free);
		a->free = next;
	}
	free(a);
	w->alog = NULL;
}
