/* fuzz_http.c: libFuzzer target for the HTTP/1.1 parser. The first byte picks what the
 * rest is fed to (request head, response head, chunked body) and, for heads, small or
 * default limits and the method a response answers. Beyond memory errors it checks:
 * a head's spans lie inside it and it ends in CRLF CRLF; a prefix of the input parses to
 * HTTP_AGAIN or to the whole input's result, never to something else (re-parsing is
 * consistent); a chunked body gives the same result fed whole, byte by byte, or in
 * pieces, and nothing is consumed after its end. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "afd/http.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool in_head(struct http_span s, size_t head_len)
{
	return (size_t)s.off + s.len <= head_len;
}

static void check_head(const char *buf, const struct http_msg *m, int r,
		       const struct http_limits *lim)
{
	size_t max_head = lim ? lim->max_head : 16384;
	int max_headers = lim ? lim->max_headers : HTTP_MAX_HEADERS;
	check(m->head_len == (size_t)r && m->head_len <= max_head && r >= 4);
	check(memcmp(buf + r - 4, "\r\n\r\n", 4) == 0);
	check(m->nheaders >= 0 && m->nheaders <= max_headers);
	check(in_head(m->method, r) && in_head(m->target, r) && in_head(m->reason, r));
	check(m->host >= -1 && m->host < m->nheaders);
	check(m->body != HTTP_BODY_LENGTH || m->content_length <= 1ULL << 62);
	for (int i = 0; i < m->nheaders; i++) {
		const struct http_header *h = &m->headers[i];
		check(h->name.len > 0 && in_head(h->name, r) && in_head(h->value, r));
		char name[64];
		if (h->name.len >= sizeof name)
			continue;
		memcpy(name, buf + h->name.off, h->name.len);
		name[h->name.len] = 0;
		const struct http_header *f = http_header_find(m, buf, name);
		check(f && f <= h && f->name.len == h->name.len &&
		      strncasecmp(buf + f->name.off, name, h->name.len) == 0);
	}
}

struct head_args {
	const struct http_limits *lim;
	bool response;
	const char *method;
};

static int parse(const struct head_args *a, const char *buf, size_t len, struct http_msg *m)
{
	if (a->response)
		return http_parse_response(buf, len, m, a->lim, a->method, strlen(a->method));
	return http_parse_request(buf, len, m, a->lim);
}

/* A prefix parses to HTTP_AGAIN or to what the whole gave; once it holds the whole head,
 * to exactly the head. */
static void check_prefix(const struct head_args *a, const char *buf, size_t k, int whole)
{
	static struct http_msg m;
	int r = parse(a, buf, k, &m);
	if (whole > 0)
		check(k < (size_t)whole ? r == HTTP_AGAIN : r == whole);
	else
		check(r == HTTP_AGAIN || r == whole);
}

static void fuzz_head(const struct head_args *a, const char *buf, size_t n)
{
	static struct http_msg m;
	int r = parse(a, buf, n, &m);
	check(r == HTTP_AGAIN || r > 0 || r == HTTP_TOO_LARGE ||
	      r == (a->response ? HTTP_BAD_GATEWAY : HTTP_BAD) ||
	      (!a->response && (r == HTTP_NOT_IMPL || r == HTTP_BAD_VERSION)));
	if (r > 0)
		check_head(buf, &m, r, a->lim);
	if (n <= 300) {
		for (size_t k = 0; k < n; k++)
			check_prefix(a, buf, k, r);
		return;
	}
	size_t at[] = { 0, n / 3, n / 2, n - 1, r > 0 ? (size_t)r - 1 : 1, r > 0 ? (size_t)r : 2 };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		check_prefix(a, buf, at[i] < n ? at[i] : n - 1, r);
}

/* Feeds the body in pieces of sizes drawn from seed (1 = byte by byte); returns what was
 * consumed up to the end, or HTTP_BAD. */
static ssize_t feed_pieces(const char *buf, size_t n, unsigned seed, bool *done)
{
	struct http_chunked c;
	http_chunked_init(&c);
	size_t used = 0, i = 0;
	*done = false;
	while (i < n && !*done) {
		size_t piece = seed ? 1 + (seed = seed * 1103515245 + 12345) % 97 : 1;
		piece = piece < n - i ? piece : n - i;
		ssize_t r = http_chunked_feed(&c, buf + i, piece, done);
		if (r < 0)
			return r;
		check((size_t)r <= piece && ((size_t)r == piece || *done));
		used += (size_t)r;
		i += piece;
	}
	if (*done) {
		bool again;
		check(http_chunked_feed(&c, "0\r\n\r\n", 5, &again) == 0 && again);
	}
	return (ssize_t)used;
}

static void fuzz_chunked(const char *buf, size_t n, unsigned seed)
{
	struct http_chunked c;
	bool done, done1, done2;
	http_chunked_init(&c);
	ssize_t whole = http_chunked_feed(&c, buf, n, &done);
	check(whole == HTTP_BAD || (whole >= 0 && (size_t)whole <= n));
	check(whole < 0 || done || (size_t)whole == n);
	ssize_t bytes = feed_pieces(buf, n, 0, &done1);
	ssize_t pieces = feed_pieces(buf, n, seed | 1, &done2);
	check(bytes == whole && pieces == whole);
	check(whole < 0 || (done1 == done && done2 == done));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct http_limits small = { 200, 5 };
	static const char *methods[] = { "GET", "HEAD", "CONNECT", "POST" };
	if (size < 1)
		return 0;
	const char *buf = (const char *)data + 1;
	size_t n = size - 1;
	struct head_args a = { data[0] & 4 ? &small : NULL, false, methods[data[0] >> 3 & 3] };
	switch (data[0] % 3) {
	case 0:
		fuzz_head(&a, buf, n);
		break;
	case 1:
		a.response = true;
		fuzz_head(&a, buf, n);
		break;
	default:
		fuzz_chunked(buf, n, data[0]);
		break;
	}
	return 0;
}
