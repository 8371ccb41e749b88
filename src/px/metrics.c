/* metrics.c: the proxy's counters and their exposition for Prometheus.
 *
 * Counting: each worker bumps its own struct px_stats (px.h) on the request path, never a
 * shared counter, so counting costs a few plain increments per request. Reading: a thread
 * of its own, started by handle-requests when metrics-listen (or --metrics) gave an address,
 * answers GET /metrics with the sums over all workers in the text format 0.0.4. It has its
 * own event loop rather than being a worker's job: a scrape of a large configuration formats
 * megabytes of text, and on a worker that time would stall the worker's connections (and
 * show in the very latencies it reports).
 *
 * A scrape reads while the workers count, so it is not one instant: every counter is exact
 * and never goes back, but two counters may be a few requests apart. A histogram's _count is
 * the sum of its buckets as read, so the two always agree. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "px.h"

#define MAX_CONNS 16			/* scrapers served at once; the rest wait in the backlog */
#define REQ_MAX 4096			/* a scraper's request head */
#define CONN_TIMEOUT_NS 5000000000ull

/* ---- counting: what the workers call ---- */
static const uint64_t lat_bound_ns[PX_LAT_BUCKETS - 1] = {
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000,
	250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const lat_le[PX_LAT_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "+Inf",
};

/* Zeroed arrays on cache lines of their own, so no other worker's counters share a line. */
static void *lines_alloc(size_t n, size_t size)
{
	size_t bytes = (n * size + 63) & ~(size_t)63;
	if (!bytes)
		bytes = 64;
	void *p = aligned_alloc(64, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

int px_stats_init(struct px_stats *s, const struct px_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->listeners = lines_alloc((size_t)cfg->nlisteners, sizeof(*s->listeners));
	s->pools = lines_alloc((size_t)cfg->npools, sizeof(*s->pools));
	s->backends = calloc((size_t)cfg->npools + 1, sizeof(*s->backends));
	if (!s->listeners || !s->pools || !s->backends)
		return -ENOMEM;
	for (int p = 0; p < cfg->npools; p++)
		if (!(s->backends[p] = lines_alloc(cfg->pools[p]->n, sizeof(**s->backends))))
			return -ENOMEM;
	return 0;
}

void px_stats_fini(struct px_stats *s, const struct px_config *cfg)
{
	for (int p = 0; s->backends && p < cfg->npools; p++)
		free(s->backends[p]);
	free(s->backends);
	free(s->pools);
	free(s->listeners);
	memset(s, 0, sizeof(*s));
}

void px_stats_zero(struct px_stats *s, const struct px_config *cfg)
{
	memset(s->listeners, 0, (size_t)cfg->nlisteners * sizeof(*s->listeners));
	memset(s->pools, 0, (size_t)cfg->npools * sizeof(*s->pools));
	for (int p = 0; p < cfg->npools; p++)
		memset(s->backends[p], 0, cfg->pools[p]->n * sizeof(**s->backends));
}

/* d += s, each a counter of one worker (only that worker writes d). */
static void add(uint64_t *d, uint64_t s)
{
	if (s)
		px_count(d, s);
}

/* The same backends in the same order: the usual reload. */
static bool identity(const int *map, uint32_t n, uint32_t sn)
{
	if (n != sn)
		return false;
	for (uint32_t k = 0; k < n; k++)
		if (map[k] != (int)k)
			return false;
	return true;
}

void px_stats_fold(struct px_stats *dst, const struct px_config *dcfg, const struct px_stats *src,
		   const struct px_config *scfg, int **map)
{
	for (int i = 0; i < scfg->nlisteners; i++) {
		int k = px_map_listener(dcfg, &scfg->listeners[i]);
		if (k < 0)
			continue;
		struct px_lstats *d = &dst->listeners[k];
		const struct px_lstats *s = &src->listeners[i];
		add(&d->accepted, s->accepted);
		add(&d->requests, s->requests);
		add(&d->bytes_in, s->bytes_in);
		add(&d->bytes_out, s->bytes_out);
		for (int c = 0; c < 5; c++)
			add(&d->responses[c], s->responses[c]);
		px_gauge_add(&d->active, s->active);
	}
	for (int p = 0; p < dcfg->npools; p++) {
		int sp = px_map_pool(scfg, dcfg->pools[p]->name);
		if (sp < 0)
			continue;
		struct px_pstats *d = &dst->pools[p];
		const struct px_pstats *s = &src->pools[sp];
		add(&d->requests, s->requests);
		add(&d->no_backend, s->no_backend);
		add(&d->retries, s->retries);
		uint32_t n = dcfg->pools[p]->n;
		bool same = map && map[p] && identity(map[p], n, scfg->pools[sp]->n);
		for (uint32_t k = 0; map && map[p] && k < n; k++) {
			uint32_t sk = same ? k : (uint32_t)map[p][k];
			if (!same && map[p][k] < 0)
				continue;
			struct px_bstats *db = &dst->backends[p][k];
			const struct px_bstats *sb = &src->backends[sp][sk];
			if (!sb->requests && !sb->failures && !sb->lat_sum_ns)
				continue;	/* nothing counted (most, after a reload) */
			add(&db->requests, sb->requests);
			add(&db->failures, sb->failures);
			add(&db->lat_sum_ns, sb->lat_sum_ns);
			for (int i = 0; i < PX_LAT_BUCKETS; i++)
				add(&db->lat[i], sb->lat[i]);
		}
	}
}

/* Time from the request head sent to the response head received. */
void px_observe_latency(struct px_wgen *g, int pool, int backend, uint64_t ns)
{
	struct px_bstats *b = &g->stats.backends[pool][backend];
	int i = 0;
	while (i < PX_LAT_BUCKETS - 1 && ns > lat_bound_ns[i])
		i++;
	px_count(&b->lat[i], 1);
	px_count(&b->lat_sum_ns, ns);
}

/* ---- the metrics thread ---- */
struct px_metrics {
	struct px_server *srv;
	struct px_config *cfg;		/* the generation scraped (srv->mu held) */
	uint64_t gen_id;		/* first[] was made for it */
	int first_npools;
	struct px_worker *ws;
	int nworkers;
	double start_time;		/* the process's, Unix time */
	uint32_t **first;		/* [pool][backend]: the first backend with its address */
	struct ev_loop *loop;
	struct ev_io lio;		/* the listening socket */
	pthread_t thread;
	bool running;
	int nconns;
	struct mconn *conns;
	struct http_msg msg;		/* scratch for parsing */
};

struct mconn {
	struct px_metrics *m;
	struct mconn *next, **prevp;
	struct ev_io io;
	struct ev_timer timer;
	char *out;			/* the whole answer, once the request is in */
	size_t outlen, sent, got;
	char in[REQ_MAX];
};

/* Text that grows; a failed allocation is remembered and reported once, at the end. */
struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes and a NUL; false (and t->oom) when there is no memory. */
static bool text_room(struct text *t, size_t n)
{
	if (t->oom)
		return false;
	if (t->p && t->cap - t->len > n)
		return true;
	size_t cap = t->cap ? t->cap : 4096;
	while (cap - t->len <= n)
		cap *= 2;
	char *p = realloc(t->p, cap);
	if (!p) {
		t->oom = true;
		return false;
	}
	t->p = p;
	t->cap = cap;
	return true;
}

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = text_room(t, 256) ? vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap) : -1;
	va_end(ap);
	if (n >= 0 && (size_t)n >= t->cap - t->len && text_room(t, (size_t)n)) {
		va_start(ap, fmt);	/* it did not fit: again, with room enough */
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	if (n < 0)
		t->oom = true;
	else if (!t->oom)
		t->len += (size_t)n;
}

/* A label value as the text format wants it: \ " and newline escaped. */
static void put_value(struct text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			put(t, "\\%c", *s);
		else if (*s == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *s);
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void addr(char *buf, size_t cap, uint32_t ip, uint16_t port)
{
	snprintf(buf, cap, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255, port);
}

static uint64_t ld(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

/* ---- the sums over workers ---- */
static void listener_sum(const struct px_metrics *m, int i, struct px_lstats *s)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < m->nworkers; k++) {
		const struct px_lstats *l = &m->ws[k].cur->stats.listeners[i];
		s->accepted += ld(&l->accepted);
		s->requests += ld(&l->requests);
		s->bytes_in += ld(&l->bytes_in);
		s->bytes_out += ld(&l->bytes_out);
		for (int c = 0; c < 5; c++)
			s->responses[c] += ld(&l->responses[c]);
		s->active += __atomic_load_n(&l->active, __ATOMIC_RELAXED);
	}
}

static void pool_sum(const struct px_metrics *m, int p, struct px_pstats *s)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < m->nworkers; k++) {
		const struct px_pstats *ps = &m->ws[k].cur->stats.pools[p];
		s->requests += ld(&ps->requests);
		s->no_backend += ld(&ps->no_backend);
		s->retries += ld(&ps->retries);
	}
}

/* Every backend's counters summed over workers, into the first backend of the pool with
 * the same address (a pool may list one server twice; its series must appear once). */
static struct px_bstats **backend_sums(const struct px_metrics *m)
{
	const struct px_config *cfg = m->cfg;
	struct px_bstats **sums = calloc((size_t)cfg->npools + 1, sizeof(*sums));
	for (int p = 0; sums && p < cfg->npools; p++) {
		if (!(sums[p] = calloc(cfg->pools[p]->n + 1, sizeof(**sums)))) {
			for (int q = 0; q < p; q++)
				free(sums[q]);
			free(sums);
			return NULL;
		}
		for (uint32_t b = 0; b < cfg->pools[p]->n; b++) {
			struct px_bstats *s = &sums[p][m->first[p][b]];
			for (int k = 0; k < m->nworkers; k++) {
				const struct px_bstats *bs = &m->ws[k].cur->stats.backends[p][b];
				s->requests += ld(&bs->requests);
				s->failures += ld(&bs->failures);
				s->lat_sum_ns += ld(&bs->lat_sum_ns);
				for (int i = 0; i < PX_LAT_BUCKETS; i++)
					s->lat[i] += ld(&bs->lat[i]);
			}
		}
	}
	return sums;
}

/* ---- the exposition ---- */
static void expose_process(const struct px_metrics *m, struct text *t)
{
	family(t, "afd_build_info", "gauge", "The afd build; the value is always 1.");
	put(t, "afd_build_info{version=\"");
	put_value(t, afd_version());
	put(t, "\"} 1\n");
	const struct px_server *srv = m->srv;
	family(t, "afd_config_generation", "gauge", "The configuration generation serving now.");
	put(t, "afd_config_generation %llu\n", (unsigned long long)srv->cur->id);
	family(t, "afd_config_loaded_timestamp_seconds", "gauge",
	       "When the configuration serving now was loaded, since the Unix epoch.");
	put(t, "afd_config_loaded_timestamp_seconds %.3f\n", srv->cur->loaded_at);
	family(t, "afd_config_reloads_total", "counter",
	       "Configuration changes (reload, admin command) by result.");
	put(t, "afd_config_reloads_total{result=\"ok\"} %llu\n",
	    (unsigned long long)ld(&srv->reloads));
	put(t, "afd_config_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ld(&srv->reload_failures));
	family(t, "afd_admin_commands_total", "counter", "Commands run on the admin socket.");
	put(t, "afd_admin_commands_total %llu\n", (unsigned long long)ld(&srv->admin_commands));
	family(t, "afd_workers", "gauge", "Worker threads serving the proxy.");
	put(t, "afd_workers %d\n", m->nworkers);
	family(t, "afd_process_start_time_seconds", "gauge",
	       "Start time of the process since the Unix epoch in seconds.");
	put(t, "afd_process_start_time_seconds %.3f\n", m->start_time);
}

enum lfield { L_ACCEPTED, L_ACTIVE, L_REQUESTS, L_IN, L_OUT };

static const struct {
	const char *name, *type, *help;
	bool http_only;
} lfamilies[] = {
	[L_ACCEPTED] = { "afd_listener_connections_accepted_total", "counter",
			 "Client connections accepted.", false },
	[L_ACTIVE] = { "afd_listener_connections_active", "gauge",
		       "Client connections open now.", false },
	[L_REQUESTS] = { "afd_listener_requests_total", "counter",
			 "HTTP request heads received, malformed ones included.", true },
	[L_IN] = { "afd_listener_received_bytes_total", "counter",
		   "Bytes received from clients.", false },
	[L_OUT] = { "afd_listener_sent_bytes_total", "counter", "Bytes sent to clients.", false },
};

static int64_t lvalue(const struct px_lstats *s, enum lfield f)
{
	switch (f) {
	case L_ACCEPTED: return (int64_t)s->accepted;
	case L_ACTIVE: return s->active;
	case L_REQUESTS: return (int64_t)s->requests;
	case L_IN: return (int64_t)s->bytes_in;
	default: return (int64_t)s->bytes_out;
	}
}

/* The proxy's listeners (http-static-server's demo backends are not the proxy). */
static bool shown_listener(const struct px_listener_cfg *l, bool http_only)
{
	return http_only ? l->mode == PX_HTTP : l->mode != PX_STATIC;
}

static void expose_listeners(const struct px_metrics *m, struct text *t)
{
	const struct px_config *cfg = m->cfg;
	struct px_lstats s;
	char a[32];
	for (size_t f = 0; f < sizeof(lfamilies) / sizeof(*lfamilies); f++) {
		family(t, lfamilies[f].name, lfamilies[f].type, lfamilies[f].help);
		for (int i = 0; i < cfg->nlisteners; i++) {
			if (!shown_listener(&cfg->listeners[i], lfamilies[f].http_only))
				continue;
			listener_sum(m, i, &s);
			addr(a, sizeof(a), cfg->listeners[i].ip, cfg->listeners[i].port);
			put(t, "%s{listener=\"%s\"} %lld\n", lfamilies[f].name, a,
			    (long long)lvalue(&s, (enum lfield)f));
		}
	}
	family(t, "afd_listener_responses_total", "counter",
	       "HTTP responses sent to clients by status class, the proxy's own answers included.");
	for (int i = 0; i < cfg->nlisteners; i++) {
		if (!shown_listener(&cfg->listeners[i], true))
			continue;
		listener_sum(m, i, &s);
		addr(a, sizeof(a), cfg->listeners[i].ip, cfg->listeners[i].port);
		for (int c = 0; c < 5; c++)
			put(t, "afd_listener_responses_total{listener=\"%s\",code=\"%dxx\"} %llu\n", a,
			    c + 1, (unsigned long long)s.responses[c]);
	}
}

static void pool_label(struct text *t, const char *metric, const struct lb_pool *p)
{
	put(t, "%s{pool=\"", metric);
	put_value(t, p->name);
	put(t, "\"");
}

static void expose_pools(const struct px_metrics *m, struct text *t)
{
	static const struct { const char *name, *help; } fams[] = {
		{ "afd_pool_requests_total",
		  "Requests (HTTP) and connections (TCP) the pool was asked to serve." },
		{ "afd_pool_no_backend_total",
		  "Requests and connections that found no usable backend left to try." },
		{ "afd_pool_retries_total",
		  "Requests and connections sent to another backend after one failed." },
	};
	const struct px_config *cfg = m->cfg;
	struct px_pstats s;
	for (size_t f = 0; f < sizeof(fams) / sizeof(*fams); f++) {
		family(t, fams[f].name, "counter", fams[f].help);
		for (int p = 0; p < cfg->npools; p++) {
			pool_sum(m, p, &s);
			uint64_t v = f == 0 ? s.requests : f == 1 ? s.no_backend : s.retries;
			pool_label(t, fams[f].name, cfg->pools[p]);
			put(t, "} %llu\n", (unsigned long long)v);
		}
	}
}

static void backend_label(struct text *t, const char *metric, const struct lb_pool *p,
			  const struct lb_backend *b)
{
	char a[32];
	addr(a, sizeof(a), b->ip, b->port);
	pool_label(t, metric, p);
	put(t, ",backend=\"%s\"", a);
}

enum bfield { B_REQUESTS, B_FAILURES, B_ACTIVE, B_UP, B_ENABLED };

static const struct {
	const char *name, *type, *help;
} bfamilies[] = {
	[B_REQUESTS] = { "afd_backend_requests_total", "counter",
			 "Times the backend was picked for a request or connection, retries included." },
	[B_FAILURES] = { "afd_backend_failures_total", "counter",
			 "Requests and connections the backend failed: connect errors and timeouts, "
			 "broken, invalid or unsupported responses, no response in time." },
	[B_ACTIVE] = { "afd_backend_connections_active", "gauge",
		       "Requests (HTTP) and connections (TCP) in flight to the backend now." },
	[B_UP] = { "afd_backend_up", "gauge", "Health as the checks see it: 1 up, 0 down." },
	[B_ENABLED] = { "afd_backend_enabled", "gauge",
			"Admin state: 1 enabled, 0 disabled (backend-disable)." },
};

/* A gauge of struct lb_backend (shared, atomic). A server listed twice in a pool: active is
 * the sum, up and enabled are those of its first entry (the checks probe the same server). */
static int64_t bgauge(const struct px_metrics *m, int p, uint32_t b, enum bfield f)
{
	const struct lb_pool *pool = m->cfg->pools[p];
	const struct lb_backend *be = &pool->backends[b];
	if (f == B_UP)
		return __atomic_load_n(&be->st->up, __ATOMIC_RELAXED);
	if (f == B_ENABLED)
		return __atomic_load_n(&be->st->enabled, __ATOMIC_RELAXED);
	int64_t n = 0;
	for (uint32_t i = b; i < pool->n; i++)
		if (m->first[p][i] == b)
			n += __atomic_load_n(&pool->backends[i].st->active, __ATOMIC_RELAXED);
	return n;
}

static void expose_histogram(const struct px_metrics *m, struct text *t, struct px_bstats **sums)
{
	const char *name = "afd_backend_response_duration_seconds";
	const struct px_config *cfg = m->cfg;
	family(t, name, "histogram", "Time from the request head sent to the backend to its "
	       "response head received.");
	for (int p = 0; p < cfg->npools; p++) {
		const struct lb_pool *pool = cfg->pools[p];
		for (uint32_t b = 0; b < pool->n; b++) {
			if (m->first[p][b] != b)
				continue;
			const struct px_bstats *s = &sums[p][b];
			uint64_t n = 0;
			for (int i = 0; i < PX_LAT_BUCKETS; i++) {
				n += s->lat[i];
				backend_label(t, "afd_backend_response_duration_seconds_bucket", pool,
					      &pool->backends[b]);
				put(t, ",le=\"%s\"} %llu\n", lat_le[i], (unsigned long long)n);
			}
			backend_label(t, "afd_backend_response_duration_seconds_sum", pool,
				      &pool->backends[b]);
			put(t, "} %llu.%09llu\n", (unsigned long long)(s->lat_sum_ns / 1000000000),
			    (unsigned long long)(s->lat_sum_ns % 1000000000));
			backend_label(t, "afd_backend_response_duration_seconds_count", pool,
				      &pool->backends[b]);
			put(t, "} %llu\n", (unsigned long long)n);
		}
	}
}

static int expose_backends(const struct px_metrics *m, struct text *t)
{
	const struct px_config *cfg = m->cfg;
	struct px_bstats **sums = backend_sums(m);
	if (!sums)
		return -ENOMEM;
	for (size_t f = 0; f < sizeof(bfamilies) / sizeof(*bfamilies); f++) {
		family(t, bfamilies[f].name, bfamilies[f].type, bfamilies[f].help);
		for (int p = 0; p < cfg->npools; p++) {
			const struct lb_pool *pool = cfg->pools[p];
			for (uint32_t b = 0; b < pool->n; b++) {
				if (m->first[p][b] != b)
					continue;
				int64_t v = f == B_REQUESTS ? (int64_t)sums[p][b].requests :
					    f == B_FAILURES ? (int64_t)sums[p][b].failures :
					    bgauge(m, p, b, (enum bfield)f);
				backend_label(t, bfamilies[f].name, pool, &pool->backends[b]);
				put(t, "} %lld\n", (long long)v);
			}
		}
	}
	expose_histogram(m, t, sums);
	for (int p = 0; p < cfg->npools; p++)
		free(sums[p]);
	free(sums);
	return 0;
}

/* The whole scrape: 0, or -ENOMEM. */
static int find_aliases(struct px_metrics *m);
static void free_aliases(struct px_metrics *m);

static int expose(struct px_metrics *m, struct text *t)
{
	pthread_mutex_lock(&m->srv->mu);	/* no generation changes under the scrape */
	int err = 0;
	char *policies = NULL;
	if (m->gen_id != m->srv->cur->id) {
		free_aliases(m);
		m->cfg = m->srv->cur->cfg;
		m->gen_id = m->srv->cur->id;
		err = find_aliases(m);
	}
	if (!err) {
		expose_process(m, t);
		expose_listeners(m, t);
		expose_pools(m, t);
		put(t, "%s", px_log_metrics());	/* afd_log_lines_total, ..._dropped_total */
		err = expose_backends(m, t);
		policies = px_policy_metrics(m->cfg);	/* circuit breakers, rate limits, ACLs */
		put(t, "%s", policies ? policies : "");
	}
	if (err)
		m->gen_id = 0;	/* aliases again next time */
	pthread_mutex_unlock(&m->srv->mu);
	free(policies);
	return err ? err : t->oom || !policies ? -ENOMEM : 0;
}

/* ---- the HTTP side: one request per connection, then close ---- */
static void mconn_close(struct mconn *c)
{
	struct px_metrics *m = c->m;
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	ev_timer_stop(m->loop, &c->timer);
	close(c->io.fd);	/* the only descriptor: it leaves epoll too */
	free(c->out);
	free(c);
	if (m->nconns-- == MAX_CONNS)	/* room again: accept */
		ev_io_set(m->loop, &m->lio, EV_READ);
}

/* The answer, head and body, into c->out. */
static void respond(struct mconn *c, int status, const char *reason, const char *type,
		    const char *extra, const char *body, size_t len, bool head_only)
{
	struct text t = { 0 };
	put(&t, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", status, reason, type, len, extra);
	if (!head_only && len && text_room(&t, len)) {
		memcpy(t.p + t.len, body, len);
		t.len += len;
	}
	if (t.oom) {
		free(t.p);
		t.p = NULL;
		t.len = 0;
	}
	c->out = t.p;
	c->outlen = t.len;
	c->sent = 0;
}

static void respond_error(struct mconn *c, int status, const char *reason, const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", reason);
	respond(c, status, reason, "text/plain; charset=utf-8", extra, body, (size_t)n, false);
}

/* A complete request head in c->in: GET or HEAD /metrics gets the exposition. */
static void answer(struct mconn *c)
{
	const struct http_msg *msg = &c->m->msg;
	const char *method = c->in + msg->method.off, *target = c->in + msg->target.off;
	size_t plen = msg->target.len;
	const char *q = memchr(target, '?', plen);
	if (q)
		plen = (size_t)(q - target);
	bool get = msg->method.len == 3 && !memcmp(method, "GET", 3);
	bool head = msg->method.len == 4 && !memcmp(method, "HEAD", 4);
	if (!get && !head) {
		respond_error(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	if (plen != 8 || memcmp(target, "/metrics", 8)) {
		respond_error(c, 404, "Not Found", "");
		return;
	}
	struct text t = { 0 };
	if (expose(c->m, &t) < 0) {
		free(t.p);
		respond_error(c, 500, "Internal Server Error", "");
		return;
	}
	respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", t.p, t.len, head);
	free(t.p);
}

/* Read until the head is complete; 1 when an answer is ready, 0 for more, -1 to close. */
static int mconn_read(struct mconn *c)
{
	ssize_t n = recv(c->io.fd, c->in + c->got, sizeof(c->in) - c->got, 0);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	c->got += (size_t)n;
	struct http_limits lim = { sizeof(c->in), 64 };
	int r = http_parse_request(c->in, c->got, &c->m->msg, &lim);
	if (r == HTTP_AGAIN && c->got < sizeof(c->in))
		return 0;
	if (r == HTTP_AGAIN || r == HTTP_TOO_LARGE)
		respond_error(c, 431, "Request Header Fields Too Large", "");
	else if (r < 0)
		respond_error(c, 400, "Bad Request", "");
	else
		answer(c);
	return 1;
}

static void on_mconn(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct mconn *c = io->data;
	if (!c->out) {
		int r = mconn_read(c);
		if (r < 0 || (r > 0 && !c->out)) {	/* gone, or no memory for an answer */
			mconn_close(c);
			return;
		}
		if (r == 0)
			return;
	}
	while (c->sent < c->outlen) {
		ssize_t n = send(io->fd, c->out + c->sent, c->outlen - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			ev_io_set(loop, io, EV_WRITE);
			return;
		}
		if (n <= 0) {
			mconn_close(c);
			return;
		}
		c->sent += (size_t)n;
	}
	shutdown(io->fd, SHUT_WR);
	mconn_close(c);
}

static void on_mconn_timeout(struct ev_loop *loop, struct ev_timer *t)
{
	mconn_close(t->data);
}

static void on_metrics_accept(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_metrics *m = io->data;
	int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct mconn *c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	memset(c, 0, offsetof(struct mconn, in));
	c->m = m;
	ev_io_init(&c->io, fd, on_mconn, c);
	ev_timer_init(&c->timer, on_mconn_timeout, c);
	if (ev_io_set(loop, &c->io, EV_READ) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = m->conns;
	if (c->next)
		c->next->prevp = &c->next;
	c->prevp = &m->conns;
	m->conns = c;
	ev_timer_in(loop, &c->timer, CONN_TIMEOUT_NS);
	if (++m->nconns == MAX_CONNS)	/* full: the backlog holds the others */
		ev_io_set(loop, &m->lio, 0);
}

/* ---- start and stop ---- */

/* The process's start as Unix time, as the Prometheus client libraries compute it: boot
 * time (/proc/stat btime) plus the start in ticks since boot (/proc/self/stat, field 22).
 * Now, if /proc does not say. */
static double process_start_time(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double fallback = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	char buf[1024];
	unsigned long long start = 0, btime = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');	/* the command name may hold anything */
	for (int field = 2; p && *p && field < 22; p++)
		if (*p == ' ' && ++field == 22)
			start = strtoull(p + 1, NULL, 10);
	if (!(f = fopen("/proc/stat", "r")))
		return fallback;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (!start || !btime || hz <= 0)
		return fallback;
	return (double)btime + (double)start / (double)hz;
}

/* For each backend, the first one of its pool with the same address. */
static void free_aliases(struct px_metrics *m)
{
	for (int p = 0; m->first && p < m->first_npools; p++)
		free(m->first[p]);
	free(m->first);
	m->first = NULL;
}

static int find_aliases(struct px_metrics *m)
{
	const struct px_config *cfg = m->cfg;
	if (!(m->first = calloc((size_t)cfg->npools + 1, sizeof(*m->first))))
		return -ENOMEM;
	m->first_npools = cfg->npools;
	for (int p = 0; p < cfg->npools; p++) {
		const struct lb_pool *pool = cfg->pools[p];
		if (!(m->first[p] = calloc(pool->n + 1, sizeof(**m->first))))
			return -ENOMEM;
		for (uint32_t b = 0; b < pool->n; b++) {
			uint32_t i = 0;
			while (pool->backends[i].ip != pool->backends[b].ip ||
			       pool->backends[i].port != pool->backends[b].port)
				i++;
			m->first[p][b] = i;
		}
	}
	return 0;
}

static int listen_metrics(struct px_metrics *m)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(m->cfg->metrics_port),
				  .sin_addr.s_addr = htonl(m->cfg->metrics_ip) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	ev_io_init(&m->lio, fd, on_metrics_accept, m);
	return ev_io_set(m->loop, &m->lio, EV_READ);
}

static void *metrics_main(void *arg)
{
	px_thread_loop(((struct px_metrics *)arg)->loop);
	return NULL;
}

static void stop_loop(struct ev_loop *loop, void *arg) { ev_stop(loop); }

static void metrics_free(struct px_metrics *m)
{
	while (m->conns)
		mconn_close(m->conns);
	if (m->lio.fd >= 0)
		close(m->lio.fd);
	free_aliases(m);
	if (m->loop)
		ev_loop_free(m->loop);
	free(m);
}

int px_metrics_start(struct px_server *srv, struct px_metrics **mp)
{
	*mp = NULL;
	struct px_config *cfg = srv->cur->cfg;
	if (!cfg->metrics_port)
		return 0;
	struct px_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->srv = srv;
	m->cfg = cfg;
	m->ws = srv->ws;
	m->nworkers = srv->nworkers;
	m->lio.fd = -1;
	m->start_time = process_start_time();
	int err = 0;
	if (!(m->loop = ev_loop_new()))
		err = -ENOMEM;
	if (!err)
		err = listen_metrics(m);
	if (!err)
		err = -pthread_create(&m->thread, NULL, metrics_main, m);
	if (err) {
		metrics_free(m);
		return err;
	}
	m->running = true;
	*mp = m;
	return 0;
}

void px_metrics_stop(struct px_metrics *m)
{
	if (!m)
		return;
	if (m->running) {
		ev_call(m->loop, stop_loop, NULL);
		pthread_join(m->thread, NULL);
	}
	metrics_free(m);
}

/* --metrics ADDR:PORT, for the command line: it wins over metrics-listen in the
 * configuration. ADDR is a dotted IPv4 address; empty or * means every address. */
int px_metrics_option(struct px_vmctx *ctx, const char *addr_port)
{
	const char *colon = strrchr(addr_port, ':');
	if (!colon)
		return -EINVAL;
	char ip[16];
	size_t n = (size_t)(colon - addr_port);
	if (n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, addr_port, n);
	ip[n] = 0;
	struct in_addr a = { 0 };
	if (n && strcmp(ip, "*") && inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return -EINVAL;
	ctx->cfg->metrics_ip = ntohl(a.s_addr);
	ctx->cfg->metrics_port = (uint16_t)port;
	ctx->cfg->metrics_pinned = true;
	return 0;
}
