/* test_http.c: the HTTP/1.1 parser: request and response heads, framing rules, what
 * smuggles, limits, and the chunked decoder fed whole and byte by byte. Prints the time of
 * one parse of a browser's request head (informative, not checked). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "afd/http.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct http_msg m;

static int req(const char *s)
{
	return http_parse_request(s, strlen(s), &m, NULL);
}

static int resp(const char *s, const char *method)
{
	return http_parse_response(s, strlen(s), &m, NULL, method, strlen(method));
}

/* Does the span hold exactly lit? */
static int span_eq(const char *buf, struct http_span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(buf + s.off, lit, s.len) == 0;
}

/* A request is parsed the same whatever prefix of it arrived before: every proper prefix
 * of a complete head is HTTP_AGAIN. */
static int prefixes_again(const char *s)
{
	size_t n = strlen(s);
	struct http_msg tmp;
	for (size_t i = 0; i < n; i++)
		if (http_parse_request(s, i, &tmp, NULL) != HTTP_AGAIN)
			return 0;
	return 1;
}

static void simple_requests(void)
{
	const char *get = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
			  "User-Agent: t\r\nAccept:*/*\r\n\r\n";
	CHECK(req(get) == (int)strlen(get));
	CHECK(m.head_len == strlen(get));
	CHECK(span_eq(get, m.method, "GET"));
	CHECK(span_eq(get, m.target, "/index.html?q=1"));
	CHECK(m.minor == 1 && m.nheaders == 3);
	CHECK(m.host == 0 && span_eq(get, m.headers[0].value, "example.com"));
	CHECK(span_eq(get, m.headers[2].name, "Accept") && span_eq(get, m.headers[2].value, "*/*"));
	CHECK(m.body == HTTP_BODY_NONE && m.keep_alive && !m.expect_continue && !m.upgrade);
	CHECK(prefixes_again(get));

	const char *post = "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \t\r\n"
			   "Expect: 100-Continue\r\n\r\nhello world!";
	CHECK(req(post) == (int)(strlen(post) - 12));
	CHECK(m.body == HTTP_BODY_LENGTH && m.content_length == 12);
	CHECK(span_eq(post, m.headers[1].value, "12"));
	CHECK(m.expect_continue);

	const char *chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChunKed \r\n\r\n";
	CHECK(req(chunked) > 0 && m.body == HTTP_BODY_CHUNKED);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") > 0 &&
	      m.body == HTTP_BODY_LENGTH && m.content_length == 0);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4611686018427387904\r\n\r\n") > 0
	      && m.content_length == 1ULL << 62);

	/* empty and white-space values, an empty Host */
	const char *empty = "GET / HTTP/1.1\r\nHost:\r\nX-E: \t \r\nX-F:a b\r\n\r\n";
	CHECK(req(empty) > 0 && m.headers[0].value.len == 0 && m.headers[1].value.len == 0);
	CHECK(span_eq(empty, m.headers[2].value, "a b"));
}

static void request_targets(void)
{
	const char *abs = "GET http://example.com:8080/x?y HTTP/1.1\r\nHost: example.com:8080\r\n\r\n";
	CHECK(req(abs) > 0 && span_eq(abs, m.target, "http://example.com:8080/x?y"));
	const char *conn = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
	CHECK(req(conn) > 0 && span_eq(conn, m.target, "example.com:443"));
	CHECK(req("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n") > 0);
	CHECK(req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK(req("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n") > 0);

	CHECK(req("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET example.com/x HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET /  HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("G@T / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req(" GET / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
}

static void versions(void)
{
	CHECK(req("GET / HTTP/1.0\r\n\r\n") > 0 && m.minor == 0 && !m.keep_alive);
	CHECK(req("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == HTTP_BAD_VERSION);
	CHECK(req("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == HTTP_BAD_VERSION);
	CHECK(req("GET / HTTP/0.9\r\nHost: a\r\n\r\n") == HTTP_BAD_VERSION);
	CHECK(req("GET /\r\nHost: a\r\n\r\n") == HTTP_BAD);	/* HTTP/1.1 missing */
	CHECK(req("GET / HTTP/1.10\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / http/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/11\r\nHost: a\r\n\r\n") == HTTP_BAD);
}

/* Two empty lines before the request line are skipped, a third is an error. */
static void leading_empty_lines(void)
{
	const char *one = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	CHECK(req(one) == (int)strlen(one) && span_eq(one, m.method, "GET"));
	CHECK(req("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK(req("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("\r\n") == HTTP_AGAIN && req("") == HTTP_AGAIN);
}

static void pipelined(void)
{
	const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	int n = req(two);
	CHECK(n == (int)strlen(two) / 2 && span_eq(two, m.target, "/1"));
	CHECK(n > 0 && http_parse_request(two + n, strlen(two) - n, &m, NULL) == n);
	CHECK(span_eq(two + n, m.target, "/2"));
	/* garbage after a complete head belongs to the next message */
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x01\x02") == 27);
}

static void framing_errors(void)
{
	const char *h = "POST / HTTP/1.1\r\nHost: a\r\n";
	char buf[512];
#define WITH(fields) (snprintf(buf, sizeof buf, "%s%s\r\n", h, fields), req(buf))
	CHECK(WITH("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") == HTTP_BAD);
	CHECK(WITH("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 5\r\nContent-Length: 5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 5\r\nContent-Length: 6\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 5, 5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: +5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: -5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 5 5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 0x5\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: \r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 4611686018427387905\r\n") == HTTP_BAD);
	CHECK(WITH("Content-Length: 99999999999999999999999\r\n") == HTTP_BAD);
	CHECK(WITH("Transfer-Encoding: gzip\r\n") == HTTP_NOT_IMPL);
	CHECK(WITH("Transfer-Encoding: gzip, chunked\r\n") == HTTP_NOT_IMPL);
	CHECK(WITH("Transfer-Encoding: chunked, chunked\r\n") == HTTP_NOT_IMPL);
	CHECK(WITH("Transfer-Encoding: chunked;x=1\r\n") == HTTP_NOT_IMPL);
	CHECK(WITH("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") == HTTP_BAD);
	CHECK(req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == HTTP_BAD);
	CHECK(req("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n") > 0 &&
	      m.body == HTTP_BODY_LENGTH && m.content_length == 3);
#undef WITH
}

static void syntax_errors(void)
{
	CHECK(req("GET / HTTP/1.1\nHost: a\r\n\r\n") == HTTP_BAD);	/* bare LF */
	CHECK(req("GET / HTTP/1.1\r\nHost: a\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\n\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\rHost: a\r\n\r\n") == HTTP_BAD);	/* bare CR */
	CHECK(req("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\n\rX") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == HTTP_BAD);	/* space before colon */
	CHECK(req("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n") == HTTP_BAD); /* obs-fold */
	CHECK(req("GET / HTTP/1.1\r\n Host: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX: b\tc\r\n\r\n") > 0);
	const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: b\0c\r\n\r\n";
	CHECK(http_parse_request(nul, sizeof nul - 1, &m, NULL) == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX: b\x7f\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[0m\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n") > 0);	/* obs-text */
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n") == HTTP_BAD);	/* empty name */
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == HTTP_BAD);
	/* errors are found before the head is complete */
	CHECK(req("GET / HTTP/1.1\r\nHost : a") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nX: a\nY") == HTTP_BAD);
}

static void host_rules(void)
{
	CHECK(req("GET / HTTP/1.1\r\nX: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.0\r\nHost: a\r\n\r\n") > 0 && m.host == 0);
	CHECK(req("GET / HTTP/1.0\r\n\r\n") > 0 && m.host == -1);
	CHECK(req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n") == HTTP_BAD);
	CHECK(req("GET / HTTP/1.1\r\nX: 1\r\nHOST: a.b-c_d:80\r\n\r\n") > 0 && m.host == 1);
}

static void limits(void)
{
	char buf[70000];
	struct http_limits lim = { 200, 4 };
	const char *four = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	CHECK(http_parse_request(four, strlen(four), &m, &lim) > 0);
	const char *five = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD";
	CHECK(http_parse_request(five, strlen(five), &m, &lim) == HTTP_TOO_LARGE);

	/* 101 headers against the default of 100 */
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 99; i++)
		n += (size_t)sprintf(buf + n, "X%d: v\r\n", i);
	strcpy(buf + n, "\r\n");
	CHECK(req(buf) > 0 && m.nheaders == 100);
	strcpy(buf + n, "Y: v\r\n\r\n");
	CHECK(req(buf) == HTTP_TOO_LARGE);

	/* a head exactly at the limit passes, one byte more does not */
	lim = (struct http_limits){ (size_t)strlen(four), 0 };
	CHECK(http_parse_request(four, strlen(four), &m, &lim) > 0);
	lim.max_head--;
	CHECK(http_parse_request(four, strlen(four), &m, &lim) == HTTP_TOO_LARGE);
	CHECK(http_parse_request(four, lim.max_head - 1, &m, &lim) == HTTP_AGAIN);

	/* an endless header line is refused once max_head bytes came, not buffered */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf + n, 'a', sizeof buf - n);
	CHECK(http_parse_request(buf, 16383, &m, NULL) == HTTP_AGAIN);
	CHECK(http_parse_request(buf, 16384, &m, NULL) == HTTP_TOO_LARGE);
	CHECK(http_parse_request(buf, sizeof buf, &m, NULL) == HTTP_TOO_LARGE);
	memset(buf, 'G', sizeof buf);		/* an endless method */
	CHECK(http_parse_request(buf, sizeof buf, &m, NULL) == HTTP_TOO_LARGE);
}

static void keep_alive(void)
{
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\n\r\n") > 0 && m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") > 0 && !m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n") > 0 &&
	      !m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n") > 0 && m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
		  "Connection: ,close ,\r\n\r\n") > 0 && !m.keep_alive);
	CHECK(req("GET / HTTP/1.0\r\n\r\n") > 0 && !m.keep_alive);
	CHECK(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0 && m.keep_alive);
	CHECK(req("GET / HTTP/1.0\r\nConnection: x ,\tkeep-alive\r\n\r\n") > 0 && m.keep_alive);
	CHECK(req("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0 &&
	      !m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	      > 0 && m.upgrade && m.keep_alive);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n") > 0 && !m.upgrade);
	CHECK(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n") > 0 && !m.upgrade);
	CHECK(req("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n") > 0 &&
	      !m.upgrade);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n") > 0 &&
	      m.expect_continue);
	CHECK(req("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") > 0 && !m.expect_continue);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n") > 0 &&
	      !m.expect_continue);
}

static void header_find(void)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nx-forwarded-for: 5\r\n\r\n";
	CHECK(req(s) > 0);
	const struct http_header *h = http_header_find(&m, s, "X-FORWARDED-for");
	CHECK(h == &m.headers[1] && span_eq(s, h->value, "1.2.3.4"));
	CHECK(http_header_find(&m, s, "host") == &m.headers[0]);
	CHECK(http_header_find(&m, s, "X-Forwarded") == NULL);
	CHECK(http_header_find(&m, s, "Cookie") == NULL);
}

static void responses(void)
{
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	CHECK(resp(ok, "GET") == (int)strlen(ok) - 5);
	CHECK(m.status == 200 && span_eq(ok, m.reason, "OK") && m.minor == 1);
	CHECK(m.body == HTTP_BODY_LENGTH && m.content_length == 5 && m.keep_alive);
	CHECK(resp(ok, "HEAD") > 0 && m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 204 No Content\r\n\r\n", "GET") > 0 && m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", "GET") > 0 &&
	      m.body == HTTP_BODY_NONE && m.keep_alive);
	CHECK(resp("HTTP/1.1 100 Continue\r\n\r\n", "POST") > 0 && m.body == HTTP_BODY_NONE &&
	      m.status == 100);
	CHECK(resp("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		   "Upgrade: websocket\r\n\r\n", "GET") > 0 && m.upgrade &&
	      m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
		   "Content-Length: 0\r\n\r\n", "GET") > 0 && !m.upgrade);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET") > 0 &&
	      m.body == HTTP_BODY_CHUNKED && m.keep_alive);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
		   "GET") > 0 && m.body == HTTP_BODY_CHUNKED);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET") > 0 &&
	      m.body == HTTP_BODY_CLOSE && !m.keep_alive);
	CHECK(resp("HTTP/1.1 200 OK\r\n\r\n", "GET") > 0 && m.body == HTTP_BODY_CLOSE &&
	      !m.keep_alive);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7, 7\r\n\r\n", "GET")
	      > 0 && m.body == HTTP_BODY_LENGTH && m.content_length == 7);
	CHECK(resp("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT") > 0 &&
	      m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", "CONNECT") > 0 &&
	      m.body == HTTP_BODY_LENGTH);

	/* keep-alive by version and Connection */
	CHECK(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET") > 0 && !m.keep_alive);
	CHECK(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n", "GET")
	      > 0 && m.keep_alive);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", "GET") > 0
	      && !m.keep_alive);

	/* status lines */
	const char *noreason = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
	CHECK(resp(noreason, "GET") > 0 && m.status == 200 && m.reason.len == 0);
	CHECK(resp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "GET") > 0 && m.reason.len == 0);
	CHECK(resp("HTTP/1.1 404 Not  Found\t\r\n\r\n", "GET") > 0 && m.status == 404);
	CHECK(resp("HTTP/1.1 2000 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 20 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 099 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 600 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/2.0 200 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 O\x01K\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("\r\nHTTP/1.1 200 OK\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\n", "GET") == HTTP_AGAIN);

	/* framing errors */
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "GET") ==
	      HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		   "GET") == HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "GET") ==
	      HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "GET") ==
	      HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", "GET") ==
	      HTTP_BAD_GATEWAY);
	CHECK(resp("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET") ==
	      HTTP_BAD_GATEWAY);

	/* a response head is bounded like a request head */
	char big[20000];
	size_t n = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', sizeof big - n);
	CHECK(http_parse_response(big, sizeof big, &m, NULL, "GET", 3) == HTTP_TOO_LARGE);
}

/* ---- chunked ---- */

/* Feeds s whole; returns what the decoder returned, sets *done. */
static ssize_t chunk_whole(const char *s, size_t n, bool *done)
{
	struct http_chunked c;
	http_chunked_init(&c);
	return http_chunked_feed(&c, s, n, done);
}

/* Feeds s a byte at a time until done or an error; returns the bytes consumed. */
static ssize_t chunk_bytes(const char *s, size_t n, bool *done)
{
	struct http_chunked c;
	http_chunked_init(&c);
	size_t used = 0;
	*done = false;
	for (size_t i = 0; i < n && !*done; i++) {
		ssize_t r = http_chunked_feed(&c, s + i, 1, done);
		if (r < 0)
			return r;
		used += (size_t)r;
	}
	return (ssize_t)used;
}

/* The body ends exactly `end` bytes into s, whether fed whole or byte by byte. */
static int chunk_ends_at(const char *s, size_t end)
{
	bool d1, d2;
	size_t n = strlen(s);
	return chunk_whole(s, n, &d1) == (ssize_t)end && d1 &&
	       chunk_bytes(s, n, &d2) == (ssize_t)end && d2;
}

static int chunk_bad(const char *s)
{
	bool d1, d2;
	size_t n = strlen(s);
	return chunk_whole(s, n, &d1) == HTTP_BAD && chunk_bytes(s, n, &d2) == HTTP_BAD;
}

static int chunk_incomplete(const char *s)
{
	bool d1, d2;
	size_t n = strlen(s);
	return chunk_whole(s, n, &d1) == (ssize_t)n && !d1 && chunk_bytes(s, n, &d2) == (ssize_t)n
	       && !d2;
}

static void chunked(void)
{
	const char *simple = "5\r\nhello\r\n0\r\n\r\n";
	CHECK(chunk_ends_at(simple, strlen(simple)));
	const char *next = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	CHECK(chunk_ends_at(next, strlen(next) - strlen("GET / HTTP/1.1\r\n")));
	const char *ext = "a;name=value;flag ; q=\"quo\\\"ted; \";x\r\n0123456789\r\n"
			  "0;last\r\nExpires: never\r\nX-Sum:\tab c \r\n\r\nNEXT";
	CHECK(chunk_ends_at(ext, strlen(ext) - 4));
	CHECK(chunk_ends_at("000\r\n\r\n", 7));
	CHECK(chunk_ends_at("1 ;a\r\nx\r\n0\r\n\r\n", 14));
	CHECK(chunk_ends_at("Ff\r\n", 4) == 0);		/* needs 255 bytes more */
	CHECK(chunk_ends_at("0000000000000000000001\r\nx\r\n0\r\n\r\n", 32));
	CHECK(chunk_ends_at("fffffffffffffff\r\n", 0) == 0);	/* 15 digits: fine, incomplete */
	CHECK(chunk_incomplete("fffffffffffffff\r\n"));
	CHECK(chunk_incomplete("5\r\nhel"));
	CHECK(chunk_incomplete("5\r\nhello\r"));
	CHECK(chunk_incomplete("0\r\nX: y\r\n"));

	/* after the end, nothing more is taken */
	struct http_chunked c;
	bool done;
	http_chunked_init(&c);
	CHECK(http_chunked_feed(&c, simple, strlen(simple), &done) == (ssize_t)strlen(simple) && done);
	CHECK(http_chunked_feed(&c, "1\r\n", 3, &done) == 0 && done);

	/* a large chunk is skipped without looking at its bytes */
	static char big[70000];
	size_t n = (size_t)sprintf(big, "10000\r\n");
	memset(big + n, 0, 0x10000);
	n += 0x10000;
	n += (size_t)sprintf(big + n, "\r\n0\r\n\r\n");
	CHECK(chunk_whole(big, n, &done) == (ssize_t)n && done);

	CHECK(chunk_bad("x\r\n"));			/* not hex */
	CHECK(chunk_bad("\r\n"));			/* empty size */
	CHECK(chunk_bad(";a\r\n"));
	CHECK(chunk_bad("10000000000000000\r\n"));	/* 17 digits */
	CHECK(chunk_bad("1000000000000000\r\n"));	/* 16 significant digits */
	CHECK(chunk_bad("-1\r\n"));
	CHECK(chunk_bad("+1\r\n"));
	CHECK(chunk_bad("0x5\r\n"));
	CHECK(chunk_bad("5\nhello\r\n0\r\n\r\n"));	/* bare LF */
	CHECK(chunk_bad("5\rhello\r\n0\r\n\r\n"));	/* bare CR */
	CHECK(chunk_bad("5 \r\nhello\r\n0\r\n\r\n"));	/* white space not before ";" */
	CHECK(chunk_bad("5;\r\nhello\r\n0\r\n\r\n"));	/* no extension name */
	CHECK(chunk_bad("5;a=\r\nhello\r\n0\r\n\r\n"));
	CHECK(chunk_bad("5;a=\"b\r\nhello\r\n0\r\n\r\n"));	/* unterminated quote */
	CHECK(chunk_bad("5;a=b c\r\nhello\r\n0\r\n\r\n"));
	CHECK(chunk_bad("5;a\x01\r\nhello\r\n0\r\n\r\n"));
	CHECK(chunk_bad("5\r\nhelloX\r\n0\r\n\r\n"));	/* data longer than its size */
	CHECK(chunk_bad("5\r\nhello\n0\r\n\r\n"));	/* missing CR after data */
	CHECK(chunk_bad("5\r\nhello0\r\n\r\n"));	/* missing CRLF after data */
	CHECK(chunk_bad("0\r\n\n"));
	CHECK(chunk_bad("0\r\nX : y\r\n\r\n"));		/* trailers are header lines */
	CHECK(chunk_bad("0\r\n y\r\n\r\n"));
	CHECK(chunk_bad("0\r\nX: \x01\r\n\r\n"));
	CHECK(chunk_bad("0\r\nX: y\n\r\n"));
	CHECK(chunk_bad("0\r\n\rX"));

	/* bounded extensions and trailers */
	static char longline[20000];
	strcpy(longline, "1;a=");
	memset(longline + 4, 'b', 5000);
	strcpy(longline + 5004, "\r\nx\r\n0\r\n\r\n");
	CHECK(chunk_bad(longline));
	n = (size_t)sprintf(longline, "0\r\n");
	while (n < 17000)
		n += (size_t)sprintf(longline + n, "X-Trailer: %d\r\n", (int)n);
	strcpy(longline + n, "\r\n");
	CHECK(chunk_bad(longline));
}

/* A browser's request head, about 450 bytes. */
static void throughput(void)
{
	const char *s = "GET /assets/app.js?v=1234 HTTP/1.1\r\n"
			"Host: www.example.com\r\n"
			"Connection: keep-alive\r\n"
			"sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n"
			"Accept: */*\r\n"
			"Referer: https://www.example.com/\r\n"
			"Accept-Encoding: gzip, deflate, br\r\n"
			"Accept-Language: en-US,en;q=0.9\r\n"
			"Cookie: session=abcdef0123456789; theme=dark\r\n\r\n";
	size_t n = strlen(s);
	int iters = 200000, ok = 0;
	double best = 1e9;
	for (int round = 0; round < 7; round++) {	/* the best round: least disturbed */
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < iters; i++)
			ok += http_parse_request(s, n, &m, NULL) == (int)n;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
			     (double)(t1.tv_nsec - t0.tv_nsec)) / iters;
		best = ns < best ? ns : best;
	}
	iters *= 7;
	CHECK(ok == iters);
	printf("throughput: %.0f ns per parse of a %zu-byte request head (%d headers)\n", best, n,
	       m.nheaders);
}

int main(void)
{
	simple_requests();
	request_targets();
	versions();
	leading_empty_lines();
	pipelined();
	framing_errors();
	syntax_errors();
	host_rules();
	limits();
	keep_alive();
	header_find();
	responses();
	chunked();
	throughput();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
