/* fetch.c: backend-send, a blocking HTTP/1.1 exchange for scripts (the design document's
 * backend-with-breaker), and the objects it works on: requests, responses and errors.
 *
 * A worker must never block, so backend-send throws -21 in a worker VM (in routing words);
 * the main VM and scripts (health probes, admin tasks, tests) may use it. The exchange is
 * bounded: connect within connect-timeout, the whole answer within server-timeout (at most
 * 30 s), at most 64 KiB of it kept. Objects live in a ring of 16 per configuration: a
 * handle is a tagged generation number, so a handle whose slot was reused is detected
 * (-12) instead of reading another object. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "policy.h"

#define OBJ_TAG ((afd_cell)0x4f424a << 40)	/* "OBJ" | generation */
#define RESP_MAX 65536
enum { OBJ_REQUEST = 1, OBJ_RESPONSE, OBJ_ERROR };

static bool is_worker(void *ctx) { return ((struct px_vmctx *)ctx)->w != NULL; }
static struct px_config *cfg_of(void *ctx) { return ((struct px_vmctx *)ctx)->cfg; }

/* A new object (text copied); pushes its handle. */
static int obj_push(afd_vm *vm, void *ctx, int kind, int status, const char *text, size_t len)
{
	struct px_policy *pol = px_policy_get(ctx);
	char *copy = malloc(len + 1);
	if (!pol || !copy) {
		free(copy);
		return -8;
	}
	memcpy(copy, text, len);
	copy[len] = 0;
	pthread_mutex_lock(&pol->objlock);
	uint32_t gen = ++pol->objgen;
	if (!gen)		/* 0 is never a handle */
		gen = ++pol->objgen;
	struct px_obj *o = &pol->objs[gen % PX_OBJS];
	free(o->text);
	*o = (struct px_obj){ kind, gen, status, copy, len };
	pthread_mutex_unlock(&pol->objlock);
	return afd_push(vm, OBJ_TAG | gen);
}

/* The object of a handle, copied out (its text duplicated): 0, -12 (no such object). */
static int obj_get(void *ctx, afd_cell h, int kind, struct px_obj *out)
{
	struct px_policy *pol = px_policy_get(ctx);
	if ((h & ~(afd_cell)0xffffffff) != OBJ_TAG || !pol)
		return -12;
	uint32_t gen = (uint32_t)h;
	int err = -12;
	pthread_mutex_lock(&pol->objlock);
	struct px_obj *o = &pol->objs[gen % PX_OBJS];
	if (o->gen == gen && (!kind || o->kind == kind)) {
		*out = *o;
		out->text = malloc(o->len + 1);
		if (out->text) {
			memcpy(out->text, o->text, o->len + 1);
			err = 0;
		} else {
			err = -8;
		}
	}
	pthread_mutex_unlock(&pol->objlock);
	return err;
}

static int pop_obj(afd_vm *vm, void *ctx, int kind, struct px_obj *o)
{
	afd_cell h;
	int err = afd_pop(vm, &h);
	return err ? err : obj_get(ctx, h, kind, o);
}

/* http-get ( c-addr u -- request ) a GET of that path */
static int w_http_get(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n == 0 || n > 2048 || s[0] != '/')
		return -24;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return -24;
	return obj_push(vm, ctx, OBJ_REQUEST, 0, s, n);
}

/* error ( c-addr u -- error ) */
static int w_error(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	return obj_push(vm, ctx, OBJ_ERROR, 0, s, n > 1024 ? 1024 : n);
}

/* error? ( x -- flag ) is x an error (not a response, not any other value)? */
static int w_is_error(afd_vm *vm, void *ctx)
{
	struct px_obj o;
	int err = pop_obj(vm, ctx, OBJ_ERROR, &o);
	if (err == -8)
		return err;
	if (!err)
		free(o.text);
	return afd_push(vm, err ? 0 : -1);
}

/* error-message ( error -- c-addr u ), response-body ( response -- c-addr u ) */
static int push_text(afd_vm *vm, void *ctx, int kind)
{
	struct px_obj o;
	int err = pop_obj(vm, ctx, kind, &o);
	if (err)
		return err;
	err = afd_push_string(vm, o.text, o.len);
	free(o.text);
	return err;
}

static int w_error_message(afd_vm *vm, void *ctx) { return push_text(vm, ctx, OBJ_ERROR); }
static int w_response_body(afd_vm *vm, void *ctx) { return push_text(vm, ctx, OBJ_RESPONSE); }

/* response-status ( response -- n ) */
static int w_response_status(afd_vm *vm, void *ctx)
{
	struct px_obj o;
	int err = pop_obj(vm, ctx, OBJ_RESPONSE, &o);
	if (err)
		return err;
	free(o.text);
	return afd_push(vm, o.status);
}

/* ---- the exchange ---- */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	uint64_t now = lb_now_ns();
	if (now >= deadline)
		return -ETIMEDOUT;
	struct pollfd p = { fd, events, 0 };
	int ms = (int)((deadline - now) / 1000000u) + 1;
	int r = poll(&p, 1, ms);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

static int connect_to(const struct lb_backend *b, uint64_t deadline)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(b->port),
				  .sin_addr.s_addr = htonl(b->ip) };
	int err = 0;
	socklen_t len = sizeof(err);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS)
			err = -errno;
		else if (!(err = wait_fd(fd, POLLOUT, deadline)) &&
			 !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = -err;
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k > 0) {
			s += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EAGAIN) {
			int err = wait_fd(fd, POLLOUT, deadline);
			if (err)
				return err;
		} else {
			return k < 0 ? -errno : -EPIPE;
		}
	}
	return 0;
}

/* Read until the server closes (the request said Connection: close), RESP_MAX or the
 * deadline. Returns the length or -errno. */
static ssize_t recv_all(int fd, char *buf, size_t cap, uint64_t deadline)
{
	size_t n = 0;
	while (n < cap) {
		ssize_t k = recv(fd, buf + n, cap - n, 0);
		if (k > 0) {
			n += (size_t)k;
		} else if (k == 0) {
			break;
		} else if (errno == EAGAIN) {
			int err = wait_fd(fd, POLLIN, deadline);
			if (err)
				return err;
		} else {
			return -errno;
		}
	}
	return (ssize_t)n;
}

/* A chunked body decoded in place: its length, or -1 if the framing is bad. */
static ssize_t dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *end;
		unsigned long size = strtoul(b + in, &end, 16);
		if (end == b + in)
			return -1;
		char *lf = memchr(end, '\n', n - (size_t)(end - b));
		if (!lf)
			return -1;
		in = (size_t)(lf - b) + 1;
		if (size == 0)
			return (ssize_t)out;
		if (size > n - in)
			return -1;
		memmove(b + out, b + in, size);
		out += size;
		in += size + 2;
		if (in > n)
			return -1;
	}
}

/* One exchange: the response's status and body, or an error's text in *why. */
static int exchange(const struct px_config *cfg, const struct lb_backend *b, const char *path,
		    int *status, char *buf, size_t *len, const char **why)
{
	uint64_t now = lb_now_ns(), server = cfg->server_timeout_ns;
	if (server > 30000000000ull)
		server = 30000000000ull;
	int fd = connect_to(b, now + cfg->connect_timeout_ns);
	if (fd < 0) {
		*why = fd == -ETIMEDOUT ? "connect timed out" : "connect failed";
		return fd;
	}
	char req[2400];
	int rn = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %u.%u.%u.%u:%u\r\n"
			  "Connection: close\r\nUser-Agent: afd-backend-send\r\n\r\n", path,
			  b->ip >> 24, (b->ip >> 16) & 255, (b->ip >> 8) & 255, b->ip & 255, b->port);
	uint64_t deadline = lb_now_ns() + server;
	int err = send_all(fd, req, (size_t)rn, deadline);
	ssize_t n = err ? err : recv_all(fd, buf, RESP_MAX, deadline);
	close(fd);
	if (n < 0) {
		*why = n == -ETIMEDOUT ? "no answer in time" : "connection broken";
		return (int)n;
	}
	struct http_msg m;
	int h = http_parse_response(buf, (size_t)n, &m, NULL, "GET", 3);
	if (h < 0) {
		*why = h == HTTP_AGAIN ? "incomplete answer" : "malformed answer";
		return -EPROTO;
	}
	size_t body = (size_t)n - (size_t)h;
	memmove(buf, buf + h, body);
	if (m.body == HTTP_BODY_LENGTH && m.content_length < body)
		body = (size_t)m.content_length;
	if (m.body == HTTP_BODY_CHUNKED) {
		buf[body] = 0;	/* strtoul stops there */
		ssize_t d = dechunk(buf, body);
		if (d < 0) {
			*why = "malformed chunked body";
			return -EPROTO;
		}
		body = (size_t)d;
	}
	*status = m.status;
	*len = body;
	return 0;
}

/* backend-send ( backend request -- response | error ) the request to that backend, waiting
 * for the answer (main VM only: -21 in a worker); a 5xx answer is an error too */
static int w_backend_send(afd_vm *vm, void *ctx)
{
	afd_cell h;
	struct px_obj req;
	struct lb_backend *b;
	int err = pop_obj(vm, ctx, OBJ_REQUEST, &req);
	if (err)
		return err;
	if ((err = px_pop_backend(vm, cfg_of(ctx), &h, &b)) || is_worker(ctx)) {
		free(req.text);
		return err ? err : -21;
	}
	char *buf = malloc(RESP_MAX + 1);
	if (!buf) {
		free(req.text);
		return -8;
	}
	int status = 0;
	size_t len = 0;
	const char *why = "";
	err = exchange(cfg_of(ctx), b, req.text, &status, buf, &len, &why);
	free(req.text);
	if (!err && status >= 500) {
		why = buf;
		len = (size_t)snprintf(buf, 64, "backend answered %d", status);
	}
	err = err || status >= 500 ? obj_push(vm, ctx, OBJ_ERROR, 0, why, strlen(why)) :
				     obj_push(vm, ctx, OBJ_RESPONSE, status, buf, len);
	free(buf);
	return err;
}

int px_register_fetch_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "http-get", "( c-addr u -- request )", w_http_get },
		{ "backend-send", "( backend request -- response | error )", w_backend_send },
		{ "response-status", "( response -- n )", w_response_status },
		{ "response-body", "( response -- c-addr u )", w_response_body },
		{ "error", "( c-addr u -- error )", w_error },
		{ "error?", "( x -- flag )", w_is_error },
		{ "error-message", "( error -- c-addr u )", w_error_message },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}
