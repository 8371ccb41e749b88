/* http.c: the HTTP/1.1 message parser of the proxy (syntax from RFC 9112, meaning from
 * RFC 9110). A head is parsed in one pass over the caller's buffer and recorded as offsets;
 * a caller with an incomplete head calls again with more bytes and the head is parsed
 * anew, which the head limit keeps cheap. The checks are strict where two parsers could
 * read the same bytes differently (framing, line ends, folding): a proxy that is lenient
 * there lets a client smuggle a second request past it.
 *
 * Helpers of the head parser return 1 when they consumed what they look for, HTTP_AGAIN
 * when the bytes end before it does, or a negative HTTP_* error. */
#include <limits.h>
#include <string.h>
#include "afd/http.h"

#define DEFAULT_MAX_HEAD 16384
#define MAX_CONTENT_LENGTH (1ULL << 62)
#define CHUNK_LINE_MAX 4096		/* a chunk-size line with its extensions */
#define TRAILER_MAX 16384		/* all trailer fields and the final CRLF */

/* Character classes, one table lookup per byte. */
enum { C_TCHAR = 1, C_FIELD = 2, C_TARGET = 4, C_HOST = 8, C_SCHEME = 16 };

#define ALNUM(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') || \
		  ((c) >= 'a' && (c) <= 'z'))
#define TCHAR(c) (ALNUM(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || \
		  (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || \
		  (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
/* field-vchar, obs-text, SP, HTAB: everything but the controls */
#define FIELD(c) ((c) == '\t' || ((c) >= ' ' && (c) != 0x7f))
/* the request-target: no controls, no spaces; obs-text passes, as raw UTF-8 paths are
 * common and harmless to framing */
#define TARGET(c) ((c) > ' ' && (c) != 0x7f)
/* uri-host [ ":" port ]: reg-name (unreserved, pct-encoded, sub-delims), IP literals */
#define HOST(c) (ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' || \
		 (c) == '%' || (c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || \
		 (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || (c) == ',' || \
		 (c) == ';' || (c) == '=' || (c) == ':' || (c) == '[' || (c) == ']')
#define SCHEME(c) (ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.')
#define CLASS(c) (TCHAR(c) * C_TCHAR | FIELD(c) * C_FIELD | TARGET(c) * C_TARGET | \
		  HOST(c) * C_HOST | SCHEME(c) * C_SCHEME)
#define C4(c) CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define C16(c) C4(c), C4((c) + 4), C4((c) + 8), C4((c) + 12)
#define C64(c) C16(c), C16((c) + 16), C16((c) + 32), C16((c) + 48)

static const unsigned char cclass[256] = { C64(0), C64(64), C64(128), C64(192) };

static bool is(unsigned char c, int class) { return cclass[c] & class; }

static bool ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* Not tolower(): the locale must not change what a header name matches. */
static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Does buf's span equal lit (lower case), ignoring case? */
static bool span_is(const char *buf, struct http_span s, const char *lit, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)buf[s.off + i]) != (unsigned char)lit[i])
			return false;
	return true;
}
#define SPAN_IS(buf, s, lit) span_is(buf, s, lit, sizeof(lit) - 1)

static struct http_span span(size_t from, size_t to)
{
	return (struct http_span){ (uint32_t)from, (uint32_t)(to - from) };
}

/* ---- the head ---------------------------------------------------------------------- */

/* A head being parsed: end is the window it may read, the bytes received or the head
 * limit, whichever is smaller, so nothing past the limit is ever looked at. */
struct scan {
	const unsigned char *b;
	size_t pos, end;
	int bad;			/* what a syntax error returns */
	int badver;			/* what an unsupported HTTP version returns */
};

static int crlf(struct scan *s)
{
	if (s->pos == s->end)
		return HTTP_AGAIN;
	if (s->b[s->pos] != '\r')
		return s->bad;
	if (s->pos + 1 == s->end)
		return HTTP_AGAIN;
	if (s->b[s->pos + 1] != '\n')
		return s->bad;
	s->pos += 2;
	return 1;
}

/* RFC 9112 2.2 asks a server to ignore at least one empty line before the request line
 * (old clients add a CRLF after a POST body); two are ignored, a third is an error. */
static int skip_empty_lines(struct scan *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->pos < s->end && s->b[s->pos] != '\r')
			return 1;
		int r = crlf(s);
		if (r <= 0)
			return r;
	}
	return 1;
}

/* A token ended by `stop`, which is consumed. */
static int token(struct scan *s, struct http_span *out, unsigned char stop)
{
	size_t p = s->pos;
	while (p < s->end && is(s->b[p], C_TCHAR))
		p++;
	if (p == s->end)
		return HTTP_AGAIN;
	if (s->b[p] != stop || p == s->pos)
		return s->bad;
	*out = span(s->pos, p);
	s->pos = p + 1;
	return 1;
}

/* "HTTP/" DIGIT "." DIGIT, of which 1.0 and 1.1 are served. */
static int version(struct scan *s, int *minor)
{
	if (s->end - s->pos < 8)
		return HTTP_AGAIN;
	const unsigned char *v = s->b + s->pos;
	if (memcmp(v, "HTTP/", 5) != 0 || v[5] - '0' > 9u || v[6] != '.' || v[7] - '0' > 9u)
		return s->bad;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return s->badver;
	*minor = v[7] - '0';
	s->pos += 8;
	return 1;
}

/* The target's form must suit the method (RFC 9112 3.2): authority-form for CONNECT and
 * only for it, asterisk-form only for OPTIONS, otherwise origin-form or absolute-form. */
static bool target_form_ok(const char *buf, const struct http_msg *m)
{
	const unsigned char *t = (const unsigned char *)buf + m->target.off;
	uint32_t n = m->target.len, i = 0;
	if (SPAN_IS(buf, m->method, "connect") && m->method.len && buf[m->method.off] == 'C') {
		const unsigned char *colon = memrchr(t, ':', n);
		for (; i < n && is(t[i], C_HOST); i++)
			;
		size_t port = colon ? n - (uint32_t)(colon - t) - 1 : 0;
		return i == n && port >= 1 && port <= 5 && colon[1] - '0' <= 9u &&
		       strspn((const char *)colon + 1, "0123456789") >= port;
	}
	if (t[0] == '/')
		return true;
	if (n == 1 && t[0] == '*')
		return m->method.len == 7 && memcmp(buf + m->method.off, "OPTIONS", 7) == 0;
	if (!(t[0] >= 'A' && t[0] <= 'Z') && !(t[0] >= 'a' && t[0] <= 'z'))
		return false;
	while (i < n && is(t[i], C_SCHEME))
		i++;
	return i < n && t[i] == ':';
}

static int target(struct scan *s, struct http_span *out)
{
	size_t p = s->pos;
	while (p < s->end && is(s->b[p], C_TARGET))
		p++;
	if (p == s->end)
		return HTTP_AGAIN;
	if (s->b[p] != ' ' || p == s->pos)
		return s->bad;
	*out = span(s->pos, p);
	s->pos = p + 1;
	return 1;
}

/* method SP request-target SP HTTP-version CRLF */
static int request_line(struct scan *s, struct http_msg *m)
{
	int r = token(s, &m->method, ' ');
	if (r > 0)
		r = target(s, &m->target);
	if (r > 0 && !target_form_ok((const char *)s->b, m))
		r = s->bad;
	if (r > 0)
		r = version(s, &m->minor);
	if (r > 0)
		r = crlf(s);
	return r;
}

/* HTTP-version SP 3DIGIT SP reason CRLF; some servers leave out the SP before an empty
 * reason. */
static int status_line(struct scan *s, struct http_msg *m)
{
	int r = version(s, &m->minor);
	if (r <= 0)
		return r;
	if (s->end - s->pos < 5)
		return HTTP_AGAIN;
	const unsigned char *c = s->b + s->pos;
	if (c[0] != ' ' || c[1] - '1' > 4u || c[2] - '0' > 9u || c[3] - '0' > 9u)
		return s->bad;
	m->status = (c[1] - '0') * 100 + (c[2] - '0') * 10 + (c[3] - '0');
	s->pos += 4;
	if (c[4] == ' ')
		s->pos++;
	else if (c[4] != '\r')
		return s->bad;
	size_t p = s->pos;
	while (p < s->end && is(s->b[p], C_FIELD))
		p++;
	m->reason = span(s->pos, p);
	s->pos = p;
	return crlf(s);
}

/* field-name ":" OWS field-value OWS CRLF. White space before the colon and a line that
 * starts with white space (obs-fold) are not tokens, so they fail here. */
static int field(struct scan *s, struct http_header *h)
{
	int r = token(s, &h->name, ':');
	if (r <= 0)
		return r;
	size_t p = s->pos;
	while (p < s->end && ows(s->b[p]))
		p++;
	size_t v = p;
	while (p < s->end && is(s->b[p], C_FIELD))
		p++;
	size_t vend = p;
	while (vend > v && ows(s->b[vend - 1]))
		vend--;
	h->value = span(v, vend);
	s->pos = p;
	return crlf(s);
}

/* Header lines up to the empty line; too many is decided at the first one too many. */
static int fields(struct scan *s, struct http_msg *m, int max)
{
	for (;;) {
		if (s->pos == s->end)
			return HTTP_AGAIN;
		if (s->b[s->pos] == '\r')
			return crlf(s);
		if (m->nheaders == max)
			return HTTP_TOO_LARGE;
		int r = field(s, &m->headers[m->nheaders]);
		if (r <= 0)
			return r;
		m->nheaders++;
	}
}

static void msg_reset(struct http_msg *m)
{
	m->method = m->target = m->reason = (struct http_span){ 0, 0 };
	m->status = m->minor = m->nheaders = 0;
	m->head_len = 0;
	m->body = HTTP_BODY_NONE;
	m->content_length = 0;
	m->keep_alive = m->expect_continue = m->upgrade = false;
	m->host = -1;
}

/* The syntax of a head; returns its length. A head still incomplete when the limit is
 * reached is too large now, not when its end arrives. */
static int parse_head(const char *buf, size_t len, struct http_msg *m,
		      const struct http_limits *lim, bool response)
{
	size_t max_head = lim && lim->max_head ? lim->max_head : DEFAULT_MAX_HEAD;
	int max_headers = lim && lim->max_headers ? lim->max_headers : HTTP_MAX_HEADERS;
	if (max_head > INT_MAX)
		max_head = INT_MAX;
	if (max_headers > HTTP_MAX_HEADERS || max_headers < 0)
		max_headers = HTTP_MAX_HEADERS;
	struct scan s = { (const unsigned char *)buf, 0, len < max_head ? len : max_head,
			  response ? HTTP_BAD_GATEWAY : HTTP_BAD,
			  response ? HTTP_BAD_GATEWAY : HTTP_BAD_VERSION };
	msg_reset(m);
	int r = response ? status_line(&s, m) : skip_empty_lines(&s);
	if (r > 0 && !response)
		r = request_line(&s, m);
	if (r > 0)
		r = fields(&s, m, max_headers);
	if (r == HTTP_AGAIN && len >= max_head)
		return HTTP_TOO_LARGE;
	if (r > 0)
		m->head_len = s.pos;
	return r;
}

/* ---- the meaning of the head --------------------------------------------------------- */

/* The headers that decide framing and the connection, found in one pass. */
struct survey {
	int ncl, nte, nhost;
	int cl, te;			/* index of the first of each */
	bool close, keep_alive, upgrade_token;
	bool upgrade_header, expect_continue;
};

/* The next element of a comma-separated list (RFC 9110 5.6.1), without its OWS; empty
 * elements are skipped, as recipients must accept them. False at the end. */
static bool list_next(const char *buf, struct http_span *rest, struct http_span *elem)
{
	const char *p = buf + rest->off, *end = p + rest->len;
	for (;;) {
		while (p < end && (ows(*p) || *p == ','))
			p++;
		if (p == end)
			return false;
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		*rest = span((size_t)(e - buf), (size_t)(end - buf));
		while (e > p && ows(e[-1]))
			e--;
		*elem = span((size_t)(p - buf), (size_t)(e - buf));
		return true;
	}
}

static void connection_tokens(const char *buf, struct http_span v, struct survey *sv)
{
	struct http_span t;
	while (list_next(buf, &v, &t)) {
		sv->close |= SPAN_IS(buf, t, "close");
		sv->keep_alive |= SPAN_IS(buf, t, "keep-alive");
		sv->upgrade_token |= SPAN_IS(buf, t, "upgrade");
	}
}

static void survey_one(const char *buf, const struct http_header *h, int i, struct survey *sv)
{
	switch (h->name.len) {
	case 4:
		if (SPAN_IS(buf, h->name, "host") && sv->nhost++ == 0)
			sv->host_dummy_unused = 0;
		break;
	}
}
