/* route.c: handle-http-request, the user's routing word, and the words it uses on the
 * request being routed (the design document's http-parse, host-header, get-pool,
 * next-backend, packet-redirect). A request is a "packet" handle valid while the word runs. */
#include <errno.h>
#include <string.h>
#include "px.h"

#define PACKET_TAG ((afd_cell)0x504b54 << 40)	/* "PKT" */
#define RESPOND_TAG ((afd_cell)0x52535030 << 32)	/* "RSP0" | status */
#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)

static struct px_worker *routing_worker(void *ctx)
{
	struct px_worker *w = ((struct px_vmctx *)ctx)->w;
	return w && w->routing ? w : NULL;
}

static int push_span(afd_vm *vm, struct px_worker *w, uint32_t off, uint32_t len)
{
	return afd_push_string(vm, w->routing_buf + off, len);
}

/* http-parse ( packet -- ) the request is parsed already: check the handle */
static int r_http_parse(afd_vm *vm, void *ctx)
{
	afd_cell p;
	POP(p);
	return routing_worker(ctx) && p == PACKET_TAG ? 0 : -12;
}

/* host-header ( -- c-addr u ) the Host header without its port, or an empty string */
static int r_host_header(afd_vm *vm, void *ctx)
{
	struct px_worker *w = routing_worker(ctx);
	if (!w)
		return -21;
	const struct http_msg *m = w->routing_msg;
	if (m->host < 0)
		return afd_push_string(vm, "", 0);
	const struct http_span *v = &m->headers[m->host].value;
	uint32_t len = v->len;
	const char *s = w->routing_buf + v->off;
	if (len && s[0] != '[') {	/* IPv6 literals keep their colons */
		const char *colon = memchr(s, ':', len);
		if (colon)
			len = (uint32_t)(colon - s);
	}
	return push_span(vm, w, v->off, len);
}

/* http-path ( -- c-addr u ) the request target */
static int r_http_path(afd_vm *vm, void *ctx)
{
	struct px_worker *w = routing_worker(ctx);
	return w ? push_span(vm, w, w->routing_msg->target.off, w->routing_msg->target.len) : -21;
}

/* http-method ( -- c-addr u ) */
static int r_http_method(afd_vm *vm, void *ctx)
{
	struct px_worker *w = routing_worker(ctx);
	return w ? push_span(vm, w, w->routing_msg->method.off, w->routing_msg->method.len) : -21;
}

/* http-header ( c-addr1 u1 -- c-addr2 u2 ) the value of a header, or an empty string */
static int r_http_header(afd_vm *vm, void *ctx)
{
	struct px_worker *w = routing_worker(ctx);
	const char *s;
	size_t n;
	char name[128];
	int err = afd_pop_string(vm, &s, &n);
	if (err || !w)
		return err ? err : -21;
	if (n >= sizeof(name))
		return afd_push_string(vm, "", 0);
	memcpy(name, s, n);
	name[n] = 0;
	const struct http_header *h = http_header_find(w->routing_msg, w->routing_buf, name);
	return h ? push_span(vm, w, h->value.off, h->value.len) : afd_push_string(vm, "", 0);
}

/* client-ip ( -- ip ) */
static int r_client_ip(afd_vm *vm, void *ctx)
{
	struct px_worker *w = routing_worker(ctx);
	return w ? afd_push(vm, px_conn_client_ip(w->routing)) : -21;
}

/* next-backend ( pool -- backend ) picked by the pool's algorithm, or 0 if none is up */
static int r_next_backend(afd_vm *vm, void *ctx)
{
	struct px_vmctx *x = ctx;
	afd_cell p;
	POP(p);
	int i = (int)(p & 0xffff);
	if ((p & PX_TAG_MASK) != PX_POOL_TAG || i >= x->cfg->npools)
		return -12;
	if (!x->w)
		return -21;	/* only while a worker routes a request */
	uint32_t ip = x->w->routing ? px_conn_client_ip(x->w->routing) : 0;
	struct lb_key key = { .hash = lb_hash(&ip, sizeof(ip), 0),
			      .rand = px_rand(x->w), .now_ns = ev_now(x->w->loop) };
	struct lb_backend *b = lb_pick(&x->g->pickers[i], &key, NULL);
	return afd_push(vm, b ? PX_BACKEND_TAG | ((afd_cell)i << 24) | b->index : 0);
}

/* packet-redirect ( packet backend -- action ) send the request to that backend; a pool
 * instead of a backend lets the proxy pick in it (and retry there) */
static int r_packet_redirect(afd_vm *vm, void *ctx)
{
	afd_cell p, b;
	POP(b);
	POP(p);
	if (p != PACKET_TAG)
		return -12;
	return afd_push(vm, b);
}

/* http-respond ( packet status -- action ) the proxy answers the request itself with this
 * status (400..599), e.g. 403, 429 or 503 */
static int r_http_respond(afd_vm *vm, void *ctx)
{
	afd_cell p, status;
	POP(status);
	POP(p);
	if (p != PACKET_TAG)
		return -12;
	if (status < 400 || status > 599)
		return -24;
	return afd_push(vm, RESPOND_TAG | status);
}

int px_register_request_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "http-parse", "( packet -- )", r_http_parse },
		{ "host-header", "( -- c-addr u )", r_host_header },
		{ "http-path", "( -- c-addr u )", r_http_path },
		{ "http-method", "( -- c-addr u )", r_http_method },
		{ "http-header", "( c-addr1 u1 -- c-addr2 u2 )", r_http_header },
		{ "client-ip", "( -- ip )", r_client_ip },
		{ "next-backend", "( pool -- backend )", r_next_backend },
		{ "packet-redirect", "( packet backend -- action )", r_packet_redirect },
		{ "http-respond", "( packet status -- action )", r_http_respond },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}

/* Run handle-http-request ( packet -- action ) for one request. The action is a backend
 * (next-backend), a pool (get-pool), 0 for the listener's own pool, or a status to answer
 * (http-respond): then that status is returned. */
int px_route(struct px_wgen *g, struct px_conn *c, const char *buf, const struct http_msg *m,
	     int *pool, int *backend)
{
	struct px_worker *w = g->w;
	afd_vm *vm = g->vm;
	g->wvm->ctx.g = g;	/* the VM may be shared with other generations */
	g->wvm->ctx.cfg = g->cfg;
	w->routing = c;
	w->routing_buf = buf;
	w->routing_msg = m;
	afd_cell action = 0;
	int err = afd_push(vm, PACKET_TAG);
	if (!err)
		err = afd_execute(vm, g->route_xt);
	if (!err)
		err = afd_pop(vm, &action);
	while (afd_depth(vm) > 0) {	/* a word that leaves more behind must not leak */
		afd_cell junk;
		afd_pop(vm, &junk);
	}
	w->routing = NULL;
	if (err)
		return -EINVAL;
	*backend = -1;
	if ((action & PX_TAG_MASK) == PX_POOL_TAG) {
		*pool = (int)(action & 0xffff);
	} else if ((action & PX_BACKEND_MASK) == PX_BACKEND_TAG) {
		*pool = (int)((action >> 24) & 0xffff);
		*backend = (int)(action & 0xffffff);
	} else if ((action & PX_TAG_MASK) == RESPOND_TAG) {
		return (int)(action & 0xffff);
	} else if (action != 0) {
		return -EINVAL;
	}
	return *pool < g->cfg->npools ? 0 : -EINVAL;
}
