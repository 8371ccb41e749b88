/* px.h: the proxy's table of contents.
 *
 * A configuration (struct px_config) is built by Forth words in the main VM. handle-requests
 * starts one worker thread per core: each has its own event loop, its own SO_REUSEPORT
 * listening sockets, its own Forth VM (built by replaying the main VM's top-level sources,
 * so routing words run without a lock) and its own picker state for every pool. Pools and
 * backends are shared; their counters are atomic. Each worker also counts its own traffic
 * (struct px_stats); with metrics-listen, a thread of its own sums every worker's counters
 * when GET /metrics asks (metrics.c). */
#ifndef AFD_PX_H
#define AFD_PX_H

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <afd/ev.h>
#include <afd/forth.h>
#include <afd/http.h>
#include <afd/lb.h>
#include "log.h"

enum px_mode { PX_HTTP, PX_TCP, PX_STATIC };
/* How tcp-mode moves bytes: the default, in userspace, or by the kernel (BPF sockmap,
 * src/dp/sockmap.c; userspace when the kernel or our privileges do not allow it). */
enum px_relay { PX_RELAY_DEFAULT, PX_RELAY_USER, PX_RELAY_KERNEL };

struct px_listener_cfg {
	uint32_t ip;
	uint16_t port;
	enum px_mode mode;
	enum px_relay relay;	/* PX_TCP: kernel-relay, user-relay */
	int pool;		/* default pool, -1 for none (static servers) */
	char *body;		/* PX_STATIC: the text served */
	size_t bodylen;
	uint8_t policy;		/* PX_POLICY_* (policy.h): rate limit, access list */
};

enum px_check_kind { PX_CHECK_NONE, PX_CHECK_TCP, PX_CHECK_HTTP };
#define PX_CHECK_PATH_MAX 256

struct px_check_cfg {		/* one per pool */
	enum px_check_kind kind;
	char path[PX_CHECK_PATH_MAX];
	uint64_t interval_ns, timeout_ns;
	int rise, fall;
};

/* What source-hash and maglev-hash hash for a request. */
enum px_hash_by { PX_HASH_CLIENT, PX_HASH_HEADER, PX_HASH_COOKIE };

struct px_pool_cfg {		/* one per pool, beside cfg->pools */
	struct px_check_cfg check;
	enum px_hash_by hash_by;
	char hash_name[64];	/* the header or cookie */
	uint8_t hash_len;
};

struct px_config {
	struct lb_pool **pools;
	struct px_pool_cfg *pools_cfg;	/* parallel to pools */
	int npools, cappools;
	struct px_listener_cfg *listeners;
	int nlisteners, caplisteners;
	int workers;
	int current_pool;	/* add-backend and set-algorithm apply to it */
	int current_listener;	/* http-mode and tcp-mode apply to it */
	uint64_t client_timeout_ns;	/* a request head must arrive within it */
	uint64_t idle_timeout_ns;	/* keep-alive clients idle at most this */
	uint64_t connect_timeout_ns;
	uint64_t server_timeout_ns;	/* time for a backend to answer */
	uint64_t backend_idle_ns;	/* kept-alive backend connections idle at most this */
	uint64_t tcp_idle_ns;		/* an L4 connection with no traffic for this long ends */
	uint64_t drain_timeout_ns;	/* SIGTERM waits this long for connections to finish */
	int max_retries;
	uint32_t metrics_ip;		/* metrics-listen: GET /metrics there; port 0: none */
	uint16_t metrics_port;
	bool metrics_pinned;		/* set by --metrics: the configuration does not change it */
	char admin_path[108];		/* admin-socket: a UNIX socket, or "" */
	char run_user[64], run_group[64];	/* run-as-user, run-as-group: after binding */
	struct px_log_cfg log;		/* access-log, event-log, log-level... (log.c) */
	struct px_policy *policy;	/* policy.c: rate limits, access lists, geo; or NULL */
};

#define PX_BUF_SIZE 16384
struct px_buf {
	uint32_t start, end;	/* unread data is data[start..end) */
	struct px_buf *next;	/* free list */
	char data[PX_BUF_SIZE];
};

struct px_worker;
struct px_conn;
struct px_server;
struct px_wgen;
struct dp_sockmap;

/* Every client connection starts with this, so a worker can end them all when it stops. */
struct px_live {
	struct px_live *next, **prevp;
	struct px_worker *w;
	void (*close)(void *conn);	/* end it now */
	void (*drain)(void *conn);	/* end it once its current exchange is done, or NULL */
};

/* What the proxy's Forth words work on: the main VM builds cfg; a worker's VM only reads
 * it, and routes requests of its worker. */
struct px_vmctx {
	struct px_config *cfg;
	struct px_worker *w;	/* NULL in the main VM */
	struct px_wgen *g;	/* a worker's: the generation it belongs to */
	afd_vm *vm;
	int iter_pool;		/* each-backend's place */
	uint32_t iter_next;
	bool check_only;	/* afd --check: handle-requests checks instead of serving */
	bool checked;
	bool building;		/* a new generation: handle-requests ends the load (BYE) */
	bool admin;		/* running an admin snippet (operator words allowed) */
	size_t data_size;	/* the VM's data space (new generations get the same) */
	const struct px_config *prev;	/* the generation it follows (state carried over) */
	struct px_server *srv;	/* while serving: the control plane (admin words) */
	struct px_source *sources;	/* what a reload reads again (main VM, set by main.c) */
	int nsources;
	bool want_reload, want_upgrade;	/* admin words reload and upgrade: after the change */
	uint64_t fp_before, cfg_before;	/* admin: the state before the change (admin.c) */
	char **argv;		/* the command line (upgrade starts it again) */
	const char *admin_path;	/* --admin: wins over admin-socket */
	const char *pid_file;	/* --pid-file */
};

/* A top-level source of the configuration: a file (read again by reload) or text. */
struct px_source {
	char *name;
	char *text;		/* NULL: name is a file */
};
int px_add_source(struct px_vmctx *ctx, const char *name, const char *text);


/* Handles on the Forth stack: tagged so a stray number is not taken for one. */
#define PX_POOL_TAG ((afd_cell)0x504f4f4c << 32)		/* "POOL" */
#define PX_ALGO_TAG ((afd_cell)0x414c474f << 32)		/* "ALGO" */
#define PX_BACKEND_TAG ((afd_cell)0x4245 << 48)		/* "BE" | pool << 24 | backend */
#define PX_TAG_MASK ((afd_cell)(~(afd_ucell)0 << 32))
#define PX_BACKEND_MASK ((afd_cell)((afd_ucell)0xffff << 48))

/* A connection to a backend. Registered once, edge-triggered, for its whole life: it moves
 * between a client connection (owner) and its worker's idle pool without a system call. */
struct px_sconn {
	struct ev_io io;
	struct ev_timer timer;		/* idle timeout while pooled */
	struct px_worker *w;
	struct px_wgen *g;		/* the generation its pool and backend index refer to */
	struct px_conn *owner;		/* NULL while idle */
	struct px_sconn *next, **prevp;	/* the idle list */
	int pool, backend;
	bool rd, wr;			/* readiness seen and not yet used up */
	bool hup;			/* the backend shut its side: read on until recv says 0 */
	bool connected, closed;
};

/* ---- metrics: counters each worker keeps for itself (metrics.c reads and sums them) ----
 * A worker bumps only its own counters, with a relaxed load and store: plain moves, no
 * locked instruction, no cache line shared with another worker. The metrics thread reads
 * them with relaxed loads. Per backend, the state that is shared anyway (active, up,
 * enabled) is read from struct lb_backend. */
#define PX_LAT_BUCKETS 15		/* 14 bounds, 0.5 ms .. 10 s, and +Inf */

struct px_lstats {			/* per listener */
	uint64_t accepted, requests, bytes_in, bytes_out;
	uint64_t responses[5];		/* by class: 1xx .. 5xx */
	int64_t active;			/* connections open now */
};

struct px_pstats {			/* per pool */
	uint64_t requests, no_backend, retries;
};

struct px_bstats {			/* per backend */
	uint64_t requests, failures;
	uint64_t lat[PX_LAT_BUCKETS];	/* response times, each counted in its own bucket */
	uint64_t lat_sum_ns;
};

struct px_stats {
	struct px_lstats *listeners;	/* [listener] */
	struct px_pstats *pools;	/* [pool] */
	struct px_bstats **backends;	/* [pool][backend] */
};

static inline void px_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void px_gauge_add(int64_t *g, int64_t d)
{
	__atomic_store_n(g, __atomic_load_n(g, __ATOMIC_RELAXED) + d, __ATOMIC_RELAXED);
}

struct px_listener {
	struct ev_io io;
	struct px_wgen *g;
	const struct px_listener_cfg *cfg;
};

/* ---- configuration generations (gen.c) ----
 * Every successful load (start, reload, admin snippet) makes a generation: a configuration
 * and the main VM that built it (its history is the sources a next generation replays).
 * Each worker has its own view of it (struct px_wgen): its VM for routing words, pickers,
 * idle backend connections, counters and listening sockets. A connection holds the view it
 * started with until its exchange is over; new requests take the worker's current one. */
struct px_gen {
	int refs;			/* [atomic] the server's while current, each worker view's */
	uint64_t id;			/* 1, 2, ... */
	struct px_config *cfg;
	afd_vm *vm;
	struct px_vmctx *ctx;
	struct sink *sink;		/* where vm writes (gen.c) */
	bool has_route;			/* defines handle-http-request: workers need a VM */
	bool same_vm;			/* the change left words and data as they were */
	char origin[16];		/* start, reload, admin */
	double loaded_at;		/* Unix time */
	uint64_t build_ns;		/* how long building it took */
	uint64_t swap_ns;		/* and making it live in every worker */
	uint64_t prev_id;		/* the generation it was built on, and */
	int **prev_map;			/* its backends' indices there (px_map_backends) */
};

/* A worker's VM for routing words. Generations whose change left the dictionary and data
 * as they were (an admin set-weight, add-backend...) share their predecessor's: the same
 * words, no replay. Only its worker's thread uses it. */
struct px_wvm {
	afd_vm *vm;
	struct px_vmctx ctx;		/* ctx.g and ctx.cfg: the generation routing now */
	afd_cell route_xt;
	int refs;
};

struct px_wgen {
	struct px_gen *gen;
	struct px_config *cfg;		/* gen->cfg */
	struct px_worker *w;
	int refs;			/* 1 while current + connections using it */
	struct px_wvm *wvm;		/* NULL without a routing word */
	afd_vm *vm;			/* wvm->vm */
	afd_cell route_xt;		/* handle-http-request, or 0 */
	struct lb_picker *pickers;	/* [pool] */
	struct px_sconn ***idle;	/* [pool][backend]: idle connections to backends */
	struct px_listener *listeners;	/* [listener] */
	struct px_stats stats;		/* metrics.c */
	int err;			/* preparing it failed: -errno */
};

struct px_worker {
	int id, nworkers;
	pthread_t thread;
	struct ev_loop *loop;
	struct px_wgen *cur;		/* the current generation, as this worker sees it */
	struct px_server *srv;
	struct px_buf *freebufs;
	int nfreebufs;
	void *objs[16];			/* free connection objects by 64-byte size class */
	int nobjs[16];
	struct http_msg msg;		/* scratch for parsing */
	uint64_t rng;
	void *graveyard;		/* connections to free after this event batch */
	struct ev_timer reaper;
	/* the request being routed by Forth, for the request words */
	struct px_conn *routing;
	const char *routing_buf;
	const struct http_msg *routing_msg;
	struct px_live *live;		/* client connections open now */
	bool draining;			/* SIGTERM: no new connections; ends when live is empty */
	bool soft_drain;		/* upgrade: idle clients get Connection: close, not a cut */
	struct px_probe *probes;	/* health checks this worker runs */
	int nprobes;
	struct px_alog *alog;		/* access.c: its access log buffer; NULL when off */
	struct dp_sockmap *sockmap;	/* the kernel relay of tcp-mode, NULL: userspace only */
};

/* The serving process's control plane: the current generation and how it changes. */
struct px_server {
	pthread_mutex_t mu;		/* the current generation: held by swaps and scrapes */
	pthread_mutex_t ctl;		/* one change at a time (admin, reload, upgrade) */
	pthread_mutex_t wait_mu;	/* with cv: */
	pthread_cond_t cv;		/* workers answered a prepare or adopt */
	int waiting;			/* answers still expected */
	struct px_gen *cur;
	struct px_worker *ws;
	int nworkers;
	struct px_vmctx *start;		/* the main VM's: sources for reload */
	uint64_t next_id;
	uint64_t reloads, reload_failures, admin_commands;	/* [atomic] */
	double start_time;
	int upgrade_fd;			/* -1, or the pipe an upgraded process reports on */
	bool upgraded;			/* a new process serves: drain and exit */
	afd_vm *spare;			/* ready for the next change (ctl held) */
	struct px_vmctx *spare_ctx;
};
void px_spare_fill(struct px_server *srv);	/* takes ctl */
void px_spare_free(struct px_server *srv);
/* Start the executable again with the listening sockets; 0 once it serves. */
int px_upgrade(struct px_server *srv, char *err, size_t errcap);

/* config.c: the configuration and the words that build it */
struct px_config *px_config_new(void);
void px_config_free(struct px_config *cfg);
int px_register_words(afd_vm *vm, struct px_vmctx *ctx);
struct px_vmctx *px_attach(afd_vm *vm);		/* main VM: a new configuration */
void px_detach(struct px_vmctx *ctx);
int px_pool_find(const struct px_config *cfg, const char *name, size_t len);
/* A backend handle (PX_BACKEND_TAG): its index in its pool (*pool), or -1 if it names none. */
int px_backend_of(const struct px_config *cfg, afd_cell h, int *pool);
/* Pop a backend handle: 0 and the backend, or -12. */
int px_pop_backend(afd_vm *vm, struct px_config *cfg, afd_cell *h, struct lb_backend **b);
/* A worker's VM replaying the generation's sources (not routing a request): words that
 * change the configuration or run-time state do nothing there, the main VM did it once. */
static inline bool px_replaying(const struct px_vmctx *x) { return x->w && !x->w->routing; }

/* route.c: the words a routing word uses */
int px_register_request_words(afd_vm *vm, struct px_vmctx *ctx);
uint32_t px_conn_client_ip(const struct px_conn *c);

/* metrics.c: the counters and GET /metrics (Prometheus text format 0.0.4) */
struct px_metrics;
int px_stats_init(struct px_stats *s, const struct px_config *cfg);
void px_stats_fini(struct px_stats *s, const struct px_config *cfg);
void px_stats_zero(struct px_stats *s, const struct px_config *cfg);
/* Add src's counters (less base's, if given) into dst, matched by identity. */
void px_stats_fold(struct px_stats *dst, const struct px_config *dcfg, const struct px_stats *src,
		   const struct px_config *scfg, int **map);	/* map: px_map_backends(d, s) */
void px_observe_latency(struct px_wgen *g, int pool, int backend, uint64_t ns);
/* Bind the metrics address (if configured; else *mp is NULL) and serve it from a thread. */
int px_metrics_start(struct px_server *srv, struct px_metrics **mp);
void px_metrics_stop(struct px_metrics *m);
int px_metrics_option(struct px_vmctx *ctx, const char *addr_port);	/* --metrics */

/* serve.c */
int px_serve(struct px_vmctx *ctx);	/* blocks until SIGINT or SIGTERM */
/* Can this configuration be served? Problems are written to out; 0 or a THROW code. */
int px_config_check(const struct px_config *cfg, FILE *out);

/* gen.c */
/* Build a generation aside: from the sources (reload, snippet NULL) or the current
 * generation's history plus snippet. Output of the snippet goes to out (may be NULL).
 * NULL on failure, with the reason in err. */
struct px_gen *px_gen_build(struct px_server *srv, const char *snippet, size_t len,
			    const char *origin, FILE *out, char *err, size_t errcap);
void px_gen_put(struct px_gen *g);
/* Make g current in every worker (consumes the reference); 0, or -errno with err set. */
int px_gen_commit(struct px_server *srv, struct px_gen *g, char *err, size_t errcap);
int px_reload(struct px_server *srv, const char *origin, char *err, size_t errcap);
struct px_gen *px_gen_first(struct px_vmctx *ctx);	/* the start: the main VM's own */
/* For each backend of cfg: the index of the same backend in prev (pool name, address,
 * port; a server listed twice matches in order), or -1. map[p][b]; free with px_map_free. */
int **px_map_backends(const struct px_config *cfg, const struct px_config *prev);
void px_map_free(int **map, const struct px_config *cfg);
/* The map from g to from: g's own (owned false) when g was built on from. */
int **px_gen_map(const struct px_gen *g, const struct px_gen *from, bool *owned);
int px_map_listener(const struct px_config *cfg, const struct px_listener_cfg *l);
int px_map_pool(const struct px_config *cfg, const char *name);
void px_wgen_put(struct px_wgen *g);		/* on its worker's thread */
struct px_wgen *px_wgen_switch(struct px_wgen *from, int *listener);	/* a new request */

/* admin.c: the admin socket and the operator's words */
struct px_admin;
int px_admin_start(struct px_server *srv, const char *path, struct px_admin **ap);
void px_admin_stop(struct px_admin *a);
int px_register_admin_words(afd_vm *vm, struct px_vmctx *ctx);
void px_admin_mark(struct px_vmctx *ctx);	/* before a change: what it is compared with */

/* health.c */
int px_health_start(struct px_worker *w);	/* for w->cur */
void px_health_stop(struct px_worker *w);
void px_health_set(struct px_config *cfg, int pool, int backend, bool up, const char *why);
void px_health_passive(struct px_config *cfg, int pool, int backend, bool ok);

/* worker.c */
int px_worker_init(struct px_worker *w, int id, struct px_server *srv);
/* A worker's view of generation gen: built (VM, listening sockets) without touching the
 * running one, then adopted. Both on the worker's thread, or before it starts. */
struct px_wgen *px_wgen_prepare(struct px_worker *w, struct px_gen *gen);
void px_wgen_adopt(struct px_worker *w, struct px_wgen *g);
void px_wgen_discard(struct px_wgen *g);
int px_worker_start(struct px_worker *w);
void px_worker_stop(struct px_worker *w);
void px_worker_fini(struct px_worker *w);
/* From another thread: stop accepting, end when the connections are done. soft (upgrade):
 * idle keep-alive clients are not cut but told Connection: close on their next answer. */
void px_worker_drain(struct px_worker *w, bool soft);
int px_listen_new(const struct px_listener_cfg *l);	/* a listening socket, or -errno */
/* A listening socket for l: one handed over by the process upgraded from, or a new one. */
int px_listen_fd(struct px_server *srv, const struct px_listener_cfg *l);
void px_thread_loop(struct ev_loop *loop);	/* run a loop, signals to the main thread */
/* Connection objects (zeroed) from the worker's free lists; put them back with their size. */
void *px_obj_get(struct px_worker *w, size_t size);
void px_obj_put(struct px_worker *w, void *p, size_t size);
struct px_buf *px_buf_get(struct px_worker *w);
void px_buf_put(struct px_worker *w, struct px_buf *b);
ssize_t px_buf_recv(int fd, struct px_buf *b, size_t limit, bool *ready, bool hup);
ssize_t px_buf_send(int fd, struct px_buf *b, uint32_t upto, bool *ready);
int px_connect(struct px_worker *w, const struct lb_backend *b);	/* fd or -errno */
struct px_sconn *px_sconn_open(struct px_wgen *g, int pool, int backend);	/* NULL: errno */
void px_sconn_close(struct px_sconn *s);
struct px_sconn *px_idle_take(struct px_wgen *g, int pool, int backend);
void px_idle_put(struct px_sconn *s);
void px_http_server_event(struct px_conn *c);	/* s->rd / s->wr changed */
uint64_t px_rand(struct px_worker *w);
void px_bury(struct px_worker *w, void *conn, void (*free_fn)(void *));
void px_live_add(struct px_worker *w, struct px_live *l, void (*close)(void *),
		 void (*drain)(void *));
void px_live_del(struct px_live *l);

/* http_conn.c, tcp_conn.c, static.c: a new accepted client */
void px_http_accept(struct px_listener *l, int fd, uint32_t client_ip, uint16_t client_port);
void px_tcp_accept(struct px_listener *l, int fd, uint32_t client_ip, uint16_t client_port);
/* tcp_conn.c: does this listener relay in the kernel (the default resolved)? */
bool px_tcp_kernel_relay(const struct px_listener_cfg *l);
void px_static_accept(struct px_listener *l, int fd);

/* policy.c (policy.h): rate limits, access lists, geo tables, circuit breakers. The hooks
 * of the data path: a status to answer (0: go on); accept: true to close the connection. */
struct px_policy;
void px_policy_free(struct px_policy *p);
int px_register_policy_words(afd_vm *vm, struct px_vmctx *ctx);
int px_policy_request(struct px_config *cfg, const struct px_listener_cfg *l, uint32_t ip,
		      uint64_t now);
bool px_policy_accept(struct px_config *cfg, const struct px_listener_cfg *l, uint32_t ip);
/* A request to a backend concluded with this status, 0 if it failed (circuit breaker). */
void px_policy_backend_result(struct px_config *cfg, int pool, int backend, int status);
char *px_policy_metrics(struct px_config *cfg);	/* Prometheus text, malloc'd, or NULL */

/* route.c: ask Forth's handle-http-request which backend; -1 for the default pool. Returns
 * 0, a status the proxy answers itself (http-respond), or -EINVAL (the word failed). */
int px_route(struct px_wgen *g, struct px_conn *c, const char *buf, const struct http_msg *m,
	     int *pool, int *backend);

#endif
