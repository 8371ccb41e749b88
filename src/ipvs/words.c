/* words.c: the Forth words that drive the kernel's IPVS (doc/ipvs.md).
 *
 * A service or a destination is first a specification on the Forth stack (a tagged handle:
 * ipvs-service-new, ipvs-dest-new, then set-... words), then a change to the kernel
 * (ipvs-add-service, ipvs-add-dest, ...). Changes go to the kernel at once, or, between
 * ipvs-begin and ipvs-commit, as one batch. A commit is all or nothing (batch.c): when the
 * kernel refuses one change, the ones that took effect are undone from the state read before
 * the batch, and the error names the change and the kernel's reason.
 *
 * AFD owns the services it made (a list kept in a file, ipvs-owner-file), so adding one
 * that exists and is AFD's makes it match instead of failing: a restart with the same
 * configuration changes nothing in the kernel. ipvs-reconcile then removes what AFD owns
 * and the configuration no longer declares. A service AFD does not own is never touched.
 *
 * The IPVS table is the machine's, so the state is the process's (priv.h, one lock); a
 * worker VM replaying the configuration sees the words but sends nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "priv.h"
#include "words.h"

#define SVC_TAG ((afd_cell)0x49565353 << 32)	/* "IVSS" | spec index */
#define DEST_TAG ((afd_cell)0x49565344 << 32)	/* "IVSD" | spec index */
#define TAG_MASK ((afd_cell)(~(afd_ucell)0 << 32))
#define MAX_SPECS (1 << 20)

#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)

static int out(afd_vm *vm, const char *s, size_t n)
{
	afd_cell xt = afd_find(vm, "type", 4);
	for (size_t off = 0; off < n;) {	/* the transient ring holds 16 KiB */
		size_t k = n - off < 4096 ? n - off : 4096;
		int err = afd_push_string(vm, s + off, k);
		err = err ? err : afd_execute(vm, xt);
		if (err)
			return err;
		off += k;
	}
	return 0;
}

/* ---- specifications on the stack ---- */

/* A new specification and its handle. A replay (ctx non-NULL) sends nothing, so its handles
 * only keep the stack effects: it reuses one scratch spec of each kind, and a proxy worker
 * replaying the configuration at every reload adds nothing to the table of specs. */
static int spec_new(afd_vm *vm, void *ctx, bool is_dest, struct spec **sp)
{
	int *scratch = &S.scratch[is_dest];
	if (ctx && *scratch) {
		struct spec *s = &S.spec[*scratch - 1];
		memset(s, 0, sizeof(*s));
		s->is_dest = is_dest;
		*sp = s;
		return afd_push(vm, (is_dest ? DEST_TAG : SVC_TAG) | (*scratch - 1));
	}
	if (ctx)
		*scratch = S.nspec + 1;
	if (S.nspec >= MAX_SPECS)
		return -8;
	if (ipvs_grow((void **)&S.spec, &S.capspec, S.nspec, sizeof(*S.spec)))
		return -8;
	struct spec *s = &S.spec[S.nspec];
	memset(s, 0, sizeof(*s));
	s->is_dest = is_dest;
	*sp = s;
	return afd_push(vm, (is_dest ? DEST_TAG : SVC_TAG) | S.nspec++);
}

static struct spec *spec_of(afd_cell h, bool is_dest)
{
	int i = (int)(h & 0xffffffff);
	if ((h & TAG_MASK) != (is_dest ? DEST_TAG : SVC_TAG) || i >= S.nspec)
		return NULL;
	return &S.spec[i];
}

const struct ipvs_svc *ipvs_spec_svc(afd_cell h)
{
	const struct spec *s = spec_of(h, false);
	return s ? &s->svc : NULL;
}

static int pop_spec(afd_vm *vm, bool is_dest, struct spec **s)
{
	afd_cell h;
	POP(h);
	*s = spec_of(h, is_dest);
	return *s ? afd_push(vm, h) : -12;
}

static void svc_defaults(struct ipvs_svc *s, uint16_t af)
{
	s->af = af;
	s->protocol = IPPROTO_TCP;
	strcpy(s->sched, "wlc");	/* ipvsadm's default */
	s->netmask = af == AF_INET6 ? 128 : 0xffffffff;
}

static void put_v4(uint8_t *addr, afd_cell ip)
{
	uint32_t be = htonl((uint32_t)ip);
	memset(addr, 0, 16);
	memcpy(addr, &be, 4);
}

static int check_port(afd_vm *vm, afd_cell port)
{
	return port < 0 || port > 65535 ? ipvs_fail(vm, -24, "port %lld out of 0..65535", (long long)port) : 0;
}

static int check_ip(afd_vm *vm, afd_cell ip)
{
	return ip < 0 || ip > 0xffffffffll ? ipvs_fail(vm, AFD_THROW_BAD_IP, "not an IPv4 address") : 0;
}

/* ipvs-service-new ( vip port -- svc ) TCP, wlc, masquerading, no persistence */
static int w_service_new(afd_vm *vm, void *ctx)
{
	afd_cell ip, port;
	POP(port);
	POP(ip);
	int err = check_ip(vm, ip);
	if (err || (err = check_port(vm, port)))
		return err;
	struct spec *s;
	if ((err = spec_new(vm, ctx, false, &s)))
		return err;
	svc_defaults(&s->svc, AF_INET);
	put_v4(s->svc.addr, ip);
	s->svc.port = (uint16_t)port;
	S.current = S.nspec - 1;
	return 0;
}

/* Text to an IPv6 address, for the words that take one as a string. */
static int pop_v6(afd_vm *vm, uint8_t *addr)
{
	const char *s;
	size_t n;
	char buf[INET6_ADDRSTRLEN];
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n >= sizeof(buf))
		return ipvs_fail(vm, AFD_THROW_BAD_IP, "not an IPv6 address");
	memcpy(buf, s, n);
	buf[n] = 0;
	return inet_pton(AF_INET6, buf, addr) == 1 ? 0 :
		ipvs_fail(vm, AFD_THROW_BAD_IP, "not an IPv6 address: %s", buf);
}

/* ipvs-service-new6 ( c-addr u port -- svc ) an IPv6 service: "2001:db8::1" 80 */
static int w_service_new6(afd_vm *vm, void *ctx)
{
	afd_cell port;
	uint8_t a[16];
	POP(port);
	int err = check_port(vm, port);
	if (err || (err = pop_v6(vm, a)))
		return err;
	struct spec *s;
	if ((err = spec_new(vm, ctx, false, &s)))
		return err;
	svc_defaults(&s->svc, AF_INET6);
	memcpy(s->svc.addr, a, 16);
	s->svc.port = (uint16_t)port;
	S.current = S.nspec - 1;
	return 0;
}

/* ipvs-fwmark-service-new ( mark -- svc ) a service for packets of a firewall mark, IPv4;
 * ipvs-fwmark-service-new6 the same for IPv6 */
static int fwmark_new(afd_vm *vm, void *ctx, uint16_t af)
{
	afd_cell mark;
	POP(mark);
	if (mark <= 0 || mark > 0xffffffffll)
		return ipvs_fail(vm, -24, "firewall mark must be 1..2^32-1");
	struct spec *s;
	int err = spec_new(vm, ctx, false, &s);
	if (err)
		return err;
	svc_defaults(&s->svc, af);
	s->svc.protocol = 0;
	s->svc.fwmark = (uint32_t)mark;
	S.current = S.nspec - 1;
	return 0;
}

static int w_fwmark_new(afd_vm *vm, void *ctx) { return fwmark_new(vm, ctx, AF_INET); }
static int w_fwmark_new6(afd_vm *vm, void *ctx) { return fwmark_new(vm, ctx, AF_INET6); }

/* set-flags ( svc-or-dest method -- svc-or-dest ) the forwarding method (IP_VS_CONN_F_MASQ,
 * _DROUTE, _TUNNEL, _LOCALNODE); on a service, the default of its destinations */
static int w_set_flags(afd_vm *vm, void *ctx)
{
	afd_cell m, h;
	POP(m);
	POP(h);
	struct spec *s = spec_of(h, true);
	if (!s && !(s = spec_of(h, false)))
		return -12;
	if (m < IP_VS_CONN_F_MASQ || m > IP_VS_CONN_F_DROUTE)
		return ipvs_fail(vm, -24, "not a forwarding method: %lld", (long long)m);
	s->fwd = (uint32_t)m;
	s->d.fwd = (uint32_t)m;
	s->fwd_set = true;
	return afd_push(vm, h);
}

/* set-svc-flags ( svc flags -- svc ) IP_VS_SVC_F_PERSISTENT, _ONEPACKET, _SCHED1..3 (or'ed
 * in); persistence without a timeout gets ipvsadm's 300 s */
static int w_set_svc_flags(afd_vm *vm, void *ctx)
{
	afd_cell f;
	struct spec *s;
	POP(f);
	int err = pop_spec(vm, false, &s);
	if (err)
		return err;
	uint32_t ok = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED1 |
		      IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;
	if (f < 0 || f & ~(afd_cell)ok)
		return ipvs_fail(vm, -24, "not service flags: %#llx", (unsigned long long)f);
	s->svc.flags |= (uint32_t)f;
	if ((f & IP_VS_SVC_F_PERSISTENT) && !s->svc.timeout)
		s->svc.timeout = 300;
	return 0;
}

/* clear-svc-flags ( svc flags -- svc ) */
static int w_clear_svc_flags(afd_vm *vm, void *ctx)
{
	afd_cell f;
	struct spec *s;
	POP(f);
	int err = pop_spec(vm, false, &s);
	if (!err)
		s->svc.flags &= ~(uint32_t)f;
	return err;
}

/* set-scheduler ( svc c-addr u -- svc ) any name the kernel knows (ip_vs_NAME) */
static int w_set_scheduler(afd_vm *vm, void *ctx)
{
	const char *n;
	size_t len;
	struct spec *s;
	int err = afd_pop_string(vm, &n, &len);
	if (err || (err = pop_spec(vm, false, &s)))
		return err;
	if (len == 0 || len >= IP_VS_SCHEDNAME_MAXLEN || memchr(n, 0, len))
		return ipvs_fail(vm, -24, "scheduler name of 1..%d characters", IP_VS_SCHEDNAME_MAXLEN - 1);
	memcpy(s->svc.sched, n, len);
	s->svc.sched[len] = 0;
	return 0;
}

/* set-pe ( svc c-addr u -- svc ) persistence engine ("sip"); "" for none */
static int w_set_pe(afd_vm *vm, void *ctx)
{
	const char *n;
	size_t len;
	struct spec *s;
	int err = afd_pop_string(vm, &n, &len);
	if (err || (err = pop_spec(vm, false, &s)))
		return err;
	if (len >= IP_VS_PENAME_MAXLEN || memchr(n, 0, len))
		return ipvs_fail(vm, -24, "persistence engine name too long");
	memcpy(s->svc.pe, n, len);
	s->svc.pe[len] = 0;
	return 0;
}

/* set-protocol ( svc proto -- svc ) IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
static int w_set_protocol(afd_vm *vm, void *ctx)
{
	afd_cell p;
	struct spec *s;
	POP(p);
	int err = pop_spec(vm, false, &s);
	if (err)
		return err;
	if (s->svc.fwmark)
		return ipvs_fail(vm, -24, "a firewall-mark service has no protocol");
	if (p != IPPROTO_TCP && p != IPPROTO_UDP && p != IPPROTO_SCTP)
		return ipvs_fail(vm, -24, "protocol %lld: IPVS balances TCP, UDP and SCTP", (long long)p);
	s->svc.protocol = (uint16_t)p;
	return 0;
}

/* set-persistence ( svc seconds -- svc ) persistent, clients stick this long; 0: not */
static int w_set_persistence(afd_vm *vm, void *ctx)
{
	afd_cell t;
	struct spec *s;
	POP(t);
	int err = pop_spec(vm, false, &s);
	if (err)
		return err;
	if (t < 0 || t > 0x7fffffff)
		return ipvs_fail(vm, -24, "persistence timeout out of range");
	s->svc.timeout = (uint32_t)t;
	if (t)
		s->svc.flags |= IP_VS_SVC_F_PERSISTENT;
	else
		s->svc.flags &= ~(uint32_t)IP_VS_SVC_F_PERSISTENT;
	return 0;
}

/* set-netmask ( svc mask -- svc ) persistence granularity: an IPv4 mask (255.255.255.0), or
 * for an IPv6 service a prefix length */
static int w_set_netmask(afd_vm *vm, void *ctx)
{
	afd_cell m;
	struct spec *s;
	POP(m);
	int err = pop_spec(vm, false, &s);
	if (err)
		return err;
	if (s->svc.af == AF_INET6) {
		if (m < 1 || m > 128)
			return ipvs_fail(vm, -24, "IPv6 prefix length 1..128");
		s->svc.netmask = (uint32_t)m;
		return 0;
	}
	uint32_t inv = ~(uint32_t)m;
	if (m < 0 || m > 0xffffffffll || (inv & (inv + 1)))
		return ipvs_fail(vm, -24, "not a netmask");
	s->svc.netmask = htonl((uint32_t)m);
	return 0;
}

/* ipvs-dest-new ( rip weight -- dest ) the service's port, its forwarding method */
static int dest_new(afd_vm *vm, void *ctx, uint16_t af, const uint8_t *a, afd_cell w)
{
	if (w < 0 || w > 0x7fffffff)
		return ipvs_fail(vm, -24, "weight %lld out of 0..2^31-1", (long long)w);
	struct spec *s;
	int err = spec_new(vm, ctx, true, &s);
	if (err)
		return err;
	s->d.af = af;
	memcpy(s->d.addr, a, 16);
	s->d.weight = (uint32_t)w;
	s->dflags = IP_VS_DEST_F_AVAILABLE;
	return 0;
}

static int w_dest_new(afd_vm *vm, void *ctx)
{
	afd_cell ip, w;
	uint8_t a[16];
	POP(w);
	POP(ip);
	int err = check_ip(vm, ip);
	if (err)
		return err;
	put_v4(a, ip);
	return dest_new(vm, ctx, AF_INET, a, w);
}

/* ipvs-dest-new6 ( c-addr u weight -- dest ) */
static int w_dest_new6(afd_vm *vm, void *ctx)
{
	afd_cell w;
	uint8_t a[16];
	POP(w);
	int err = pop_v6(vm, a);
	return err ? err : dest_new(vm, ctx, AF_INET6, a, w);
}

/* set-dest-flags ( dest flags -- dest ) IP_VS_DEST_F_AVAILABLE: takes new connections (the
 * default). Without it the destination is quiesced: weight 0, its connections finish.
 * IP_VS_DEST_F_OVERLOAD is the kernel's to set. */
static int w_set_dest_flags(afd_vm *vm, void *ctx)
{
	afd_cell f;
	struct spec *s;
	POP(f);
	int err = pop_spec(vm, true, &s);
	if (err)
		return err;
	if (f & ~(afd_cell)IP_VS_DEST_F_AVAILABLE)
		return ipvs_fail(vm, -24, "only IP_VS_DEST_F_AVAILABLE (the kernel sets OVERLOAD)");
	s->dflags = (uint32_t)f;
	return 0;
}

/* set-dest-port ( dest port -- dest ) */
static int w_set_dest_port(afd_vm *vm, void *ctx)
{
	afd_cell p;
	struct spec *s;
	POP(p);
	int err = check_port(vm, p);
	if (err || (err = pop_spec(vm, true, &s)))
		return err;
	s->d.port = (uint16_t)p;
	s->port_set = true;
	return 0;
}

/* set-thresholds ( dest upper lower -- dest ) connection limits, 0: none */
static int w_set_thresholds(afd_vm *vm, void *ctx)
{
	afd_cell u, l;
	struct spec *s;
	POP(l);
	POP(u);
	int err = pop_spec(vm, true, &s);
	if (err)
		return err;
	if (u < 0 || l < 0 || u > 0x7fffffff || l > 0x7fffffff)
		return ipvs_fail(vm, -24, "thresholds out of range");
	s->d.u_thresh = (uint32_t)u;
	s->d.l_thresh = (uint32_t)l;
	return 0;
}

/* set-tunnel ( dest type port -- dest ) tunnelling encapsulation: IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
 * _GUE (with a UDP port), _GRE; makes the method IP_VS_CONN_F_TUNNEL */
static int w_set_tunnel(afd_vm *vm, void *ctx)
{
	afd_cell t, p;
	struct spec *s;
	POP(p);
	POP(t);
	int err = check_port(vm, p);
	if (err || (err = pop_spec(vm, true, &s)))
		return err;
	if (t < 0 || t >= IP_VS_CONN_F_TUNNEL_TYPE_MAX)
		return ipvs_fail(vm, -24, "not a tunnel type");
	s->d.fwd = IP_VS_CONN_F_TUNNEL;
	s->fwd_set = true;
	s->d.tun_type = (uint8_t)t;
	s->d.tun_port = (uint16_t)p;
	return 0;
}

/* ---- changes ---- */

/* The kernel's record of the service of spec s, or -ESRCH. */
static int kernel_svc(afd_vm *vm, const struct ipvs_svc *key, struct ipvs_svc *got)
{
	struct ipvs *h = NULL;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	*got = *key;
	err = ipvs_get_service(h, got);
	return err == -ESRCH ? 1 : err ? ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-err)) : 0;
}

static bool same_settings(const struct ipvs_svc *a, const struct ipvs_svc *b)
{
	return !strcmp(a->sched, b->sched) && !strcmp(a->pe, b->pe) && a->flags == b->flags &&
	       a->timeout == b->timeout && a->netmask == b->netmask;
}

/* ipvs-add-service ( svc -- ) adds it, and makes it the current service. If AFD owns it
 * already (a restart), makes the kernel's match; if someone else's, fails: duplicate. */
static int w_add_service(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	POP(hd);
	struct spec *s = spec_of(hd, false);
	if (!s)
		return -12;
	S.current = (int)(hd & 0xffffffff);
	if (ctx)
		return 0;	/* a worker's replay */
	ipvs_owned_load();
	struct ipvs_svc k;
	int err = kernel_svc(vm, &s->svc, &k);
	if (err < 0)
		return err;
	struct qchange q = { .c = { .op = IPVS_ADD_SVC, .svc = s->svc }, .book = DECLARE };
	if (err == 0 && ipvs_owned_find(&s->svc) < 0) {
		char b[96];
		return ipvs_fail(vm, THROW_KERNEL, "duplicate service: %s exists and is not AFD's",
			    ipvs_svc_str(&s->svc, b, sizeof(b)));
	}
	if (err == 0) {
		q.c.op = IPVS_EDIT_SVC;
		if (same_settings(&k, &s->svc)) {	/* nothing to change: only declare it */
			ipvs_book(&q);
			return 0;
		}
	}
	return ipvs_submit(vm, &q, 1);
}

/* ipvs-edit-service ( svc -- ) the kernel's service takes the spec's settings */
static int w_edit_service(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	POP(hd);
	struct spec *s = spec_of(hd, false);
	if (!s)
		return -12;
	if (ctx)
		return 0;
	struct qchange q = { .c = { .op = IPVS_EDIT_SVC, .svc = s->svc }, .book = DECLARE };
	return ipvs_submit(vm, &q, 1);
}

/* ipvs-del-service ( svc -- ) removes it and its destinations */
static int w_del_service(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	POP(hd);
	struct spec *s = spec_of(hd, false);
	if (!s)
		return -12;
	if (ctx)
		return 0;
	ipvs_owned_load();
	struct qchange q = { .c = { .op = IPVS_DEL_SVC, .svc = s->svc }, .book = UNDECLARE };
	return ipvs_submit(vm, &q, 1);
}

/* ipvs-use-service ( svc -- ) the service ipvs-add-dest adds to */
static int w_use_service(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	POP(hd);
	if (!spec_of(hd, false))
		return -12;
	S.current = (int)(hd & 0xffffffff);
	return 0;
}

/* The change for destination spec d of the current service. */
static int dest_change(afd_vm *vm, afd_cell hd, int op, struct qchange *q)
{
	struct spec *d = spec_of(hd, true);
	if (!d)
		return -12;
	if (S.current < 0)
		return ipvs_fail(vm, -12, "no current service (ipvs-service-new or ipvs-use-service)");
	const struct spec *s = &S.spec[S.current];
	d->svc = s->svc;
	struct ipvs_dest dest = d->d;
	if (!d->port_set)
		dest.port = s->svc.port;
	if (!d->fwd_set)
		dest.fwd = s->fwd;
	if (!(d->dflags & IP_VS_DEST_F_AVAILABLE))
		dest.weight = 0;
	*q = (struct qchange){ .c = { .op = (uint8_t)op, .svc = s->svc, .dest = dest },
			       .book = op == IPVS_DEL_DEST ? UNDECLARE : DECLARE };
	return 0;
}

/* The kernel's destination d of service svc, or NULL. The service's destinations are read
 * once per batch (once per call outside one), so adding n of them costs n log n, not n². */
static int kernel_dest(afd_vm *vm, const struct ipvs_svc *svc, const struct ipvs_dest *d,
		       const struct ipvs_dest **out)
{
	struct ipvs *h = NULL;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	if (!S.batching || !S.cache_valid || !ipvs_same_svc(&S.cache_svc, svc)) {
		free(S.cache);
		S.cache = NULL;
		S.cache_valid = false;
		int n = ipvs_dests(h, svc, &S.cache);
		S.ncache = n > 0 ? n : 0;
		if (n > 0)
			qsort(S.cache, (size_t)n, sizeof(*S.cache), ipvs_cmp_dest);
		S.cache_svc = *svc;
		S.cache_valid = S.batching;
	}
	*out = S.ncache ? bsearch(d, S.cache, (size_t)S.ncache, sizeof(*d), ipvs_cmp_dest) : NULL;
	return 0;
}

/* ipvs-add-dest ( dest -- ) to the current service; if there already, takes its settings */
static int w_add_dest(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	struct qchange q;
	POP(hd);
	int err = dest_change(vm, hd, IPVS_ADD_DEST, &q);
	if (err || ctx)
		return err;
	const struct ipvs_dest *k;
	if ((err = kernel_dest(vm, &q.c.svc, &q.c.dest, &k)))
		return err;
	bool same = false;
	if (k) {
		same = k->weight == q.c.dest.weight && k->fwd == q.c.dest.fwd &&
		       k->u_thresh == q.c.dest.u_thresh && k->l_thresh == q.c.dest.l_thresh;
		q.c.op = IPVS_EDIT_DEST;
	}
	if (same) {	/* as the kernel has it: only declare it */
		ipvs_book(&q);
		return 0;
	}
	return ipvs_submit(vm, &q, 1);
}

static int dest_word(afd_vm *vm, void *ctx, int op)
{
	afd_cell hd;
	struct qchange q;
	POP(hd);
	int err = dest_change(vm, hd, op, &q);
	return err || ctx ? err : ipvs_submit(vm, &q, 1);
}

/* ipvs-edit-dest ( dest -- ) ipvs-del-dest ( dest -- ) in the current service */
static int w_edit_dest(afd_vm *vm, void *ctx) { return dest_word(vm, ctx, IPVS_EDIT_DEST); }
static int w_del_dest(afd_vm *vm, void *ctx) { return dest_word(vm, ctx, IPVS_DEL_DEST); }

/* A weight-only edit of destination key (address set) of service hd. */
static int set_weight(afd_vm *vm, void *ctx, afd_cell hd, struct ipvs_dest key, afd_cell port,
		      afd_cell w)
{
	struct spec *s = spec_of(hd, false);
	if (!s)
		return -12;
	int err = check_port(vm, port);
	if (err)
		return err;
	if (w < 0 || w > 0x7fffffff)
		return ipvs_fail(vm, -24, "weight %lld out of 0..2^31-1", (long long)w);
	if (ctx)
		return 0;
	key.port = (uint16_t)port;
	key.weight = (uint32_t)w;
	struct qchange q = { .c = { .op = IPVS_EDIT_DEST, .svc = s->svc, .dest = key },
			     .book = KEEP, .weight_only = true };
	return ipvs_submit(vm, &q, 1);
}

/* ipvs-set-weight ( svc rip port weight -- ) a live weight change (the design document's
 * update_weights_live: many of them between ipvs-begin and ipvs-commit are one batch);
 * connections stay, weight 0 drains */
static int w_set_weight(afd_vm *vm, void *ctx)
{
	afd_cell hd, ip, port, w;
	POP(w);
	POP(port);
	POP(ip);
	POP(hd);
	struct ipvs_dest key = { .af = AF_INET };
	int err = check_ip(vm, ip);
	if (err)
		return err;
	put_v4(key.addr, ip);
	return set_weight(vm, ctx, hd, key, port, w);
}

/* ipvs-set-weight6 ( svc c-addr u port weight -- ) the same for an IPv6 destination */
static int w_set_weight6(afd_vm *vm, void *ctx)
{
	afd_cell hd, port, w;
	struct ipvs_dest key = { .af = AF_INET6 };
	POP(w);
	POP(port);
	int err = pop_v6(vm, key.addr);
	if (err)
		return err;
	POP(hd);
	return set_weight(vm, ctx, hd, key, port, w);
}

/* ipvs-begin ( -- ) changes from now on wait for ipvs-commit */
static int w_begin(afd_vm *vm, void *ctx)
{
	if (S.batching)
		return ipvs_fail(vm, -12, "a batch is open already");
	S.batching = true;
	S.nq = 0;
	S.cache_valid = false;
	return 0;
}

static int end_batch(afd_vm *vm, void *ctx, bool atomic, int *failed)
{
	*failed = 0;
	if (!S.batching)
		return ipvs_fail(vm, -12, "no batch open (ipvs-begin)");
	S.batching = false;
	int n = S.nq;
	S.nq = 0;
	if (ctx || !n) {
		S.nlast = S.last_sent = 0;
		return 0;
	}
	return ipvs_commit(vm, S.q, n, atomic, failed);
}

/* ipvs-commit ( -- ) the batch, all or nothing */
static int w_commit(afd_vm *vm, void *ctx)
{
	int failed;
	return end_batch(vm, ctx, true, &failed);
}

/* ipvs-commit-each ( -- nfailed ) the batch; what the kernel accepts stays
 * (ipvs-change-error tells each change's verdict) */
static int w_commit_each(afd_vm *vm, void *ctx)
{
	int failed, err = end_batch(vm, ctx, false, &failed);
	return err ? err : afd_push(vm, failed);
}

/* ipvs-abort ( -- ) drop the open batch */
static int w_abort(afd_vm *vm, void *ctx)
{
	S.batching = false;
	S.nq = 0;
	return 0;
}

/* ipvs-last-changes ( -- n ) changes sent to the kernel by the last commit */
static int w_last_changes(afd_vm *vm, void *ctx) { return afd_push(vm, S.last_sent); }

/* ipvs-sends ( -- n ) sendmsg calls this process made to IPVS (batches are few) */
static int w_sends(afd_vm *vm, void *ctx) { return afd_push(vm, S.h ? (afd_cell)ipvs_sends(S.h) : 0); }

/* ipvs-changes-sent ( -- n ) changes this process sent to the kernel (undos not counted) */
static int w_changes_sent(afd_vm *vm, void *ctx) { return afd_push(vm, S.sent); }

/* ipvs-change-error ( i -- err ) err: -errno or 0, for change i (from 0) of the last commit */
static int w_change_error(afd_vm *vm, void *ctx)
{
	afd_cell i;
	POP(i);
	if (i < 0 || i >= S.nlast)
		return -24;
	return afd_push(vm, S.last[i].err);
}

/* ipvs-reconcile ( -- ) removes, as one batch, what AFD owns and the configuration no
 * longer declares: services, and destinations of declared services */
static int w_reconcile(afd_vm *vm, void *ctx)
{
	struct ipvs *h = NULL;
	int err = ctx ? 0 : ipvs_handle(vm, &h);
	if (err || ctx)
		return err;
	ipvs_owned_load();
	struct qchange *q = NULL;
	int n = 0, cap = 0;
	for (int i = 0; i < S.nowned && !err; i++) {
		if (ipvs_decl_find(S.dsvc, S.ndsvc, &S.owned[i], NULL) >= 0 ||
		    (err = ipvs_grow((void **)&q, &cap, n, sizeof(*q))))
			continue;
		q[n++] = (struct qchange){ .c = { .op = IPVS_DEL_SVC, .svc = S.owned[i] },
					   .book = UNDECLARE };
	}
	for (int i = 0; i < S.ndsvc && !err; i++) {
		struct ipvs_dest *d;
		int nd = ipvs_dests(h, &S.dsvc[i].svc, &d);
		for (int k = 0; k < nd && !err; k++) {
			if (ipvs_decl_find(S.ddest, S.nddest, &S.dsvc[i].svc, &d[k]) >= 0 ||
			    (err = ipvs_grow((void **)&q, &cap, n, sizeof(*q))))
				continue;
			q[n++] = (struct qchange){ .c = { .op = IPVS_DEL_DEST, .svc = S.dsvc[i].svc,
							  .dest = d[k] }, .book = UNDECLARE };
		}
		if (nd > 0)
			free(d);
	}
	int failed = 0;
	if (!err && n)
		err = ipvs_commit(vm, q, n, true, &failed);
	else if (!err)
		S.nlast = S.last_sent = 0;
	free(q);
	return err == -ENOMEM ? -8 : err;
}

/* ipvs-owner-file ( c-addr u -- ) where AFD keeps the keys of the services it owns */
static int w_owner_file(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n == 0 || n >= sizeof(S.owner_file) - 8 || memchr(s, 0, n))
		return -16;
	memcpy(S.owner_file, s, n);
	S.owner_file[n] = 0;
	S.owned_loaded = false;
	S.nowned = 0;
	return 0;
}

/* ipvs-flush ( -- ) every service and destination of the table, AFD's or not */
static int w_flush(afd_vm *vm, void *ctx)
{
	if (ctx)
		return 0;
	struct ipvs *h = NULL;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	struct ipvs_change c = { .op = IPVS_FLUSH };
	int failed = ipvs_apply(h, &c, 1);
	if (failed)
		return ipvs_fail(vm, THROW_KERNEL, "flush: %s", strerror(-(failed < 0 ? failed : c.err)));
	S.nowned = S.ndsvc = S.nddest = 0;
	S.owned_loaded = true;
	ipvs_owned_save();
	return 0;
}

/* ipvs-services ( -- ) the table as ipvsadm -Ln shows it */
static int w_services(afd_vm *vm, void *ctx)
{
	struct ipvs *h = NULL;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -8;
	int n = ipvs_print(h, f);
	fclose(f);
	err = n < 0 ? ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-n)) : out(vm, buf, len);
	free(buf);
	return err;
}

/* ipvs? ( -- flag ) does this kernel have IPVS (and may AFD use it)? */
static int w_available(afd_vm *vm, void *ctx)
{
	int err = 0;
	if (!S.h)
		S.h = ipvs_open(&err);
	return afd_push(vm, S.h ? -1 : 0);
}

/* ipvs-service-count ( -- n ) services in the kernel's table */
static int w_service_count(afd_vm *vm, void *ctx)
{
	struct ipvs *h = NULL;
	struct ipvs_svc *s;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	int n = ipvs_services(h, &s);
	if (n < 0)
		return ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-n));
	free(s);
	return afd_push(vm, n);
}

/* The kernel's record of a service spec (popped), or a push of the absent value. */
static int query_svc(afd_vm *vm, struct ipvs_svc *k, bool *found)
{
	afd_cell hd;
	POP(hd);
	struct spec *s = spec_of(hd, false);
	if (!s)
		return -12;
	int err = kernel_svc(vm, &s->svc, k);
	*found = err == 0;
	return err < 0 ? err : 0;
}

/* ipvs-service? ( svc -- flag ) is it in the kernel's table? */
static int w_service_p(afd_vm *vm, void *ctx)
{
	struct ipvs_svc k;
	bool found;
	int err = query_svc(vm, &k, &found);
	return err ? err : afd_push(vm, found ? -1 : 0);
}

/* ipvs-scheduler@ ( svc -- c-addr u ) the kernel's scheduler of it ("" if none) */
static int w_sched_fetch(afd_vm *vm, void *ctx)
{
	struct ipvs_svc k;
	bool found;
	int err = query_svc(vm, &k, &found);
	return err ? err : afd_push_string(vm, k.sched, found ? strlen(k.sched) : 0);
}

/* ipvs-svc-flags@ ( svc -- flags timeout ) the kernel's flags and persistence timeout */
static int w_flags_fetch(afd_vm *vm, void *ctx)
{
	struct ipvs_svc k;
	bool found;
	int err = query_svc(vm, &k, &found);
	if (err)
		return err;
	err = afd_push(vm, found ? (afd_cell)k.flags : -1);
	return err ? err : afd_push(vm, found ? (afd_cell)k.timeout : -1);
}

/* The kernel's destinations of a service spec. */
static int kernel_dests(afd_vm *vm, afd_cell hd, struct ipvs_svc *svc, struct ipvs_dest **d)
{
	struct spec *s = spec_of(hd, false);
	struct ipvs *h = NULL;
	if (!s)
		return -12;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	*svc = s->svc;
	int n = ipvs_dests(h, svc, d);
	if (n == -ESRCH || n == -ENOENT)
		n = 0, *d = NULL;
	return n < 0 ? ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-n)) : n;
}

/* ipvs-dest-count ( svc -- n ) its destinations in the kernel (0 if no such service) */
static int w_dest_count(afd_vm *vm, void *ctx)
{
	afd_cell hd;
	struct ipvs_svc svc;
	struct ipvs_dest *d;
	POP(hd);
	int n = kernel_dests(vm, hd, &svc, &d);
	if (n < 0)
		return n;
	free(d);
	return afd_push(vm, n);
}

/* The weight and method of destination key in the kernel's service hd, pushed; -1 -1 if absent */
static int push_dest(afd_vm *vm, afd_cell hd, const struct ipvs_dest *key)
{
	struct ipvs_svc svc;
	struct ipvs_dest *d;
	int n = kernel_dests(vm, hd, &svc, &d);
	if (n < 0)
		return n;
	afd_cell w = -1, m = -1;
	for (int i = 0; i < n; i++)
		if (ipvs_same_dest(&d[i], key))
			w = d[i].weight, m = d[i].fwd;
	free(d);
	int err = afd_push(vm, w);
	return err ? err : afd_push(vm, m);
}

/* ipvs-dest@ ( svc rip port -- weight method ) as the kernel has it; -1 -1 if absent */
static int w_dest_fetch(afd_vm *vm, void *ctx)
{
	afd_cell hd, ip, port;
	struct ipvs_dest key = { .af = AF_INET };
	POP(port);
	POP(ip);
	POP(hd);
	put_v4(key.addr, ip);
	key.port = (uint16_t)port;
	return push_dest(vm, hd, &key);
}

/* ipvs-dest6@ ( svc c-addr u port -- weight method ) an IPv6 destination, as ipvs-dest@ */
static int w_dest6_fetch(afd_vm *vm, void *ctx)
{
	afd_cell hd, port;
	struct ipvs_dest key = { .af = AF_INET6 };
	POP(port);
	int err = pop_v6(vm, key.addr);
	if (err)
		return err;
	POP(hd);
	key.port = (uint16_t)port;
	return push_dest(vm, hd, &key);
}

/* ipvs-set-timeouts ( tcp tcpfin udp -- ) connection timeouts in seconds; 0 keeps one */
static int w_set_timeouts(afd_vm *vm, void *ctx)
{
	afd_cell t[3];
	POP(t[2]);
	POP(t[1]);
	POP(t[0]);
	for (int i = 0; i < 3; i++)
		if (t[i] < 0 || t[i] > 0x7fffffff)
			return ipvs_fail(vm, -24, "timeout out of range");
	struct ipvs *h = NULL;
	int err = ctx ? 0 : ipvs_handle(vm, &h);
	if (err || ctx)
		return err;
	err = ipvs_set_timeouts(h, (uint32_t)t[0], (uint32_t)t[1], (uint32_t)t[2]);
	return err ? ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-err)) : 0;
}

/* ipvs-timeouts ( -- tcp tcpfin udp ) */
static int w_timeouts(afd_vm *vm, void *ctx)
{
	struct ipvs *h = NULL;
	uint32_t t[3];
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	if ((err = ipvs_timeouts(h, &t[0], &t[1], &t[2])))
		return ipvs_fail(vm, THROW_KERNEL, "%s", strerror(-err));
	for (int i = 0; i < 3 && !err; i++)
		err = afd_push(vm, t[i]);
	return err;
}

/* rr wrr lc wlc sh mh ... ( -- c-addr u ) scheduler names, for set-scheduler and add-svc */
static int w_sched_name(afd_vm *vm, void *ctx)
{
	return afd_push_string(vm, ctx, strlen(ctx));
}

/* add-svc ( vip port c-addr u -- ) the short form: : web-svc 80.80.80.80 80 rr add-svc ;
 * a TCP service, masquerading, with that scheduler */
static int w_add_svc(afd_vm *vm, void *ctx)
{
	const char *n;
	size_t len;
	char sched[IP_VS_SCHEDNAME_MAXLEN];
	int err = afd_pop_string(vm, &n, &len);
	if (err)
		return err;
	if (len == 0 || len >= sizeof(sched) || memchr(n, 0, len))
		return ipvs_fail(vm, -24, "scheduler name of 1..%d characters", IP_VS_SCHEDNAME_MAXLEN - 1);
	memcpy(sched, n, len);
	sched[len] = 0;
	if ((err = w_service_new(vm, ctx)))
		return err;
	strcpy(S.spec[S.nspec - 1].svc.sched, sched);
	return w_add_service(vm, ctx);
}

static const struct {
	const char *name, *effect;
	afd_prim_fn fn;
} words[] = {
	{ "ipvs-service-new", "( vip port -- svc )", w_service_new },
	{ "ipvs-service-new6", "( c-addr u port -- svc )", w_service_new6 },
	{ "ipvs-fwmark-service-new", "( mark -- svc )", w_fwmark_new },
	{ "ipvs-fwmark-service-new6", "( mark -- svc )", w_fwmark_new6 },
	{ "set-flags", "( svc-or-dest method -- svc-or-dest )", w_set_flags },
	{ "set-svc-flags", "( svc flags -- svc )", w_set_svc_flags },
	{ "clear-svc-flags", "( svc flags -- svc )", w_clear_svc_flags },
	{ "set-scheduler", "( svc c-addr u -- svc )", w_set_scheduler },
	{ "set-pe", "( svc c-addr u -- svc )", w_set_pe },
	{ "set-protocol", "( svc proto -- svc )", w_set_protocol },
	{ "set-persistence", "( svc seconds -- svc )", w_set_persistence },
	{ "set-netmask", "( svc mask -- svc )", w_set_netmask },
	{ "ipvs-add-service", "( svc -- )", w_add_service },
	{ "ipvs-edit-service", "( svc -- )", w_edit_service },
	{ "ipvs-del-service", "( svc -- )", w_del_service },
	{ "ipvs-use-service", "( svc -- )", w_use_service },
	{ "ipvs-dest-new", "( rip weight -- dest )", w_dest_new },
	{ "ipvs-dest-new6", "( c-addr u weight -- dest )", w_dest_new6 },
	{ "set-dest-flags", "( dest flags -- dest )", w_set_dest_flags },
	{ "set-dest-port", "( dest port -- dest )", w_set_dest_port },
	{ "set-thresholds", "( dest upper lower -- dest )", w_set_thresholds },
	{ "set-tunnel", "( dest type port -- dest )", w_set_tunnel },
	{ "ipvs-add-dest", "( dest -- )", w_add_dest },
	{ "ipvs-edit-dest", "( dest -- )", w_edit_dest },
	{ "ipvs-del-dest", "( dest -- )", w_del_dest },
	{ "ipvs-set-weight", "( svc rip port weight -- )", w_set_weight },
	{ "ipvs-set-weight6", "( svc c-addr u port weight -- )", w_set_weight6 },
	{ "ipvs-begin", "( -- )", w_begin },
	{ "ipvs-commit", "( -- )", w_commit },
	{ "ipvs-commit-each", "( -- nfailed )", w_commit_each },
	{ "ipvs-abort", "( -- )", w_abort },
	{ "ipvs-last-changes", "( -- n )", w_last_changes },
	{ "ipvs-change-error", "( i -- err )", w_change_error },
	{ "ipvs-changes-sent", "( -- n )", w_changes_sent },
	{ "ipvs-sends", "( -- n )", w_sends },
	{ "ipvs-reconcile", "( -- )", w_reconcile },
	{ "ipvs-owner-file", "( c-addr u -- )", w_owner_file },
	{ "ipvs-follow-health", "( svc c-addr u -- )", ipvs_w_follow_health },
	{ "ipvs-flush", "( -- )", w_flush },
	{ "ipvs-services", "( -- )", w_services },
	{ "ipvs?", "( -- flag )", w_available },
	{ "ipvs-service-count", "( -- n )", w_service_count },
	{ "ipvs-service?", "( svc -- flag )", w_service_p },
	{ "ipvs-scheduler@", "( svc -- c-addr u )", w_sched_fetch },
	{ "ipvs-svc-flags@", "( svc -- flags timeout )", w_flags_fetch },
	{ "ipvs-dest-count", "( svc -- n )", w_dest_count },
	{ "ipvs-dest@", "( svc rip port -- weight method )", w_dest_fetch },
	{ "ipvs-dest6@", "( svc c-addr u port -- weight method )", w_dest6_fetch },
	{ "ipvs-set-timeouts", "( tcp tcpfin udp -- )", w_set_timeouts },
	{ "ipvs-timeouts", "( -- tcp tcpfin udp )", w_timeouts },
	{ "add-svc", "( vip port c-addr u -- )", w_add_svc },
};

static const char *const schedulers[] = {
	"rr", "wrr", "lc", "wlc", "sh", "mh", "sed", "nq", "dh", "fo", "ovf", "lblc", "lblcr",
};

static const struct {
	const char *name;
	afd_cell value;
} constants[] = {
	{ "IP_VS_CONN_F_MASQ", IP_VS_CONN_F_MASQ },
	{ "IP_VS_CONN_F_LOCALNODE", IP_VS_CONN_F_LOCALNODE },
	{ "IP_VS_CONN_F_TUNNEL", IP_VS_CONN_F_TUNNEL },
	{ "IP_VS_CONN_F_DROUTE", IP_VS_CONN_F_DROUTE },
	{ "IP_VS_CONN_F_TUNNEL_TYPE_IPIP", IP_VS_CONN_F_TUNNEL_TYPE_IPIP },
	{ "IP_VS_CONN_F_TUNNEL_TYPE_GUE", IP_VS_CONN_F_TUNNEL_TYPE_GUE },
	{ "IP_VS_CONN_F_TUNNEL_TYPE_GRE", IP_VS_CONN_F_TUNNEL_TYPE_GRE },
	{ "IP_VS_SVC_F_PERSISTENT", IP_VS_SVC_F_PERSISTENT },
	{ "IP_VS_SVC_F_ONEPACKET", IP_VS_SVC_F_ONEPACKET },
	{ "IP_VS_SVC_F_SCHED1", IP_VS_SVC_F_SCHED1 },
	{ "IP_VS_SVC_F_SCHED2", IP_VS_SVC_F_SCHED2 },
	{ "IP_VS_SVC_F_SCHED3", IP_VS_SVC_F_SCHED3 },
	{ "IP_VS_SVC_F_SCHED_SH_FALLBACK", IP_VS_SVC_F_SCHED_SH_FALLBACK },
	{ "IP_VS_SVC_F_SCHED_SH_PORT", IP_VS_SVC_F_SCHED_SH_PORT },
	{ "IP_VS_DEST_F_AVAILABLE", IP_VS_DEST_F_AVAILABLE },
	{ "IP_VS_DEST_F_OVERLOAD", IP_VS_DEST_F_OVERLOAD },
	{ "IPPROTO_TCP", IPPROTO_TCP },
	{ "IPPROTO_UDP", IPPROTO_UDP },
	{ "IPPROTO_SCTP", IPPROTO_SCTP },
};

/* Every word locks the process's IPVS state: VMs of other threads share it. */
struct locked {
	afd_prim_fn fn;
	void *ctx;
};

static int w_constant(afd_vm *vm, void *ctx) { return afd_push(vm, (afd_cell)(intptr_t)ctx); }

#define LOCKED(i) \
	static int l##i(afd_vm *vm, void *ctx) \
	{ \
		pthread_mutex_lock(&S.lock); \
		int err = words[i].fn(vm, ctx); \
		pthread_mutex_unlock(&S.lock); \
		return err; \
	}
LOCKED(0) LOCKED(1) LOCKED(2) LOCKED(3) LOCKED(4) LOCKED(5) LOCKED(6) LOCKED(7) LOCKED(8)
LOCKED(9) LOCKED(10) LOCKED(11) LOCKED(12) LOCKED(13) LOCKED(14) LOCKED(15) LOCKED(16)
LOCKED(17) LOCKED(18) LOCKED(19) LOCKED(20) LOCKED(21) LOCKED(22) LOCKED(23) LOCKED(24)
LOCKED(25) LOCKED(26) LOCKED(27) LOCKED(28) LOCKED(29) LOCKED(30) LOCKED(31) LOCKED(32)
LOCKED(33) LOCKED(34) LOCKED(35) LOCKED(36) LOCKED(37) LOCKED(38) LOCKED(39) LOCKED(40)
LOCKED(41) LOCKED(42) LOCKED(43) LOCKED(44) LOCKED(45) LOCKED(46)
LOCKED(47) LOCKED(48) LOCKED(49) LOCKED(50)
static const afd_prim_fn locked[] = {
	l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14, l15, l16, l17, l18, l19,
	l20, l21, l22, l23, l24, l25, l26, l27, l28, l29, l30, l31, l32, l33, l34, l35, l36, l37,
	l38, l39, l40, l41, l42, l43, l44, l45, l46, l47, l48, l49, l50,
};
_Static_assert(sizeof(locked) / sizeof(*locked) == sizeof(words) / sizeof(*words),
	       "one locked entry per word");

int ipvs_register_words(afd_vm *vm, bool replay)
{
	void *ctx = replay ? (void *)1 : NULL;	/* non-NULL: a replay, send nothing */
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, locked[i], ctx) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < sizeof(schedulers) / sizeof(*schedulers); i++)
		if (afd_register(vm, schedulers[i], "( -- c-addr u )", w_sched_name,
				 (void *)schedulers[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < sizeof(constants) / sizeof(*constants); i++)
		if (afd_register(vm, constants[i].name, "( -- n )", w_constant,
				 (void *)(intptr_t)constants[i].value) < 0)
			return -ENOMEM;
	return 0;
}
