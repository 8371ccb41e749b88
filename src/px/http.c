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

static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Does buf's span equal the n bytes of name, ignoring case? */
static bool span_is(const char *buf, struct http_span s, const char *name, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)buf[s.off + i]) != lower((unsigned char)name[i]))
			return false;
	return true;
}
#define SPAN_IS(buf, s, lit) span_is(buf, s, lit, sizeof(lit) - 1)

/* Are all bytes of the span in the class? */
static bool span_all(const char *buf, struct http_span s, int class)
{
	for (uint32_t i = 0; i < s.len; i++)
		if (!is((unsigned char)buf[s.off + i], class))
			return false;
	return true;
}

static struct http_span span(size_t from, size_t to)
{
	return (struct http_span){ (uint32_t)from, (uint32_t)(to - from) };
}

/* Eight bytes at a time: true when no byte is below lo and none is DEL, so that a class
 * holding all other bytes (field values, targets) can skip the word without a lookup per
 * byte. Subtracting lo from every byte sets the top bit of the lowest byte below lo (and
 * of a DEL, xored to zero and less one); borrows may flag more significant bytes too,
 * which only sends us to the byte loop early. */
static bool clean_word(const unsigned char *p, unsigned lo)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t w, del;
	memcpy(&w, p, 8);
	del = w ^ (ones * 0x7f);
	return ((((w - ones * lo) & ~w) | ((del - ones) & ~del)) & highs) == 0;
}

/* The first position from p on whose byte is not in class; class must hold every byte
 * from lo up, DEL excepted. Values are most of a head, so this is where the time goes. */
static size_t run(const unsigned char *b, size_t p, size_t end, int class, unsigned lo)
{
	for (;;) {
		while (end - p >= 8 && clean_word(b + p, lo))
			p += 8;
		size_t stop = end - p >= 8 ? p + 8 : end;
		while (p < stop && is(b[p], class))
			p++;
		if (p < stop || p == end)
			return p;
	}
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
	const unsigned char *b = s->b + s->pos, *end = s->b + s->end, *p = b;
	while (p < end && is(*p, C_TCHAR))
		p++;
	if (p == end)
		return HTTP_AGAIN;
	if (*p != stop || p == b)
		return s->bad;
	*out = span(s->pos, (size_t)(p - s->b));
	s->pos = (size_t)(p - s->b) + 1;
	return 1;
}

/* "HTTP/" DIGIT "." DIGIT, of which 1.0 and 1.1 are served. */
static int version(struct scan *s, int *minor)
{
	if (s->end - s->pos < 8)
		return HTTP_AGAIN;
	const unsigned char *v = s->b + s->pos;
	if (memcmp(v, "HTTP/", 5) != 0 || !digit(v[5]) || v[6] != '.' || !digit(v[7]))
		return s->bad;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return s->badver;
	*minor = v[7] - '0';
	s->pos += 8;
	return 1;
}

/* Methods are case-sensitive (RFC 9110 9.1). */
static bool method_is(const char *buf, const struct http_msg *m, const char *name, size_t n)
{
	return m->method.len == n && memcmp(buf + m->method.off, name, n) == 0;
}
#define METHOD_IS(buf, m, lit) method_is(buf, m, lit, sizeof(lit) - 1)

/* authority-form: uri-host ":" port, as CONNECT needs both. */
static bool authority_form(const char *buf, struct http_span t)
{
	const unsigned char *a = (const unsigned char *)buf + t.off;
	uint32_t i = t.len;
	while (i > 0 && digit(a[i - 1]))
		i--;
	uint32_t port = t.len - i;
	if (port < 1 || port > 5 || i < 2 || a[i - 1] != ':')
		return false;
	return span_all(buf, (struct http_span){ t.off, i - 1 }, C_HOST);
}

/* absolute-form starts with a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":". */
static bool absolute_form(const char *buf, struct http_span t)
{
	const unsigned char *a = (const unsigned char *)buf + t.off;
	if (lower(a[0]) < 'a' || lower(a[0]) > 'z')
		return false;
	uint32_t i = 1;
	while (i < t.len && is(a[i], C_SCHEME))
		i++;
	return i < t.len && a[i] == ':';
}

/* The target's form must suit the method (RFC 9112 3.2): authority-form for CONNECT and
 * only for it, asterisk-form only for OPTIONS, otherwise origin-form or absolute-form. */
static bool target_form_ok(const char *buf, const struct http_msg *m)
{
	if (METHOD_IS(buf, m, "CONNECT"))
		return authority_form(buf, m->target);
	if (buf[m->target.off] == '/')
		return true;
	if (m->target.len == 1 && buf[m->target.off] == '*')
		return METHOD_IS(buf, m, "OPTIONS");
	return absolute_form(buf, m->target);
}

static int target(struct scan *s, struct http_span *out)
{
	size_t p = run(s->b, s->pos, s->end, C_TARGET, '!');
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
	if (c[0] != ' ' || c[1] < '1' || c[1] > '5' || !digit(c[2]) || !digit(c[3]))
		return s->bad;
	m->status = (c[1] - '0') * 100 + (c[2] - '0') * 10 + (c[3] - '0');
	s->pos += 4;
	if (c[4] == ' ')
		s->pos++;
	else if (c[4] != '\r')
		return s->bad;
	size_t p = run(s->b, s->pos, s->end, C_FIELD, ' ');
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
	p = run(s->b, p, s->end, C_FIELD, ' ');
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

/* Limits of 0 (or no limits) mean the defaults; the head limit must keep offsets and the
 * returned length in range, and there is room for HTTP_MAX_HEADERS headers only. */
static size_t head_limits(const struct http_limits *lim, int *max_headers)
{
	size_t max_head = lim && lim->max_head ? lim->max_head : DEFAULT_MAX_HEAD;
	*max_headers = lim && lim->max_headers > 0 ? lim->max_headers : HTTP_MAX_HEADERS;
	if (*max_headers > HTTP_MAX_HEADERS)
		*max_headers = HTTP_MAX_HEADERS;
	return max_head < INT_MAX ? max_head : INT_MAX;
}

/* The syntax of a head; returns its length. A head still incomplete when the limit is
 * reached is too large now, not when its end arrives. */
static int parse_head(const char *buf, size_t len, struct http_msg *m,
		      const struct http_limits *lim, bool response)
{
	int max_headers;
	size_t max_head = head_limits(lim, &max_headers);
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

/* ---- the meaning of the head --------------------------------------------------------- */

/* The headers that decide framing and the connection, found in one pass. */
struct survey {
	int ncl, nte, nhost;
	int cl, te;			/* index of the first of each */
	bool close, keep_alive, upgrade_token;	/* Connection tokens */
	bool upgrade_header, expect_continue;
};

/* The next element of a comma-separated list (RFC 9110 5.6.1) without its OWS; empty
 * elements are skipped, as recipients must accept them. False at the end. */
static bool list_next(const char *buf, struct http_span *rest, struct http_span *elem)
{
	const char *p = buf + rest->off, *end = p + rest->len;
	while (p < end && (ows(*p) || *p == ','))
		p++;
	if (p == end)
		return false;
	const char *comma = memchr(p, ',', (size_t)(end - p));
	const char *e = comma ? comma : end;
	*rest = span((size_t)(e - buf), (size_t)(end - buf));
	while (ows(e[-1]))
		e--;
	*elem = span((size_t)(p - buf), (size_t)(e - buf));
	return true;
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

static void note(int *count, int *first, int i)
{
	if ((*count)++ == 0)
		*first = i;
}

/* Sets m->host on the way. The switch on the name's length makes one comparison per
 * header at most. */
static void survey(const char *buf, struct http_msg *m, struct survey *sv)
{
	*sv = (struct survey){ .cl = -1, .te = -1 };
	for (int i = 0; i < m->nheaders; i++) {
		struct http_span n = m->headers[i].name, v = m->headers[i].value;
		switch (n.len) {
		case 4:
			if (SPAN_IS(buf, n, "host"))
				note(&sv->nhost, &m->host, i);
			break;
		case 6:
			if (SPAN_IS(buf, n, "expect"))
				sv->expect_continue |= SPAN_IS(buf, v, "100-continue");
			break;
		case 7:
			sv->upgrade_header |= SPAN_IS(buf, n, "upgrade");
			break;
		case 10:
			if (SPAN_IS(buf, n, "connection"))
				connection_tokens(buf, v, sv);
			break;
		case 14:
			if (SPAN_IS(buf, n, "content-length"))
				note(&sv->ncl, &sv->cl, i);
			break;
		case 17:
			if (SPAN_IS(buf, n, "transfer-encoding"))
				note(&sv->nte, &sv->te, i);
			break;
		}
	}
}

/* Content-Length = 1*DIGIT, at most 2^62: no sign, no hex, no list, no spaces. */
static bool decimal(const char *buf, struct http_span v, uint64_t *out)
{
	uint64_t n = 0;
	if (v.len == 0)
		return false;
	for (uint32_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)buf[v.off + i];
		if (!digit(c) || n > (MAX_CONTENT_LENGTH - (c - '0')) / 10)
			return false;
		n = n * 10 + (c - '0');
	}
	*out = n;
	return true;
}

/* RFC 9112 6.1-6.3 for requests, minus everything a proxy cannot forward unambiguously:
 * the backend behind us must find the same end of the body as we do. */
static int request_body(const char *buf, struct http_msg *m, const struct survey *sv)
{
	if (sv->nte) {
		if (sv->ncl || sv->nte > 1 || m->minor == 0)
			return HTTP_BAD;
		if (!SPAN_IS(buf, m->headers[sv->te].value, "chunked"))
			return HTTP_NOT_IMPL;
		m->body = HTTP_BODY_CHUNKED;
		return 1;
	}
	if (sv->ncl > 1)
		return HTTP_BAD;
	if (sv->ncl == 1) {
		if (!decimal(buf, m->headers[sv->cl].value, &m->content_length))
			return HTTP_BAD;
		m->body = HTTP_BODY_LENGTH;
	}
	return 1;
}

/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0, and a valid value. */
static bool host_ok(const char *buf, const struct http_msg *m, const struct survey *sv)
{
	if (sv->nhost > 1 || (m->minor == 1 && sv->nhost == 0))
		return false;
	return sv->nhost == 0 || span_all(buf, m->headers[m->host].value, C_HOST);
}

int http_parse_request(const char *buf, size_t len, struct http_msg *m,
		       const struct http_limits *limits)
{
	int r = parse_head(buf, len, m, limits, false);
	if (r <= 0)
		return r;
	struct survey sv;
	survey(buf, m, &sv);
	if (!host_ok(buf, m, &sv))
		return HTTP_BAD;
	r = request_body(buf, m, &sv);
	if (r < 0)
		return r;
	/* RFC 9110 10.1.1 and 7.8: a 1.0 request's Expect and Upgrade are ignored */
	m->keep_alive = !sv.close && (m->minor == 1 || sv.keep_alive);
	m->expect_continue = m->minor == 1 && sv.expect_continue;
	m->upgrade = m->minor == 1 && sv.upgrade_token && sv.upgrade_header;
	return (int)m->head_len;
}

/* A response's codings may be listed over several fields. chunked, if there, must come
 * last and once; each coding must be a bare token, as a parameter would make "chunked"
 * mean different things to us and to the client. */
static int response_codings(const char *buf, const struct http_msg *m, bool *chunked)
{
	int n = 0;
	*chunked = false;
	for (int i = 0; i < m->nheaders; i++) {
		if (!SPAN_IS(buf, m->headers[i].name, "transfer-encoding"))
			continue;
		struct http_span v = m->headers[i].value, c;
		while (list_next(buf, &v, &c)) {
			if (*chunked || !span_all(buf, c, C_TCHAR))
				return HTTP_BAD_GATEWAY;
			*chunked = SPAN_IS(buf, c, "chunked");
			n++;
		}
	}
	return n ? 1 : HTTP_BAD_GATEWAY;
}

/* RFC 9112 6.3 lets a recipient accept a Content-Length repeated with identical values,
 * over several fields or as a list; any disagreement is an error. */
static int response_length(const char *buf, const struct http_msg *m, uint64_t *len)
{
	int n = 0;
	for (int i = 0; i < m->nheaders; i++) {
		if (!SPAN_IS(buf, m->headers[i].name, "content-length"))
			continue;
		struct http_span v = m->headers[i].value, e;
		uint64_t x;
		while (list_next(buf, &v, &e)) {
			if (!decimal(buf, e, &x) || (n++ && x != *len))
				return HTTP_BAD_GATEWAY;
			*len = x;
		}
	}
	return n ? 1 : HTTP_BAD_GATEWAY;
}

/* RFC 9112 6.3 rules 1 and 2: no body whatever the headers say. */
static bool bodiless(const struct http_msg *m, const char *method, size_t method_len)
{
	if (m->status < 200 || m->status == 204 || m->status == 304)
		return true;
	if (!method)
		return false;
	if (method_len == 4 && memcmp(method, "HEAD", 4) == 0)
		return true;
	return m->status < 300 && method_len == 7 && memcmp(method, "CONNECT", 7) == 0;
}

/* The framing headers are checked even when the status says there is no body: we forward
 * them, and a client must not be handed a contradiction. Both Transfer-Encoding and
 * Content-Length is an error rather than TE winning, as we forward both unchanged. */
static int response_body(const char *buf, struct http_msg *m, const struct survey *sv,
			 bool none)
{
	bool chunked = false;
	if (sv->nte && (sv->ncl || m->minor == 0 || response_codings(buf, m, &chunked) < 0))
		return HTTP_BAD_GATEWAY;
	if (sv->ncl && response_length(buf, m, &m->content_length) < 0)
		return HTTP_BAD_GATEWAY;
	if (none)
		m->body = HTTP_BODY_NONE;
	else if (sv->nte)
		m->body = chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
	else
		m->body = sv->ncl ? HTTP_BODY_LENGTH : HTTP_BODY_CLOSE;
	return 1;
}

int http_parse_response(const char *buf, size_t len, struct http_msg *m,
			const struct http_limits *limits, const char *request_method,
			size_t method_len)
{
	int r = parse_head(buf, len, m, limits, true);
	if (r <= 0)
		return r;
	struct survey sv;
	survey(buf, m, &sv);
	r = response_body(buf, m, &sv, bodiless(m, request_method, method_len));
	if (r < 0)
		return r;
	m->keep_alive = !sv.close && (m->minor == 1 || sv.keep_alive) &&
			m->body != HTTP_BODY_CLOSE;
	/* only a 101 switches; an Upgrade elsewhere (426, 200) merely advertises */
	m->upgrade = m->status == 101 && sv.upgrade_token && sv.upgrade_header;
	return (int)m->head_len;
}

const struct http_header *http_header_find(const struct http_msg *m, const char *buf,
					   const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < m->nheaders; i++)
		if (span_is(buf, m->headers[i].name, name, n))
			return &m->headers[i];
	return NULL;
}

/* ---- chunked framing ----------------------------------------------------------------- */

/* A byte at a time, as the body arrives in pieces of any size; only chunk data is skipped
 * in bulk. trailer_len counts the bytes of the current chunk-size line and later of the
 * trailers, so neither can grow without bound. */
enum {
	CH_SIZE,			/* hex digits */
	CH_SIZE_BWS,			/* white space before a ";" */
	CH_EXT_NAME0,			/* after ";": BWS, then the name */
	CH_EXT_NAME,
	CH_EXT_NAME_BWS,		/* after the name: BWS, then "=" or ";" */
	CH_EXT_VAL0,			/* after "=": BWS, then token or quoted-string */
	CH_EXT_TOKEN,
	CH_EXT_QUOTED,
	CH_EXT_QPAIR,			/* after a backslash in a quoted-string */
	CH_EXT_END,			/* after the closing quote */
	CH_SIZE_LF,			/* CR seen, LF due */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START,			/* a trailer field, or the final CRLF */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_END_LF,
	CH_DONE,
	CH_ERROR,
};

void http_chunked_init(struct http_chunked *c)
{
	*c = (struct http_chunked){ .state = CH_SIZE };
}

static int hexval(unsigned char b)
{
	if (digit(b))
		return b - '0';
	b |= 0x20;
	return b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
}

/* Where a byte leads after a chunk size or an extension has ended. */
static int ext_next(unsigned char b)
{
	if (b == ';')
		return CH_EXT_NAME0;
	if (ows(b))
		return CH_SIZE_BWS;
	return b == '\r' ? CH_SIZE_LF : CH_ERROR;
}

/* chunk-size: at most 15 significant digits, so that the size stays below 2^60. */
static int size_digit(struct http_chunked *c, unsigned char b)
{
	int h = hexval(b);
	if (h < 0)
		return c->digits ? ext_next(b) : CH_ERROR;
	if (c->remaining >> 56)
		return CH_ERROR;
	c->remaining = c->remaining << 4 | (unsigned)h;
	c->digits++;
	return CH_SIZE;
}

/* chunk-size [ chunk-ext ] CRLF, where chunk-ext =
 * *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) */
static int size_line(struct http_chunked *c, unsigned char b)
{
	bool t = is(b, C_TCHAR), ws = ows(b);
	switch (c->state) {
	case CH_SIZE:
		return size_digit(c, b);
	case CH_SIZE_BWS:
		return ws ? CH_SIZE_BWS : b == ';' ? CH_EXT_NAME0 : CH_ERROR;
	case CH_EXT_NAME0:
		return ws ? CH_EXT_NAME0 : t ? CH_EXT_NAME : CH_ERROR;
	case CH_EXT_NAME:
		return t ? CH_EXT_NAME : b == '=' ? CH_EXT_VAL0 : ws ? CH_EXT_NAME_BWS : ext_next(b);
	case CH_EXT_NAME_BWS:
		return ws ? CH_EXT_NAME_BWS : b == '=' ? CH_EXT_VAL0 :
		       b == ';' ? CH_EXT_NAME0 : CH_ERROR;
	case CH_EXT_VAL0:
		return ws ? CH_EXT_VAL0 : b == '"' ? CH_EXT_QUOTED : t ? CH_EXT_TOKEN : CH_ERROR;
	case CH_EXT_TOKEN:
		return t ? CH_EXT_TOKEN : ext_next(b);
	case CH_EXT_QUOTED:
		return b == '"' ? CH_EXT_END : b == '\\' ? CH_EXT_QPAIR :
		       is(b, C_FIELD) ? CH_EXT_QUOTED : CH_ERROR;
	case CH_EXT_QPAIR:
		return is(b, C_FIELD) ? CH_EXT_QUOTED : CH_ERROR;
	case CH_EXT_END:
		return ext_next(b);
	default:	/* CH_SIZE_LF */
		if (b != '\n')
			return CH_ERROR;
		c->trailer_len = 0;
		return c->remaining ? CH_DATA : CH_TR_START;
	}
}

/* trailer-section = *( field-line CRLF ), then the final CRLF */
static int trailer(struct http_chunked *c, unsigned char b)
{
	switch (c->state) {
	case CH_TR_START:
		return b == '\r' ? CH_END_LF : is(b, C_TCHAR) ? CH_TR_NAME : CH_ERROR;
	case CH_TR_NAME:
		return is(b, C_TCHAR) ? CH_TR_NAME : b == ':' ? CH_TR_VALUE : CH_ERROR;
	case CH_TR_VALUE:
		return is(b, C_FIELD) ? CH_TR_VALUE : b == '\r' ? CH_TR_LF : CH_ERROR;
	case CH_TR_LF:
		return b == '\n' ? CH_TR_START : CH_ERROR;
	default:	/* CH_END_LF */
		return b == '\n' ? CH_DONE : CH_ERROR;
	}
}

/* The CRLF that must follow each chunk's data, exactly. */
static int data_end(struct http_chunked *c, unsigned char b)
{
	if (c->state == CH_DATA_CR)
		return b == '\r' ? CH_DATA_LF : CH_ERROR;
	if (b != '\n')
		return CH_ERROR;
	c->remaining = 0;
	c->digits = 0;
	c->trailer_len = 0;
	return CH_SIZE;
}

static int step(struct http_chunked *c, unsigned char b)
{
	if (c->state <= CH_SIZE_LF)
		return ++c->trailer_len > CHUNK_LINE_MAX ? CH_ERROR : size_line(c, b);
	if (c->state >= CH_TR_START)
		return ++c->trailer_len > TRAILER_MAX ? CH_ERROR : trailer(c, b);
	return data_end(c, b);
}

ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len, bool *done)
{
	size_t i = 0;
	while (i < len && c->state < CH_DONE) {
		if (c->state == CH_DATA) {
			size_t n = len - i < c->remaining ? len - i : (size_t)c->remaining;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		c->state = step(c, (unsigned char)buf[i++]);
	}
	*done = c->state == CH_DONE;
	return c->state == CH_ERROR ? HTTP_BAD : (ssize_t)i;
}
