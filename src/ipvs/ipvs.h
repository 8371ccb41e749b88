/* ipvs.h: a client of the kernel's IPVS over generic netlink (family "IPVS", linux/ip_vs.h),
 * on libmnl. No ipvsadm, no text parsing.
 *
 * Conventions: functions return 0 or a count, or a negative errno. Addresses are kept in
 * network order in 16 bytes (IPv4 in the first four); ports in host order.
 * Changes are sent in batches: many netlink messages in one sendmsg, each acknowledged on
 * its own, so every change gets the kernel's own verdict (ipvs_change.err). */
#ifndef AFD_IPVS_H
#define AFD_IPVS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/ip_vs.h>

struct ipvs_svc {
	uint16_t af;		/* AF_INET or AF_INET6 */
	uint16_t protocol;	/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP; 0 for a fwmark */
	uint8_t addr[16];
	uint16_t port;
	uint32_t fwmark;	/* non-zero: a firewall-mark service (no protocol, address, port) */
	char sched[IP_VS_SCHEDNAME_MAXLEN];
	char pe[IP_VS_PENAME_MAXLEN];	/* persistence engine ("sip"), usually empty */
	uint32_t flags;		/* IP_VS_SVC_F_* */
	uint32_t timeout;	/* persistence timeout, seconds */
	uint32_t netmask;	/* persistence granularity: IPv4 mask (network order) or v6 prefix */
};

struct ipvs_dest {
	uint16_t af;
	uint8_t addr[16];
	uint16_t port;
	uint32_t fwd;		/* IP_VS_CONN_F_MASQ, _LOCALNODE, _TUNNEL, _DROUTE */
	uint32_t weight, u_thresh, l_thresh;
	uint8_t tun_type;	/* with IP_VS_CONN_F_TUNNEL: IP_VS_CONN_F_TUNNEL_TYPE_* */
	uint16_t tun_port, tun_flags;
	uint32_t active, inactive, persist;	/* read back only */
};

enum ipvs_op {
	IPVS_ADD_SVC = 1, IPVS_EDIT_SVC, IPVS_DEL_SVC,
	IPVS_ADD_DEST, IPVS_EDIT_DEST, IPVS_DEL_DEST, IPVS_FLUSH,
};

struct ipvs_change {
	uint8_t op;		/* enum ipvs_op */
	int err;		/* after ipvs_apply: 0, or the kernel's -errno for this change */
	struct ipvs_svc svc;	/* the service; for destination changes, its key */
	struct ipvs_dest dest;
};

struct ipvs;

struct ipvs *ipvs_open(int *err);	/* -ENOENT in *err: this kernel has no IPVS */
void ipvs_close(struct ipvs *h);
/* Send changes in as few sendmsg calls as the socket buffers allow; ch[i].err is each
 * change's verdict. Returns how many failed, or a negative errno when the exchange itself
 * failed (then a change whose ack never came has err -EIO: its fate is unknown). */
int ipvs_apply(struct ipvs *h, struct ipvs_change *ch, int n);
/* The kernel's record of a service (key fields of *svc in, the rest out); -ESRCH if none. */
int ipvs_get_service(struct ipvs *h, struct ipvs_svc *svc);
/* Every service, or every destination of one: a malloc'ed array in *out, the count returned. */
int ipvs_services(struct ipvs *h, struct ipvs_svc **out);
int ipvs_dests(struct ipvs *h, const struct ipvs_svc *svc, struct ipvs_dest **out);
int ipvs_version(struct ipvs *h, uint32_t *version, uint32_t *conn_tab_size);
/* Connection timeouts, seconds (ipvsadm --set); 0 leaves one as it is. */
int ipvs_set_timeouts(struct ipvs *h, uint32_t tcp, uint32_t tcpfin, uint32_t udp);
int ipvs_timeouts(struct ipvs *h, uint32_t *tcp, uint32_t *tcpfin, uint32_t *udp);
/* At most n changes per sendmsg (never more than the receive buffer allows): tests, tuning. */
void ipvs_set_batch_limit(struct ipvs *h, int n);
/* Sendmsg calls made so far (the benchmark shows how batches were cut). */
uint64_t ipvs_sends(const struct ipvs *h);

bool ipvs_same_svc(const struct ipvs_svc *a, const struct ipvs_svc *b);	/* same key */
bool ipvs_same_dest(const struct ipvs_dest *a, const struct ipvs_dest *b);	/* same key */
int ipvs_cmp_dest(const void *a, const void *b);	/* order of keys, for qsort and bsearch */
/* "TCP  80.80.80.80:80" or "FWM  7" (ipvsadm -Ln's form) into buf */
const char *ipvs_svc_str(const struct ipvs_svc *s, char *buf, size_t cap);
const char *ipvs_addr_str(uint16_t af, const uint8_t *addr, uint16_t port, char *buf, size_t cap);
/* The kernel's errno for a change, in the words of IPVS */
const char *ipvs_strerror(int op, int err);
/* The table as ipvsadm -Ln prints it */
int ipvs_print(struct ipvs *h, FILE *f);

#endif
