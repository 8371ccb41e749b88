/* geo.c: prefix sets (geo tables, the access list), their file format and their words.
 *
 * A set collects prefixes in a builder (lb_lpm) and compiles it on the first lookup after a
 * change. Changes come only from the main VM, while no worker runs; so the compiled table a
 * worker reads is never replaced under it. Loading a file is transactional: every line is
 * parsed into a builder aside, and only a file without error is added.
 *
 * The file format, one prefix a line:   10.0.0.0/8 EU   # a comment
 *   - a CIDR (a.b.c.d/len) or an address (a /32), then, in a geo file, a region name (1 to 63
 *     printable characters, no blank, no '#'); blanks around; '#' starts a comment;
 *   - empty lines and comment lines are skipped; CR LF line ends are accepted;
 *   - an error names the file and line, and nothing of the file is added. */
#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

#define POP(v) do { int e_ = afd_pop(vm, &(v)); if (e_) return e_; } while (0)
#define REGION_MAX 63
#define MAX_REGIONS 65536
#define MAX_FILE (256u << 20)

int px_lpmset_init(struct px_lpmset *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->b = lb_lpm_new();
	return s->b ? 0 : -ENOMEM;
}

void px_lpmset_fini(struct px_lpmset *s)
{
	lb_lpm_free(s->b);
	lb_lpm_table_free(s->t);
	pthread_mutex_destroy(&s->lock);
}

uint32_t px_lpmset_find(struct px_lpmset *s, uint32_t ip)
{
	if (__atomic_load_n(&s->dirty, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&s->lock);
		if (s->dirty) {
			struct lb_lpm_table *t = lb_lpm_compile(s->b);
			if (t) {	/* else: no memory, the old table answers */
				lb_lpm_table_free(s->t);
				__atomic_store_n(&s->t, t, __ATOMIC_RELEASE);
				__atomic_store_n(&s->dirty, 0, __ATOMIC_RELEASE);
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	struct lb_lpm_table *t = __atomic_load_n(&s->t, __ATOMIC_ACQUIRE);
	return t ? lb_lpm_find(t, ip) : LB_LPM_NONE;
}

/* A worker replaying the configuration compiles what the main VM added, before it serves,
 * so that no request waits for it. */
static int warm(struct px_lpmset *s)
{
	px_lpmset_find(s, 0);
	return 0;
}

/* ---- the file format ---- */
static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* a.b.c.d or a.b.c.d/len at *p: 0 or -EINVAL */
static int parse_cidr(const char **p, const char *end, uint32_t *addr, int *len)
{
	const char *s = *p;
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		int v = 0, digits = 0;
		while (s < end && *s >= '0' && *s <= '9' && digits < 4)
			v = v * 10 + (*s++ - '0'), digits++;
		if (!digits || digits > 3 || v > 255)
			return -EINVAL;
		a = a << 8 | (uint32_t)v;
		if (i < 3 && (s >= end || *s++ != '.'))
			return -EINVAL;
	}
	*len = 32;
	if (s < end && *s == '/') {
		int v = 0, digits = 0;
		for (s++; s < end && *s >= '0' && *s <= '9' && digits < 3; s++)
			v = v * 10 + (*s - '0'), digits++;
		if (!digits || digits > 2 || v > 32)
			return -EINVAL;
		*len = v;
	}
	if (s < end && !blank(*s) && *s != '#')
		return -EINVAL;
	*addr = a;
	*p = s;
	return 0;
}

int px_prefix_parse(const char *text, size_t len, bool want_name,
		    int (*add)(void *arg, uint32_t addr, int plen, const char *name, size_t n),
		    void *arg, int *line, const char **why)
{
	const char *p = text, *end = text + len;
	for (*line = 1; p < end; (*line)++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		while (p < eol && blank(*p))
			p++;
		if (p < eol && *p != '#') {
			uint32_t addr;
			int plen;
			const char *name = NULL;
			size_t n = 0;
			if (parse_cidr(&p, eol, &addr, &plen) < 0) {
				*why = "expected a.b.c.d/len or a.b.c.d";
				return -EINVAL;
			}
			while (p < eol && blank(*p))
				p++;
			if (want_name) {
				for (name = p; p < eol && !blank(*p) && *p != '#'; p++)
					if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
						*why = "a region name is printable ASCII";
						return -EINVAL;
					}
				n = (size_t)(p - name);
				if (n == 0 || n > REGION_MAX) {
					*why = n ? "region name longer than 63 characters" :
						   "expected a region name after the prefix";
					return -EINVAL;
				}
				while (p < eol && blank(*p))
					p++;
			}
			if (p < eol && *p != '#') {
				*why = "unexpected text after the prefix";
				return -EINVAL;
			}
			int err = add(arg, addr, plen, name, n);
			if (err) {
				*why = err == -ENOSPC ? "too many prefixes or regions" : "out of memory";
				return err;
			}
		}
		p = eol + 1;
	}
	return 0;
}

/* ---- regions: names interned, found through an open-addressing hash of their indices ---- */
static int *rslot(struct px_policy *pol, const char *s, size_t n)
{
	uint32_t mask = pol->rhcap - 1, h = (uint32_t)lb_hash(s, n, 0) & mask;
	for (;; h = (h + 1) & mask) {
		int i = pol->rhash[h];
		if (i < 0 || (strlen(pol->regions[i]) == n && !memcmp(pol->regions[i], s, n)))
			return &pol->rhash[h];
	}
}

/* Keep the hash at most half full (and rebuilt after regions_trim). */
static int rhash_fit(struct px_policy *pol, int want)
{
	if (pol->rhash && (uint32_t)want * 2 <= pol->rhcap)
		return 0;
	uint32_t cap = 64;
	while (cap < (uint32_t)want * 2)
		cap *= 2;
	int *h = malloc(cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	free(pol->rhash);
	pol->rhash = h;
	pol->rhcap = cap;
	memset(h, 0xff, cap * sizeof(*h));
	for (int i = 0; i < pol->nregions; i++)
		*rslot(pol, pol->regions[i], strlen(pol->regions[i])) = i;
	return 0;
}

static int region_index(struct px_policy *pol, const char *s, size_t n)
{
	if (rhash_fit(pol, pol->nregions + 1) < 0)
		return -ENOMEM;
	int *slot = rslot(pol, s, n);
	if (*slot >= 0)
		return *slot;
	if (pol->nregions >= MAX_REGIONS)
		return -ENOSPC;
	if (pol->nregions == pol->capregions) {
		int cap = pol->capregions ? pol->capregions * 2 : 16;
		char **r = realloc(pol->regions, (size_t)cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		pol->regions = r;
		pol->capregions = cap;
	}
	if (!(pol->regions[pol->nregions] = strndup(s, n)))
		return -ENOMEM;
	*slot = pol->nregions;
	return pol->nregions++;
}

static void regions_trim(struct px_policy *pol, int n)
{
	if (pol->nregions == n)
		return;
	while (pol->nregions > n)
		free(pol->regions[--pol->nregions]);
	free(pol->rhash);	/* it knew the names just freed: rebuilt when next needed */
	pol->rhash = NULL;
	pol->rhcap = 0;
}

/* ---- the words ---- */
static bool is_worker(void *ctx) { return ((struct px_vmctx *)ctx)->w != NULL; }
static struct px_policy *pol_of(void *ctx) { return px_policy_get(ctx); }

static int pop_cidr(afd_vm *vm, uint32_t *addr, int *len)
{
	afd_cell a, l;
	POP(l);
	POP(a);
	if ((afd_ucell)a > 0xffffffffu || l < 0 || l > 32)
		return AFD_THROW_BAD_CIDR;
	*addr = (uint32_t)a;
	*len = (int)l;
	return 0;
}

/* -ENOMEM: -8 (dictionary overflow is the nearest standard code); else (-ENOSPC, -EINVAL): -24 */
static int add_err(int err) { return err == -ENOMEM ? -8 : -24; }

/* geo-add ( addr prefix c-addr u -- ) the prefix is in that region */
static int w_geo_add(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	uint32_t addr;
	int len, err = afd_pop_string(vm, &s, &n);
	if (err || (err = pop_cidr(vm, &addr, &len)))
		return err;
	if (n == 0 || n > REGION_MAX || memchr(s, '\0', n))
		return -24;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	if (is_worker(ctx))
		return warm(&pol->geo);
	int r = region_index(pol, s, n);
	if (r < 0 || (r = lb_lpm_add(pol->geo.b, addr, len, (uint32_t)r)) < 0)
		return add_err(r);
	pol->geo.dirty = 1;
	return 0;
}

/* blacklist-add ( addr prefix -- ) */
static int w_blacklist_add(afd_vm *vm, void *ctx)
{
	uint32_t addr;
	int len, err = pop_cidr(vm, &addr, &len);
	if (err)
		return err;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	if (is_worker(ctx))
		return warm(&pol->deny);
	if ((err = lb_lpm_add(pol->deny.b, addr, len, 0)) < 0)
		return add_err(err);
	pol->deny.dirty = 1;
	return 0;
}

static char *read_all(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	*err = f ? 0 : errno == ENOENT ? -38 : AFD_THROW_FILE;
	while (f) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = cap > MAX_FILE ? NULL : realloc(buf, cap + 1);
			if (!nb) {
				*err = cap > MAX_FILE ? AFD_THROW_FILE : -8;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f))
				*err = AFD_THROW_FILE;
			break;
		}
	}
	if (f)
		fclose(f);
	if (*err) {
		free(buf);
		return NULL;
	}
	return buf ? buf : calloc(1, 1);
}

struct loading {
	struct px_policy *pol;
	struct lb_lpm *aside;
	bool geo;
};

static int load_add(void *arg, uint32_t addr, int plen, const char *name, size_t n)
{
	struct loading *ld = arg;
	int v = ld->geo ? region_index(ld->pol, name, n) : 0;
	return v < 0 ? v : lb_lpm_add(ld->aside, addr, plen, (uint32_t)v);
}

/* geo-load, blacklist-load ( c-addr u -- ) the prefixes of a file (format above) */
static int load(afd_vm *vm, void *ctx, bool geo)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	if (is_worker(ctx))
		return warm(geo ? &pol->geo : &pol->deny);
	char path[4096];
	if (n == 0 || n >= sizeof(path))
		return -24;
	memcpy(path, s, n);
	path[n] = 0;
	size_t len;
	char *text = read_all(path, &len, &err);
	if (!text) {
		afd_set_error_detail(vm, "%s", path);
		return err;
	}
	struct loading ld = { pol, lb_lpm_new(), geo };
	int line = 0, keep = pol->nregions;
	const char *why = "out of memory";
	struct px_lpmset *set = geo ? &pol->geo : &pol->deny;
	err = ld.aside ? px_prefix_parse(text, len, geo, load_add, &ld, &line, &why) : -ENOMEM;
	if (!err && (err = lb_lpm_append(set->b, ld.aside)) < 0)
		why = err == -ENOSPC ? "too many prefixes" : "out of memory";
	free(text);
	lb_lpm_free(ld.aside);
	if (err) {
		regions_trim(pol, keep);
		afd_set_error_detail(vm, "%s:%d: %s", path, line, why);
		return err == -EINVAL ? AFD_THROW_BAD_CIDR : add_err(err);
	}
	set->dirty = 1;
	return warm(set);	/* now, not on the first request (a big file takes ~50 ms) */
}

static int w_geo_load(afd_vm *vm, void *ctx) { return load(vm, ctx, true); }
static int w_blacklist_load(afd_vm *vm, void *ctx) { return load(vm, ctx, false); }

/* The region of ip in the MaxMind database: the field's string, or none (0). */
static int mmdb_region(struct px_policy *pol, uint32_t ip, const char **s, size_t *n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(ip) };
	int err = 0;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(pol->mmdb, (struct sockaddr *)&sa, &err);
	if (err != MMDB_SUCCESS || !r.found_entry)
		return 0;
	char field[sizeof(pol->mmdb_field)];
	const char *path[PX_MMDB_PATH_MAX + 1];
	int k = 0;
	strcpy(field, pol->mmdb_field);
	for (char *save = NULL, *tok = strtok_r(field, "/", &save); tok && k < PX_MMDB_PATH_MAX;
	     tok = strtok_r(NULL, "/", &save))
		path[k++] = tok;
	path[k] = NULL;
	MMDB_entry_data_s d;
	if (MMDB_aget_value(&r.entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return 0;
	*s = d.utf8_string;
	*n = d.data_size;
	return 1;
}

/* geoip-lookup ( ip -- c-addr u ) the region of the longest prefix covering ip; else, with
 * a MaxMind database, its field; else "" */
static int w_geoip_lookup(afd_vm *vm, void *ctx)
{
	afd_cell ip;
	POP(ip);
	if ((afd_ucell)ip > 0xffffffffu)
		return -24;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	uint32_t v = px_lpmset_find(&pol->geo, (uint32_t)ip);
	const char *s = "";
	size_t n = 0;
	if (v != LB_LPM_NONE && (int)v < pol->nregions) {
		s = pol->regions[v];
		n = strlen(s);
	} else if (pol->mmdb) {
		mmdb_region(pol, (uint32_t)ip, &s, &n);
	}
	return afd_push_string(vm, s, n);
}

/* blacklist-check ( ip -- flag ) is ip in the access list? */
static int w_blacklist_check(afd_vm *vm, void *ctx)
{
	afd_cell ip;
	POP(ip);
	if ((afd_ucell)ip > 0xffffffffu)
		return -24;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	return afd_push(vm, px_lpmset_find(&pol->deny, (uint32_t)ip) != LB_LPM_NONE ? -1 : 0);
}

/* geoip-mmdb ( c-addr u -- ) look addresses no prefix covers up in this MaxMind database */
static int w_geoip_mmdb(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	char path[4096];
	if (n == 0 || n >= sizeof(path))
		return -24;
	if (is_worker(ctx))
		return 0;
	memcpy(path, s, n);
	path[n] = 0;
	MMDB_s *db = calloc(1, sizeof(*db));
	if (!db)
		return -8;
	int st = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (st != MMDB_SUCCESS) {
		afd_set_error_detail(vm, "%s: %s", path, MMDB_strerror(st));
		free(db);
		return st == MMDB_FILE_OPEN_ERROR ? -38 : AFD_THROW_FILE;
	}
	if (pol->mmdb) {
		MMDB_close(pol->mmdb);
		free(pol->mmdb);
	}
	pol->mmdb = db;
	return 0;
}

/* geoip-mmdb-field ( c-addr u -- ) the path of the region in a record, '/' between keys
 * (default "country/iso_code"; "continent/code" gives EU, NA, AS, ...) */
static int w_geoip_field(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	struct px_policy *pol = pol_of(ctx);
	if (!pol)
		return -8;
	if (n == 0 || n >= sizeof(pol->mmdb_field) || memchr(s, '\0', n))
		return -24;
	if (!is_worker(ctx)) {
		memcpy(pol->mmdb_field, s, n);
		pol->mmdb_field[n] = 0;
	}
	return 0;
}

void px_geo_close(struct px_policy *pol)
{
	if (pol->mmdb) {
		MMDB_close(pol->mmdb);
		free(pol->mmdb);
	}
	regions_trim(pol, 0);
	free(pol->regions);
	free(pol->rhash);
}

int px_register_geo_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "geo-add", "( addr prefix c-addr u -- )", w_geo_add },
		{ "geo-load", "( c-addr u -- )", w_geo_load },
		{ "geoip-lookup", "( ip -- c-addr u )", w_geoip_lookup },
		{ "geoip-mmdb", "( c-addr u -- )", w_geoip_mmdb },
		{ "geoip-mmdb-field", "( c-addr u -- )", w_geoip_field },
		{ "blacklist-add", "( addr prefix -- )", w_blacklist_add },
		{ "blacklist-load", "( c-addr u -- )", w_blacklist_load },
		{ "blacklist-check", "( ip -- flag )", w_blacklist_check },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}
