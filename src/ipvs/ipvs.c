/* ipvs.c: the IPVS generic netlink client (see ipvs.h).
 *
 * One socket per handle. A batch is many requests packed into one buffer and sent with one
 * sendmsg. The kernel runs them in order, each on its own: a failed request does not stop
 * the ones after it. A failure is always answered (an NLMSG_ERROR with the errno); only the
 * last request asks for an ack of success (NLM_F_ACK), so its answer closes the batch and a
 * request with no answer before it succeeded. Success acks would cost the kernel an skb
 * each. How many requests go in one send is bounded by the receive buffer, so that every
 * one could fail and all the answers still fit: an answer that finds it full is dropped. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "ipvs.h"

#define BUF_SIZE (512 * 1024)
#define ACK_COST 1024		/* receive-buffer bytes one ack takes, skb overhead included */

struct ipvs {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t seq, portid;
	int max_batch;		/* requests per sendmsg that the receive buffer can ack */
	uint64_t sends;
	char *buf;
};

/* A request header: the IPVS family (or the controller), a command, version 1. */
static struct nlmsghdr *put_req(char *buf, uint16_t type, uint8_t cmd, uint16_t flags,
				uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = cmd == CTRL_CMD_GETFAMILY && type == GENL_ID_CTRL ? 1 : IPVS_GENL_VERSION;
	return nlh;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = ((const struct nlattr ***)data)[0];
	int max = (int)(intptr_t)((void **)data)[1];
	int t = mnl_attr_get_type(a);
	if (t <= max)
		tb[t] = a;
	return MNL_CB_OK;
}

/* Attributes of a nest (or of a message after its genl header) by type, into tb[0..max]. */
static void parse_nest(const struct nlattr *nest, const struct nlattr **tb, int max)
{
	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	void *data[2] = { tb, (void *)(intptr_t)max };
	mnl_attr_parse_nested(nest, attr_cb, data);
}

static void parse_msg(const struct nlmsghdr *nlh, const struct nlattr **tb, int max)
{
	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	void *data[2] = { tb, (void *)(intptr_t)max };
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, data);
}

/* One request, its replies through cb (dumps: until NLMSG_DONE), then its ack. */
static int exchange(struct ipvs *h, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	h->sends++;
	uint32_t seq = nlh->nlmsg_seq;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(h->nl, h->buf, BUF_SIZE);
		if (n < 0)
			return -errno;
		int r = mnl_cb_run(h->buf, (size_t)n, seq, h->portid, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	parse_msg(nlh, tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_FAMILY_ID])
		*(uint16_t *)data = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return MNL_CB_OK;
}

/* Bigger socket buffers than the defaults, by force when privileged. */
static void grow_buffers(struct ipvs *h)
{
	int fd = mnl_socket_get_fd(h->nl), rcv = 8 << 20, snd = 2 << 20, one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	/* failed requests come back acked without their whole text */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	socklen_t len = sizeof(rcv);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len) < 0)
		rcv = 212992;
	h->max_batch = rcv / ACK_COST > 16 ? rcv / ACK_COST : 16;
}

struct ipvs *ipvs_open(int *err)
{
	struct ipvs *h = calloc(1, sizeof(*h));
	int e = -ENOMEM;
	if (!h || !(h->buf = malloc(BUF_SIZE)))
		goto fail;
	if (!(h->nl = mnl_socket_open(NETLINK_GENERIC)) ||
	    mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		goto fail;
	}
	h->portid = mnl_socket_get_portid(h->nl);
	h->seq = (uint32_t)time(NULL);
	grow_buffers(h);
	struct nlmsghdr *nlh = put_req(h->buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK,
				       ++h->seq);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
	e = exchange(h, nlh, family_cb, &h->family);
	if (!e && !h->family)
		e = -ENOENT;
	if (e)
		goto fail;
	return h;
fail:
	if (err)
		*err = e;
	ipvs_close(h);
	return NULL;
}

void ipvs_close(struct ipvs *h)
{
	if (!h)
		return;
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h->buf);
	free(h);
}

uint64_t ipvs_sends(const struct ipvs *h) { return h->sends; }

void ipvs_set_batch_limit(struct ipvs *h, int n)
{
	if (n > 0 && n < h->max_batch)
		h->max_batch = n;
}

static size_t addr_len(uint16_t af) { return af == AF_INET6 ? 16 : 4; }

/* The service nest: its key, and with full the settings NEW and SET require. */
static void put_svc(struct nlmsghdr *nlh, const struct ipvs_svc *s, bool full)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_SERVICE);
	mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_AF, s->af);
	if (s->fwmark) {
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_FWMARK, s->fwmark);
	} else {
		mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PROTOCOL, s->protocol);
		mnl_attr_put(nlh, IPVS_SVC_ATTR_ADDR, 16, s->addr);
		mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PORT, htons(s->port));
	}
	if (full) {
		struct ip_vs_flags f = { .flags = s->flags, .mask = ~0u };
		mnl_attr_put_strz(nlh, IPVS_SVC_ATTR_SCHED_NAME, s->sched);
		if (s->pe[0])
			mnl_attr_put_strz(nlh, IPVS_SVC_ATTR_PE_NAME, s->pe);
		mnl_attr_put(nlh, IPVS_SVC_ATTR_FLAGS, sizeof(f), &f);
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_TIMEOUT, s->timeout);
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_NETMASK, s->netmask);
	}
	mnl_attr_nest_end(nlh, nest);
}

static void put_dest(struct nlmsghdr *nlh, const struct ipvs_dest *d, bool full)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_DEST);
	mnl_attr_put(nlh, IPVS_DEST_ATTR_ADDR, 16, d->addr);
	mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_PORT, htons(d->port));
	mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_ADDR_FAMILY, d->af);
	if (full) {
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_FWD_METHOD, d->fwd & IP_VS_CONN_F_FWD_MASK);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_WEIGHT, d->weight);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_U_THRESH, d->u_thresh);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_L_THRESH, d->l_thresh);
		if ((d->fwd & IP_VS_CONN_F_FWD_MASK) == IP_VS_CONN_F_TUNNEL) {
			mnl_attr_put_u8(nlh, IPVS_DEST_ATTR_TUN_TYPE, d->tun_type);
			mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_TUN_PORT, htons(d->tun_port));
			mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_TUN_FLAGS, d->tun_flags);
		}
	}
	mnl_attr_nest_end(nlh, nest);
}

static const uint8_t op_cmd[] = {
	[IPVS_ADD_SVC] = IPVS_CMD_NEW_SERVICE, [IPVS_EDIT_SVC] = IPVS_CMD_SET_SERVICE,
	[IPVS_DEL_SVC] = IPVS_CMD_DEL_SERVICE, [IPVS_ADD_DEST] = IPVS_CMD_NEW_DEST,
	[IPVS_EDIT_DEST] = IPVS_CMD_SET_DEST, [IPVS_DEL_DEST] = IPVS_CMD_DEL_DEST,
	[IPVS_FLUSH] = IPVS_CMD_FLUSH,
};

/* One change as one request at buf. */
static struct nlmsghdr *put_change(struct ipvs *h, char *buf, const struct ipvs_change *c,
				   uint32_t seq)
{
	struct nlmsghdr *nlh = put_req(buf, h->family, op_cmd[c->op], 0, seq);
	switch (c->op) {
	case IPVS_ADD_SVC: case IPVS_EDIT_SVC:
		put_svc(nlh, &c->svc, true);
		break;
	case IPVS_DEL_SVC:
		put_svc(nlh, &c->svc, false);
		break;
	case IPVS_ADD_DEST: case IPVS_EDIT_DEST: case IPVS_DEL_DEST:
		put_svc(nlh, &c->svc, false);
		put_dest(nlh, &c->dest, c->op != IPVS_DEL_DEST);
		break;
	}
	return nlh;
}

/* The answers to n requests numbered from seq, the last one acked: each change's verdict. */
static int read_acks(struct ipvs *h, struct ipvs_change *ch, int n, uint32_t seq)
{
	for (int i = 0; i < n; i++)
		ch[i].err = 1;	/* no answer yet */
	while (ch[n - 1].err == 1) {
		ssize_t r = mnl_socket_recvfrom(h->nl, h->buf, BUF_SIZE);
		if (r < 0) {
			for (int i = 0; i < n; i++)	/* ENOBUFS: answers were dropped */
				ch[i].err = -EIO;
			return -errno;
		}
		int len = (int)r;
		for (struct nlmsghdr *m = (void *)h->buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			uint32_t i = m->nlmsg_seq - seq;
			if (m->nlmsg_type != NLMSG_ERROR || i >= (uint32_t)n)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			ch[i].err = e->error;
		}
	}
	for (int i = 0; i < n; i++)
		if (ch[i].err == 1)
			ch[i].err = 0;	/* the kernel ran it, and answered nothing: success */
	return 0;
}

int ipvs_apply(struct ipvs *h, struct ipvs_change *ch, int n)
{
	int failed = 0;
	for (int i = 0; i < n; i++)
		ch[i].err = -EIO;
	for (int i = 0; i < n;) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(h->buf, BUF_SIZE - 4096);
		uint32_t seq = h->seq + 1;
		struct nlmsghdr *last = NULL;
		int k = 0;
		while (i + k < n && k < h->max_batch) {
			struct nlmsghdr *m = put_change(h, mnl_nlmsg_batch_current(b), &ch[i + k],
							seq + (uint32_t)k);
			if (!mnl_nlmsg_batch_next(b))
				break;	/* full: this one goes first in the next send */
			last = m;
			k++;
		}
		if (!last)
			return -EMSGSIZE;
		last->nlmsg_flags |= NLM_F_ACK;
		h->seq += (uint32_t)k;
		ssize_t r = mnl_socket_sendto(h->nl, mnl_nlmsg_batch_head(b),
					      mnl_nlmsg_batch_size(b));
		mnl_nlmsg_batch_stop(b);
		if (r < 0)
			return -errno;
		h->sends++;
		int err = read_acks(h, ch + i, k, seq);
		if (err)
			return err;
		i += k;
	}
	for (int i = 0; i < n; i++)
		failed += ch[i].err != 0;
	return failed;
}

static void get_addr(const struct nlattr *a, uint8_t *addr)
{
	memset(addr, 0, 16);
	size_t len = mnl_attr_get_payload_len(a);
	memcpy(addr, mnl_attr_get_payload(a), len < 16 ? len : 16);
}

static uint32_t u32_or(const struct nlattr *a, uint32_t d) { return a ? mnl_attr_get_u32(a) : d; }

static void get_svc(const struct nlattr *nest, struct ipvs_svc *s)
{
	const struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];
	parse_nest(nest, tb, IPVS_SVC_ATTR_MAX);
	memset(s, 0, sizeof(*s));
	s->af = tb[IPVS_SVC_ATTR_AF] ? mnl_attr_get_u16(tb[IPVS_SVC_ATTR_AF]) : AF_INET;
	if (tb[IPVS_SVC_ATTR_PROTOCOL])
		s->protocol = mnl_attr_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
	if (tb[IPVS_SVC_ATTR_ADDR])
		get_addr(tb[IPVS_SVC_ATTR_ADDR], s->addr);
	if (tb[IPVS_SVC_ATTR_PORT])
		s->port = ntohs(mnl_attr_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	s->fwmark = u32_or(tb[IPVS_SVC_ATTR_FWMARK], 0);
	if (s->fwmark)	/* the kernel reports a fwmark service with protocol and address 0 */
		s->protocol = 0, memset(s->addr, 0, 16), s->port = 0;
	if (tb[IPVS_SVC_ATTR_SCHED_NAME])
		snprintf(s->sched, sizeof(s->sched), "%s", mnl_attr_get_str(tb[IPVS_SVC_ATTR_SCHED_NAME]));
	if (tb[IPVS_SVC_ATTR_PE_NAME])
		snprintf(s->pe, sizeof(s->pe), "%s", mnl_attr_get_str(tb[IPVS_SVC_ATTR_PE_NAME]));
	if (tb[IPVS_SVC_ATTR_FLAGS]) {
		struct ip_vs_flags f;
		memcpy(&f, mnl_attr_get_payload(tb[IPVS_SVC_ATTR_FLAGS]), sizeof(f));
		s->flags = f.flags & ~IP_VS_SVC_F_HASHED;	/* the kernel's own bookkeeping */
	}
	s->timeout = u32_or(tb[IPVS_SVC_ATTR_TIMEOUT], 0);
	s->netmask = u32_or(tb[IPVS_SVC_ATTR_NETMASK], 0);
}

static void get_dest(const struct nlattr *nest, uint16_t af, struct ipvs_dest *d)
{
	const struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];
	parse_nest(nest, tb, IPVS_DEST_ATTR_MAX);
	memset(d, 0, sizeof(*d));
	d->af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] ? mnl_attr_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]) : af;
	if (tb[IPVS_DEST_ATTR_ADDR])
		get_addr(tb[IPVS_DEST_ATTR_ADDR], d->addr);
	if (tb[IPVS_DEST_ATTR_PORT])
		d->port = ntohs(mnl_attr_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	d->fwd = u32_or(tb[IPVS_DEST_ATTR_FWD_METHOD], 0) & IP_VS_CONN_F_FWD_MASK;
	d->weight = u32_or(tb[IPVS_DEST_ATTR_WEIGHT], 0);
	d->u_thresh = u32_or(tb[IPVS_DEST_ATTR_U_THRESH], 0);
	d->l_thresh = u32_or(tb[IPVS_DEST_ATTR_L_THRESH], 0);
	d->active = u32_or(tb[IPVS_DEST_ATTR_ACTIVE_CONNS], 0);
	d->inactive = u32_or(tb[IPVS_DEST_ATTR_INACT_CONNS], 0);
	d->persist = u32_or(tb[IPVS_DEST_ATTR_PERSIST_CONNS], 0);
	if (tb[IPVS_DEST_ATTR_TUN_TYPE])
		d->tun_type = mnl_attr_get_u8(tb[IPVS_DEST_ATTR_TUN_TYPE]);
	if (tb[IPVS_DEST_ATTR_TUN_PORT])
		d->tun_port = ntohs(mnl_attr_get_u16(tb[IPVS_DEST_ATTR_TUN_PORT]));
	if (tb[IPVS_DEST_ATTR_TUN_FLAGS])
		d->tun_flags = mnl_attr_get_u16(tb[IPVS_DEST_ATTR_TUN_FLAGS]);
}

/* A growing array that dump callbacks fill. */
struct list {
	void *items;
	int n, cap, err;
	size_t size;
	uint16_t af;
};

static void *list_next(struct list *l)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->items, (size_t)cap * l->size);
		if (!p) {
			l->err = -ENOMEM;
			return NULL;
		}
		l->items = p;
		l->cap = cap;
	}
	return (char *)l->items + (size_t)l->n++ * l->size;
}

static int svc_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	parse_msg(nlh, tb, IPVS_CMD_ATTR_MAX);
	struct ipvs_svc *s;
	if (tb[IPVS_CMD_ATTR_SERVICE] && (s = list_next(data)))
		get_svc(tb[IPVS_CMD_ATTR_SERVICE], s);
	return MNL_CB_OK;
}

static int dest_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	parse_msg(nlh, tb, IPVS_CMD_ATTR_MAX);
	struct list *l = data;
	struct ipvs_dest *d;
	if (tb[IPVS_CMD_ATTR_DEST] && (d = list_next(l)))
		get_dest(tb[IPVS_CMD_ATTR_DEST], l->af, d);
	return MNL_CB_OK;
}

static int dump(struct ipvs *h, struct nlmsghdr *nlh, mnl_cb_t cb, struct list *l, void **out)
{
	int err = exchange(h, nlh, cb, l);
	err = err ? err : l->err;
	if (err) {
		free(l->items);
		*out = NULL;
		return err;
	}
	*out = l->items;
	return l->n;
}

int ipvs_services(struct ipvs *h, struct ipvs_svc **out)
{
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_GET_SERVICE,
				       NLM_F_DUMP | NLM_F_ACK, ++h->seq);
	struct list l = { .size = sizeof(struct ipvs_svc) };
	return dump(h, nlh, svc_cb, &l, (void **)out);
}

int ipvs_dests(struct ipvs *h, const struct ipvs_svc *svc, struct ipvs_dest **out)
{
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_GET_DEST,
				       NLM_F_DUMP | NLM_F_ACK, ++h->seq);
	put_svc(nlh, svc, false);
	struct list l = { .size = sizeof(struct ipvs_dest), .af = svc->af };
	return dump(h, nlh, dest_cb, &l, (void **)out);
}

int ipvs_get_service(struct ipvs *h, struct ipvs_svc *svc)
{
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_GET_SERVICE, NLM_F_ACK,
				       ++h->seq);
	put_svc(nlh, svc, false);
	struct list l = { .size = sizeof(struct ipvs_svc) };
	struct ipvs_svc *got;
	int n = dump(h, nlh, svc_cb, &l, (void **)&got);
	if (n == -ENOENT)	/* the kernel's answer for no such service */
		n = -ESRCH;
	if (n > 0)
		*svc = got[0];
	free(got);
	return n < 0 ? n : n ? 0 : -ESRCH;
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IPVS_INFO_ATTR_MAX + 1];
	parse_msg(nlh, tb, IPVS_INFO_ATTR_MAX);
	uint32_t *v = data;
	v[0] = u32_or(tb[IPVS_INFO_ATTR_VERSION], 0);
	v[1] = u32_or(tb[IPVS_INFO_ATTR_CONN_TAB_SIZE], 0);
	return MNL_CB_OK;
}

int ipvs_version(struct ipvs *h, uint32_t *version, uint32_t *conn_tab_size)
{
	uint32_t v[2] = { 0, 0 };
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_GET_INFO, NLM_F_ACK, ++h->seq);
	int err = exchange(h, nlh, info_cb, v);
	*version = v[0];
	*conn_tab_size = v[1];
	return err;
}

int ipvs_set_timeouts(struct ipvs *h, uint32_t tcp, uint32_t tcpfin, uint32_t udp)
{
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_SET_CONFIG, NLM_F_ACK, ++h->seq);
	if (tcp)
		mnl_attr_put_u32(nlh, IPVS_CMD_ATTR_TIMEOUT_TCP, tcp);
	if (tcpfin)
		mnl_attr_put_u32(nlh, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, tcpfin);
	if (udp)
		mnl_attr_put_u32(nlh, IPVS_CMD_ATTR_TIMEOUT_UDP, udp);
	return exchange(h, nlh, NULL, NULL);
}

static int config_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	parse_msg(nlh, tb, IPVS_CMD_ATTR_MAX);
	uint32_t *t = data;
	t[0] = u32_or(tb[IPVS_CMD_ATTR_TIMEOUT_TCP], 0);
	t[1] = u32_or(tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN], 0);
	t[2] = u32_or(tb[IPVS_CMD_ATTR_TIMEOUT_UDP], 0);
	return MNL_CB_OK;
}

int ipvs_timeouts(struct ipvs *h, uint32_t *tcp, uint32_t *tcpfin, uint32_t *udp)
{
	uint32_t t[3] = { 0, 0, 0 };
	struct nlmsghdr *nlh = put_req(h->buf, h->family, IPVS_CMD_GET_CONFIG, NLM_F_ACK, ++h->seq);
	int err = exchange(h, nlh, config_cb, t);
	*tcp = t[0], *tcpfin = t[1], *udp = t[2];
	return err;
}

bool ipvs_same_svc(const struct ipvs_svc *a, const struct ipvs_svc *b)
{
	if (a->af != b->af || a->fwmark != b->fwmark)
		return false;
	return a->fwmark || (a->protocol == b->protocol && a->port == b->port &&
			     !memcmp(a->addr, b->addr, addr_len(a->af)));
}

bool ipvs_same_dest(const struct ipvs_dest *a, const struct ipvs_dest *b)
{
	return a->af == b->af && a->port == b->port && !memcmp(a->addr, b->addr, addr_len(a->af));
}

const char *ipvs_addr_str(uint16_t af, const uint8_t *addr, uint16_t port, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(af, addr, a, sizeof(a));
	snprintf(buf, cap, af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

const char *ipvs_svc_str(const struct ipvs_svc *s, char *buf, size_t cap)
{
	char a[64];
	const char *p = s->protocol == IPPROTO_TCP ? "TCP" : s->protocol == IPPROTO_UDP ? "UDP" :
			s->protocol == IPPROTO_SCTP ? "SCTP" : "?";
	if (s->fwmark)
		snprintf(buf, cap, "FWM  %u%s", s->fwmark, s->af == AF_INET6 ? " IPv6" : "");
	else
		snprintf(buf, cap, "%-4s %s", p, ipvs_addr_str(s->af, s->addr, s->port, a, sizeof(a)));
	return buf;
}

const char *ipvs_strerror(int op, int err)
{
	bool svc = op == IPVS_ADD_SVC || op == IPVS_EDIT_SVC || op == IPVS_DEL_SVC;
	switch (-err) {
	case 0: return "ok";
	case EEXIST: return svc ? "service already exists" : "destination already exists";
	case ESRCH: return "no such service";
	case ENOENT: return svc ? "scheduler or persistence engine not found" : "no such destination";
	case EINVAL: return svc ? "invalid service settings" :
		"invalid destination (address not unicast, or family or method not allowed)";
	case ERANGE: return "upper threshold below lower threshold";
	case EPROTONOSUPPORT: return "protocol not supported (TCP, UDP, SCTP)";
	case EAFNOSUPPORT: return "address family not supported";
	case EPERM: return "permission denied (needs CAP_NET_ADMIN)";
	case EIO: return "no answer from the kernel for this change";
	default: return strerror(-err);
	}
}

static const char *fwd_name(uint32_t fwd)
{
	switch (fwd & IP_VS_CONN_F_FWD_MASK) {
	case IP_VS_CONN_F_MASQ: return "Masq";
	case IP_VS_CONN_F_LOCALNODE: return "Local";
	case IP_VS_CONN_F_TUNNEL: return "Tunnel";
	case IP_VS_CONN_F_DROUTE: return "Route";
	default: return "?";
	}
}

static int cmp_addr(uint16_t af, const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, addr_len(af));
}

/* ipvsadm's order: firewall marks last, IPv4 before IPv6, then protocol, address, port */
static int cmp_svc(const void *x, const void *y)
{
	const struct ipvs_svc *a = x, *b = y;
	if (a->fwmark != b->fwmark)
		return a->fwmark < b->fwmark ? -1 : 1;
	if (a->af != b->af)
		return a->af - b->af;
	if (a->protocol != b->protocol)
		return a->protocol - b->protocol;
	int r = cmp_addr(a->af, a->addr, b->addr);
	return r ? r : a->port - b->port;
}

int ipvs_cmp_dest(const void *x, const void *y)
{
	const struct ipvs_dest *a = x, *b = y;
	if (a->af != b->af)
		return a->af - b->af;
	int r = cmp_addr(a->af, a->addr, b->addr);
	return r ? r : a->port - b->port;
}

static void print_svc(struct ipvs *h, FILE *f, const struct ipvs_svc *s)
{
	char buf[96], a[64];
	fprintf(f, "%-33s %s", ipvs_svc_str(s, buf, sizeof(buf)), s->sched);
	if (s->flags & IP_VS_SVC_F_ONEPACKET)
		fprintf(f, " ops");
	if (s->flags & IP_VS_SVC_F_PERSISTENT) {
		fprintf(f, " persistent %u", s->timeout);
		if (s->af == AF_INET && s->netmask != 0xffffffff) {
			struct in_addr m = { s->netmask };
			fprintf(f, " mask %s", inet_ntop(AF_INET, &m, a, sizeof(a)));
		}
	}
	if (s->pe[0])
		fprintf(f, " pe %s", s->pe);
	fputc('\n', f);
	struct ipvs_dest *d;
	int n = ipvs_dests(h, s, &d);
	if (n > 0)
		qsort(d, (size_t)n, sizeof(*d), ipvs_cmp_dest);
	for (int i = 0; i < n; i++)
		fprintf(f, "  -> %-28s %-7s %-6u %-10u %-10u\n",
			ipvs_addr_str(d[i].af, d[i].addr, d[i].port, a, sizeof(a)),
			fwd_name(d[i].fwd), d[i].weight, d[i].active, d[i].inactive);
	if (n > 0)
		free(d);
}

int ipvs_print(struct ipvs *h, FILE *f)
{
	uint32_t v, size;
	int err = ipvs_version(h, &v, &size);
	if (err)
		return err;
	fprintf(f, "IP Virtual Server version %u.%u.%u (size=%u)\n", v >> 16, (v >> 8) & 255,
		v & 255, size);
	fprintf(f, "Prot LocalAddress:Port Scheduler Flags\n");
	fprintf(f, "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
	struct ipvs_svc *s;
	int n = ipvs_services(h, &s);
	if (n < 0)
		return n;
	qsort(s, (size_t)n, sizeof(*s), cmp_svc);
	for (int i = 0; i < n; i++)
		print_svc(h, f, &s[i]);
	free(s);
	return n;
}
