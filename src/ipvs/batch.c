/* batch.c: changes to the kernel in batches, all or nothing, and AFD's books: which
 * services it owns (a file, across restarts) and which the configuration declared.
 *
 * A commit reads the state of every service a batch touches, sends the batch (ipvs_apply:
 * one sendmsg, each change's errno), and if the kernel refused a change and the batch is
 * atomic, undoes the changes that took effect, newest first, from that state. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "priv.h"

int ipvs_grow(void **arr, int *cap, int n, size_t size)
{
	if (n < *cap)
		return 0;
	int ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int ipvs_fail(afd_vm *vm, int code, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	afd_error_detail(vm, buf);
	return code;
}

int ipvs_handle(afd_vm *vm, struct ipvs **h)
{
	int err = 0;
	if (!S.h && !(S.h = ipvs_open(&err)))
		return ipvs_fail(vm, -21, "%s", err == -ENOENT ? "this kernel has no IPVS (modprobe ip_vs)"
			    : strerror(-err));
	*h = S.h;
	return 0;
}

/* ---- ownership: the keys of the services AFD made, kept in a file across restarts ---- */

int ipvs_owned_find(const struct ipvs_svc *s)
{
	for (int i = 0; i < S.nowned; i++)
		if (ipvs_same_svc(&S.owned[i], s))
			return i;
	return -1;
}

void ipvs_owned_load(void)
{
	if (S.owned_loaded)
		return;
	S.owned_loaded = true;
	FILE *f = fopen(S.owner_file, "r");
	if (!f)
		return;
	struct ipvs_svc s;
	char hex[33];
	unsigned af, proto, port, mark;
	while (fscanf(f, "%u %u %32s %u %u", &af, &proto, hex, &port, &mark) == 5) {
		memset(&s, 0, sizeof(s));
		s.af = (uint16_t)af, s.protocol = (uint16_t)proto, s.port = (uint16_t)port;
		s.fwmark = mark;
		for (int i = 0; i < 16 && hex[2 * i]; i++)
			sscanf(hex + 2 * i, "%2hhx", &s.addr[i]);
		if (ipvs_owned_find(&s) < 0 && !ipvs_grow((void **)&S.owned, &S.capowned, S.nowned, sizeof(s)))
			S.owned[S.nowned++] = s;
	}
	fclose(f);
}

/* The file is rewritten whole (a rename: never half-written). Without a writable place
 * AFD still owns what it made in this run. */
void ipvs_owned_save(void)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", S.owner_file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	for (int i = 0; i < S.nowned; i++) {
		const struct ipvs_svc *s = &S.owned[i];
		fprintf(f, "%u %u ", s->af, s->protocol);
		for (int k = 0; k < 16; k++)
			fprintf(f, "%02x", s->addr[k]);
		fprintf(f, " %u %u\n", s->port, s->fwmark);
	}
	if (fclose(f) == 0 && rename(tmp, S.owner_file) == 0)
		S.owned_dirty = false;
}

static void own(const struct ipvs_svc *s, bool yes)
{
	int i = ipvs_owned_find(s);
	if (yes && i < 0 && !ipvs_grow((void **)&S.owned, &S.capowned, S.nowned, sizeof(*s)))
		S.owned[S.nowned++] = *s, S.owned_dirty = true;
	if (!yes && i >= 0)
		S.owned[i] = S.owned[--S.nowned], S.owned_dirty = true;
}

/* ---- declarations: what the configuration asked for in this process ---- */

int ipvs_decl_find(struct decl *d, int n, const struct ipvs_svc *s, const struct ipvs_dest *dd)
{
	for (int i = 0; i < n; i++)
		if (ipvs_same_svc(&d[i].svc, s) && (!dd || ipvs_same_dest(&d[i].d, dd)))
			return i;
	return -1;
}

void ipvs_book(const struct qchange *q)
{
	const struct ipvs_change *c = &q->c;
	bool dest = c->op >= IPVS_ADD_DEST;
	struct decl **arr = dest ? &S.ddest : &S.dsvc;
	int *n = dest ? &S.nddest : &S.ndsvc, *cap = dest ? &S.capddest : &S.capdsvc;
	int i = ipvs_decl_find(*arr, *n, &c->svc, dest ? &c->dest : NULL);
	if (c->op == IPVS_ADD_SVC)
		own(&c->svc, true);
	if (c->op == IPVS_DEL_SVC) {
		own(&c->svc, false);
		for (int k = 0; k < S.nddest;)	/* its destinations went with it */
			if (ipvs_same_svc(&S.ddest[k].svc, &c->svc))
				S.ddest[k] = S.ddest[--S.nddest];
			else
				k++;
	}
	if (q->book == DECLARE && i < 0 && !ipvs_grow((void **)arr, cap, *n, sizeof(**arr)))
		(*arr)[(*n)++] = (struct decl){ c->svc, c->dest };
	else if (q->book == DECLARE)
		(*arr)[i] = (struct decl){ c->svc, c->dest };
	if (q->book == UNDECLARE && i >= 0)
		(*arr)[i] = (*arr)[--*n];
}

/* ---- commit: pre-state, send, undo on failure ---- */

/* The kernel's table before a batch: each touched service and its destinations. */
struct pre {
	struct ipvs_svc svc;
	int found;		/* 0: no such service */
	struct ipvs_dest *d;
	int nd;
};

static void pre_free(struct pre *p, int n)
{
	for (int i = 0; i < n; i++)
		free(p[i].d);
	free(p);
}

static struct pre *pre_of(struct pre *p, int n, const struct ipvs_svc *s)
{
	for (int i = 0; i < n; i++)
		if (ipvs_same_svc(&p[i].svc, s))
			return &p[i];
	return NULL;
}

/* Destinations are sorted once read: a batch of 1,000 looks each up in log time. */
static const struct ipvs_dest *pre_dest(const struct pre *p, const struct ipvs_dest *d)
{
	return p && p->nd ? bsearch(d, p->d, (size_t)p->nd, sizeof(*d), ipvs_cmp_dest) : NULL;
}

static int pre_read(struct ipvs *h, const struct qchange *q, int n, struct pre **out, int *np)
{
	struct pre *p = NULL;
	int cap = 0, k = 0, err = 0;
	for (int i = 0; i < n && !err; i++) {
		if (q[i].c.op == IPVS_FLUSH || pre_of(p, k, &q[i].c.svc))
			continue;
		if ((err = ipvs_grow((void **)&p, &cap, k, sizeof(*p))))
			break;
		struct pre *e = &p[k++];
		memset(e, 0, sizeof(*e));
		e->svc = q[i].c.svc;
		err = ipvs_get_service(h, &e->svc);
		if (err == -ESRCH) {
			e->svc = q[i].c.svc;
			err = 0;
			continue;
		}
		e->found = 1;
		if (!err && (e->nd = ipvs_dests(h, &e->svc, &e->d)) < 0)
			err = e->nd, e->nd = 0;
		if (e->nd > 0)
			qsort(e->d, (size_t)e->nd, sizeof(*e->d), ipvs_cmp_dest);
	}
	*out = p;
	*np = k;
	return err;
}

/* What undoes change c, given the state before it: up to 1 + its destinations changes. */
static int inverse(const struct ipvs_change *c, const struct pre *p, struct ipvs_change *u, int cap)
{
	const struct ipvs_dest *old = p ? pre_dest(p, &c->dest) : NULL;
	int n = 0;
	switch (c->op) {
	case IPVS_ADD_SVC: u[n++] = (struct ipvs_change){ .op = IPVS_DEL_SVC, .svc = c->svc }; break;
	case IPVS_ADD_DEST: u[n++] = (struct ipvs_change){ .op = IPVS_DEL_DEST, .svc = c->svc,
							    .dest = c->dest }; break;
	case IPVS_EDIT_SVC:
		if (p && p->found)
			u[n++] = (struct ipvs_change){ .op = IPVS_EDIT_SVC, .svc = p->svc };
		break;
	case IPVS_EDIT_DEST: case IPVS_DEL_DEST:
		if (old)
			u[n++] = (struct ipvs_change){ .op = c->op == IPVS_EDIT_DEST ? IPVS_EDIT_DEST :
						       IPVS_ADD_DEST, .svc = c->svc, .dest = *old };
		break;
	case IPVS_DEL_SVC:
		if (!p || !p->found)
			break;
		u[n++] = (struct ipvs_change){ .op = IPVS_ADD_SVC, .svc = p->svc };
		for (int i = 0; i < p->nd && n < cap; i++)
			u[n++] = (struct ipvs_change){ .op = IPVS_ADD_DEST, .svc = p->svc, .dest = p->d[i] };
		break;
	}
	return n;
}

/* Undo, newest first, the changes of the batch that took effect; how many undos failed. */
static int undo(struct ipvs *h, const struct ipvs_change *done, int n, struct pre *p, int np)
{
	int cap = 0, k = 0, bad = 0;
	struct ipvs_change *u = NULL;
	for (int i = n - 1; i >= 0; i--) {
		if (done[i].err)
			continue;
		const struct pre *e = pre_of(p, np, &done[i].svc);
		int need = 1 + (e ? e->nd : 0);
		while (k + need > cap)
			if (ipvs_grow((void **)&u, &cap, cap, sizeof(*u)))
				return -ENOMEM;
		k += inverse(&done[i], e, u + k, need);
	}
	if (k)
		bad = ipvs_apply(h, u, k);
	free(u);
	return bad;
}

static const char *op_name(int op)
{
	static const char *names[] = { "?", "add service", "edit service", "delete service",
		"add destination", "edit destination", "delete destination", "flush" };
	return names[op <= IPVS_FLUSH ? op : 0];
}

static int report(afd_vm *vm, const struct ipvs_change *c, int i, int n, int failed, int undone)
{
	char svc[96], d[64] = "";
	ipvs_svc_str(&c->svc, svc, sizeof(svc));
	if (c->op >= IPVS_ADD_DEST && c->op <= IPVS_DEL_DEST) {
		ipvs_addr_str(c->dest.af, c->dest.addr, c->dest.port, d, sizeof(d) - 4);
		strcat(d, " of");
	}
	return ipvs_fail(vm, THROW_KERNEL, "change %d of %d (%s %s%s%s): %s%s%s", i + 1, n,
		    op_name(c->op), d, *d ? " " : "", svc, ipvs_strerror(c->op, c->err),
		    failed > 1 ? " (and others)" : "",
		    undone < 0 ? "; undoing failed, table left partly changed" : "; nothing applied");
}

int ipvs_commit(afd_vm *vm, struct qchange *q, int n, bool atomic, int *nfailed)
{
	struct ipvs *h = NULL;
	int err = ipvs_handle(vm, &h);
	if (err)
		return err;
	struct pre *p;
	int np;
	if ((err = pre_read(h, q, n, &p, &np)))
		return ipvs_fail(vm, THROW_KERNEL, "reading the table: %s", strerror(-err));
	struct ipvs_change *c = malloc((size_t)(n > 0 ? n : 1) * sizeof(*c));
	if (!c) {
		pre_free(p, np);
		return -8;
	}
	for (int i = 0; i < n; i++) {
		c[i] = q[i].c;
		const struct ipvs_dest *old = q[i].weight_only ?
			pre_dest(pre_of(p, np, &c[i].svc), &c[i].dest) : NULL;
		if (old) {	/* the weight changes, the rest stays as the kernel has it */
			uint32_t w = c[i].dest.weight;
			c[i].dest = *old;
			c[i].dest.weight = w;
		}
	}
	int failed = ipvs_apply(h, c, n);
	S.sent += failed < 0 ? 0 : n;
	int undone = 0;
	if (failed && atomic)
		undone = undo(h, c, n, p, np) ? -1 : 1;
	for (int i = 0; i < n; i++)
		if (!c[i].err && !(failed && atomic))
			ipvs_book(&q[i]);
	if (S.owned_dirty)
		ipvs_owned_save();
	free(S.last);
	S.last = c;
	S.nlast = n;
	S.last_sent = failed < 0 ? 0 : n;
	pre_free(p, np);
	*nfailed = failed;
	if (failed < 0)
		return ipvs_fail(vm, THROW_KERNEL, "netlink: %s", strerror(-failed));
	if (!failed || !atomic)
		return 0;
	for (int i = 0; i < n; i++)
		if (c[i].err)
			return report(vm, &c[i], i, n, failed, undone);
	return 0;
}

int ipvs_submit(afd_vm *vm, const struct qchange *q, int n)
{
	if (S.batching) {
		for (int i = 0; i < n; i++) {
			if (ipvs_grow((void **)&S.q, &S.capq, S.nq, sizeof(*S.q)))
				return -8;
			S.q[S.nq++] = q[i];
		}
		return 0;
	}
	int failed;
	return ipvs_commit(vm, (struct qchange *)q, n, true, &failed);
}

struct ipvs_state ipvs_st = { .lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,	/* a word may run one (type) */
	.current = -1, .owner_file = "/run/afd-ipvs.owned" };

