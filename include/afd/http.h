/* http.h: an HTTP/1.1 message parser for the proxy. */
#ifndef AFD_HTTP_H
#define AFD_HTTP_H

#include <sys/types.h>
#include "http-t.h"

/* Parse a request head at the start of buf[0..len). Returns the head's length when it is
 * complete, HTTP_AGAIN when more bytes are needed, or a negative HTTP_* error. limits may
 * be NULL (defaults). Rejects what smuggles: both Content-Length and Transfer-Encoding,
 * more than one Content-Length, a Content-Length that is not a plain decimal number, a
 * Transfer-Encoding that is not exactly "chunked", obs-folded lines, white space before a
 * header's colon, bare CR or LF line ends, control characters in the target or values. */
int http_parse_request(const char *buf, size_t len, struct http_msg *m,
		       const struct http_limits *limits);

/* Parse a response head. request_method is the method of the request it answers (a HEAD
 * has no body; a 1xx, 204 or 304 has none either). Errors: HTTP_BAD_GATEWAY or
 * HTTP_TOO_LARGE. */
int http_parse_response(const char *buf, size_t len, struct http_msg *m,
			const struct http_limits *limits, const char *request_method,
			size_t method_len);

/* The first header named `name` (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_msg *m, const char *buf,
					   const char *name);

/* Chunked framing. http_chunked_feed() consumes up to len bytes that follow what it was
 * fed before; returns how many bytes belong to the body (<= len), and sets *done when the
 * last chunk and its trailers ended; returns HTTP_BAD on a bad chunk size or framing. */
void http_chunked_init(struct http_chunked *c);
ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len, bool *done);

#endif
