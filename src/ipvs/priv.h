/* priv.h: what words.c and batch.c share: the process's IPVS state, specifications,
 * queued changes, and the commit. Private to src/ipvs. */
#ifndef AFD_IPVS_PRIV_H
#define AFD_IPVS_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "afd/forth.h"
#include "ipvs.h"

#define THROW_KERNEL AFD_THROW_IPVS
/* The kernel's destination flags (include/net/ip_vs.h, not in the UAPI headers) */
#define IP_VS_DEST_F_AVAILABLE 0x0001	/* in the service's list */
#define IP_VS_DEST_F_OVERLOAD 0x0002	/* over its upper threshold */

struct spec {
	bool is_dest, fwd_set, port_set;
	uint32_t dflags;	/* IP_VS_DEST_F_AVAILABLE: added with its weight, else quiesced */
	uint32_t fwd;		/* a service's: its destinations' default method */
	struct ipvs_svc svc;	/* a destination's: the service it was last added to */
	struct ipvs_dest d;
};

/* A change waiting for the commit, and what AFD's books do when it takes effect. */
enum { KEEP, DECLARE, UNDECLARE };
struct qchange {
	struct ipvs_change c;
	uint8_t book;
	bool weight_only;	/* an edit that takes the rest of the destination from the kernel */
};

struct decl {
	struct ipvs_svc svc;
	struct ipvs_dest d;	/* a declared destination; for a service unused */
};

struct ipvs_state {
	pthread_mutex_t lock;
	struct ipvs *h;
	struct spec *spec;
	int nspec, capspec;
	int current;		/* spec of the current service (ipvs-add-dest's), -1 none */
	int scratch[2];		/* 1 + the spec replays reuse, services and destinations */
	struct ipvs_svc cache_svc;	/* the kernel's destinations of one service, read once */
	struct ipvs_dest *cache;	/* per batch by ipvs-add-dest (sorted) */
	int ncache;
	bool cache_valid;
	struct qchange *q;
	int nq, capq;
	bool batching;
	struct ipvs_change *last;	/* the last batch, each change with its verdict */
	int nlast, last_sent;
	long long sent;		/* changes sent by this process */
	struct ipvs_svc *owned;
	int nowned, capowned;
	bool owned_loaded, owned_dirty;
	struct decl *dsvc, *ddest;	/* what the configuration declared */
	int ndsvc, capdsvc, nddest, capddest;
	char owner_file[256];
};

/* The IPVS table is the machine's, so this state is the process's: one, behind its lock. */
extern struct ipvs_state ipvs_st;
#define S ipvs_st

int ipvs_grow(void **arr, int *cap, int n, size_t size);
/* THROW code with a detail for the message: file:line:col: error: WORD: ...: detail */
int ipvs_fail(afd_vm *vm, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ipvs_handle(afd_vm *vm, struct ipvs **h);	/* the socket, opened on first use */

/* words.c: the service of a specification handle, or NULL */
const struct ipvs_svc *ipvs_spec_svc(afd_cell h);
/* follow.c */
int ipvs_w_follow_health(afd_vm *vm, void *ctx);

/* batch.c */
void ipvs_owned_load(void);
int ipvs_owned_find(const struct ipvs_svc *s);
void ipvs_owned_save(void);
int ipvs_decl_find(struct decl *d, int n, const struct ipvs_svc *s, const struct ipvs_dest *dd);
void ipvs_book(const struct qchange *q);
/* Send changes; atomic: all or nothing, else keep what took effect. 0, or a THROW code when
 * atomic and a change failed; *nfailed counts the failed changes. */
int ipvs_commit(afd_vm *vm, struct qchange *q, int n, bool atomic, int *nfailed);
/* A change from a word: into the open batch, or to the kernel now. */
int ipvs_submit(afd_vm *vm, const struct qchange *q, int n);

#endif
