/* http-t.h: types of the HTTP/1.1 message parser (functions in http.h).
 * The parser never copies: it records offsets into the caller's buffer. */
#ifndef AFD_HTTP_T_H
#define AFD_HTTP_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 100

/* Negative results of the parsers: the HTTP status to answer with (as -status). */
enum {
	HTTP_AGAIN = 0,			/* incomplete: read more */
	HTTP_BAD = -400,		/* malformed, or a smuggling attempt */
	HTTP_TOO_LARGE = -431,		/* head larger than the limit, or too many headers */
	HTTP_NOT_IMPL = -501,		/* a transfer coding other than chunked */
	HTTP_BAD_VERSION = -505,	/* not HTTP/1.0 or HTTP/1.1 */
	HTTP_BAD_GATEWAY = -502,	/* (responses) malformed answer from a backend */
};

struct http_span {
	uint32_t off, len;		/* into the buffer the message was parsed from */
};

struct http_header {
	struct http_span name, value;	/* value without surrounding white space */
};

enum http_body {
	HTTP_BODY_NONE,			/* no body */
	HTTP_BODY_LENGTH,		/* content_length bytes */
	HTTP_BODY_CHUNKED,		/* chunked: feed it to an http_chunked */
	HTTP_BODY_CLOSE,		/* (responses) until the backend closes */
};

struct http_msg {
	/* request line */
	struct http_span method, target;
	/* status line */
	int status;
	struct http_span reason;
	int minor;			/* HTTP/1.minor: 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	int nheaders;
	size_t head_len;		/* bytes of the head, final CRLF CRLF included */
	enum http_body body;
	uint64_t content_length;
	bool keep_alive;		/* by version and Connection */
	bool expect_continue;		/* Expect: 100-continue */
	bool upgrade;			/* Connection: upgrade with an Upgrade header */
	int host;			/* index of the Host header, -1 if none */
};

struct http_limits {
	size_t max_head;		/* bytes (default 16384) */
	int max_headers;		/* (default 100) */
};

/* Incremental decoder of chunked framing: tells where the body ends, checks the framing,
 * never changes the bytes (the proxy forwards them as they are). */
struct http_chunked {
	int state;
	uint64_t remaining;		/* bytes left in the current chunk's data */
	int digits;			/* hex digits of the size line read so far */
	size_t trailer_len;		/* bytes of trailers seen (bounded) */
};

#endif
