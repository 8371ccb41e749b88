/* lb-t.h: types of pools, backends and balancing algorithms (functions in lb.h).
 *
 * Threads: a pool is shared by every worker thread. Fields marked [atomic] are read and
 * written concurrently with __atomic builtins; the rest change only when a new
 * configuration generation is built. Each worker has its own algorithm state for each pool
 * (struct lb_state), so picking a backend takes no lock. */
#ifndef AFD_LB_T_H
#define AFD_LB_T_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define LB_NAME_MAX 64
#define LB_MAX_BACKENDS 4096

/* What a backend has learned at run time: shared by the backend's copies in successive
 * configuration generations (same pool name, address and port), so health, admin state,
 * connections in flight and latency survive a reload; every field is [atomic]. */
struct lb_bstate {
	int refs;			/* generations holding it */
	int up;				/* health: 1 up, 0 down */
	int enabled;			/* admin: 1 enabled, 0 disabled */
	int64_t active;			/* connections in flight, all workers, all generations */
	uint64_t ewma_ns;		/* peak-EWMA of response time (ns) */
	uint64_t ewma_stamp_ns;		/* when ewma_ns was last updated */
	uint64_t picks;			/* times chosen */
	int passive_fails;		/* failed requests in a row (health checks) */
	/* circuit breaker (breaker.c): open, and until when no request passes */
	int cb_open;			/* 0 closed; 1 open (half-open once cb_until_ns passed) */
	int cb_fails;			/* failures in a row while closed */
	int cb_budget;			/* half-open: probe requests still to let through */
	int cb_probes;			/* the budget each half-open period starts with */
	uint64_t cb_until_ns;		/* open: no request before this (lb_now_ns) */
	uint64_t cb_window_ns;		/* the open timeout it was opened with */
	uint64_t cb_opens;		/* times it opened */
};

/* Circuit breaker states, as circuit-breaker-state@ gives them. */
enum { LB_CB_CLOSED, LB_CB_OPEN, LB_CB_HALF_OPEN };

/* A pool's breaker settings (configuration; the state is per backend, in lb_bstate). */
struct lb_breaker_cfg {
	bool on;			/* failed requests drive it (circuit-breaker-threshold) */
	bool count_5xx;			/* a 5xx answer is a failure too */
	uint32_t threshold;		/* failures in a row that open it */
	uint32_t probes;		/* requests let through while half-open */
	uint64_t open_ns;		/* how long it stays open before half-open */
};

struct lb_backend {
	uint32_t index;			/* position in its pool */
	uint32_t ip;			/* IPv4, host byte order */
	uint16_t port;
	uint32_t weight;		/* configured weight; 0: gets no new connections */
	int want_enabled;		/* admin state the configuration asks for (applied to
					 * st->enabled when its generation goes live) */
	struct lb_bstate *st;		/* never NULL in a pool */
};

struct lb_pool;
struct lb_state;

/* What a pick may look at besides the pool. */
struct lb_key {
	uint64_t hash;			/* the request's key hash (source-hash, maglev-hash) */
	uint64_t rand;			/* a fresh random number from the worker */
	uint64_t now_ns;		/* monotonic time (peak-ewma decay) */
};

/* A balancing algorithm: a file in src/lb/ fills one and registers it (lb_algo_register). */
struct lb_algo {
	const char *name;		/* the Forth word that selects it, e.g. "round-robin" */
	/* Per-worker state for a pool, built whenever the pool's backend set or weights change.
	 * Returns NULL on allocation failure. */
	struct lb_state *(*build)(const struct lb_pool *pool);
	void (*free)(struct lb_state *state);
	/* Choose among backends that are up, enabled and have weight > 0; NULL if none.
	 * `tried` (may be NULL) marks backends to avoid (a retry after a failure): bit i of
	 * tried[i / 64]. */
	struct lb_backend *(*pick)(struct lb_pool *pool, struct lb_state *state,
				   const struct lb_key *key, const uint64_t *tried);
	struct lb_algo *next;
};

struct lb_pool {
	char name[LB_NAME_MAX];
	const struct lb_algo *algo;
	struct lb_backend *backends;	/* n of them */
	uint32_t n, cap;
	uint64_t version;		/* bumped when backends/weights change: states rebuild */
	struct lb_breaker_cfg breaker;
	/* [atomic] */
	uint64_t requests, no_backend;
	uint64_t rr_next;		/* round-robin's cursor, shared by the workers */
};

#endif
