/* lpm.c: longest-prefix match, DIR-16-8-8 with compressed stride-8 nodes (see lpm.h).
 *
 * Compiling paints prefixes in order of increasing length, so a longer prefix overwrites the
 * shorter ones it lies in: first every prefix up to /16 into the first level; then, one /16
 * at a time, the /17../24 prefixes into a 256-entry scratch array that starts as the first
 * level's entry (leaf pushing), and inside it, one /24 at a time, the /25../32 prefixes. Each
 * scratch array is compressed into a node as soon as its /16 or /24 is done, so compiling
 * needs two 1 KiB scratch arrays whatever the table's size. Painting is bounded: after
 * duplicates are removed there are at most 2^len prefixes of length len, and each paints
 * at most 2^(16-len) first-level entries, so no input makes it quadratic. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <afd/lpm.h>

#define CHILD 0x80000000u	/* an entry: CHILD | node index, or value + 1, 0 for none */

struct prefix {
	uint32_t addr, value, seq;
	uint8_t len;
};

struct lb_lpm {
	struct prefix *p;
	size_t n, cap;
	uint32_t seq;
};

struct node {
	uint64_t bm[4];		/* bit i: a run of equal entries starts at position i */
	uint32_t base;		/* the node's first entry in ent[] */
	uint8_t cum[4];		/* runs starting in the bitmap words before word i */
};

struct lb_lpm_table {
	uint32_t l1[65536];
	struct node *nodes;
	uint32_t *ent;
	size_t nnodes, capnodes, nent, capent;
	int oom;
};

struct lb_lpm *lb_lpm_new(void) { return calloc(1, sizeof(struct lb_lpm)); }

void lb_lpm_free(struct lb_lpm *b)
{
	if (b)
		free(b->p);
	free(b);
}

static uint32_t mask(int len) { return len ? ~0u << (32 - len) : 0; }

int lb_lpm_add(struct lb_lpm *b, uint32_t addr, int len, uint32_t value)
{
	if (len < 0 || len > 32 || value > LB_LPM_VALUE_MAX)
		return -EINVAL;
	if (b->n >= LB_LPM_MAX_PREFIXES)
		return -ENOSPC;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct prefix *p = realloc(b->p, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = (struct prefix){ addr & mask(len), value, b->seq++, (uint8_t)len };
	return 0;
}

size_t lb_lpm_count(const struct lb_lpm *b) { return b->n; }

int lb_lpm_append(struct lb_lpm *dst, struct lb_lpm *src)
{
	if (dst->n + src->n > LB_LPM_MAX_PREFIXES)
		return -ENOSPC;
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->n + src->n;
		struct prefix *p = realloc(dst->p, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		dst->p = p;
		dst->cap = cap;
	}
	for (size_t i = 0; i < src->n; i++) {
		dst->p[dst->n] = src->p[i];
		dst->p[dst->n++].seq = dst->seq++;
	}
	src->n = 0;
	return 0;
}

/* ---- compiling ---- */
static int by_prefix(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->len != y->len)
		return x->len - y->len;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The order of painting: by /16, the /17../24 ones first, then by /24; shorter first. */
static uint64_t paint_key(const struct prefix *p)
{
	uint64_t deep = p->len > 24;
	return (uint64_t)(p->addr >> 16) << 24 | deep << 23 |
	       (deep ? (uint64_t)((p->addr >> 8) & 255) << 8 : 0) | (uint64_t)p->len << 1;
}

static int by_paint(const void *a, const void *b)
{
	uint64_t x = paint_key(a), y = paint_key(b);
	return x < y ? -1 : x > y;
}

static int by_len(const void *a, const void *b)
{
	return ((const struct prefix *)a)->len - ((const struct prefix *)b)->len;
}

static void *grow(void *arr, size_t *cap, size_t need, size_t size, int *oom)
{
	if (need <= *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 1024;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(arr, ncap * size);
	if (!p) {
		*oom = 1;
		return NULL;
	}
	*cap = ncap;
	return p;
}

/* A 256-entry scratch array as a compressed node: its entry. */
static uint32_t compress(struct lb_lpm_table *t, const uint32_t *s)
{
	struct node *nodes = grow(t->nodes, &t->capnodes, t->nnodes + 1, sizeof(*nodes), &t->oom);
	uint32_t *ent = grow(t->ent, &t->capent, t->nent + 256, sizeof(*ent), &t->oom);
	if (nodes)
		t->nodes = nodes;
	if (ent)
		t->ent = ent;
	if (t->oom)
		return 0;
	struct node *n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	n->base = (uint32_t)t->nent;
	for (int i = 0; i < 256; i++)
		if (i == 0 || s[i] != s[i - 1]) {
			n->bm[i >> 6] |= 1ull << (i & 63);
			t->ent[t->nent++] = s[i];
		}
	for (int i = 1; i < 4; i++)
		n->cum[i] = (uint8_t)(n->cum[i - 1] + __builtin_popcountll(n->bm[i - 1]));
	return CHILD | (uint32_t)t->nnodes++;
}

static void paint(uint32_t *s, uint32_t from, int span_bits, uint32_t value)
{
	for (uint32_t i = 0; i < (1u << span_bits); i++)
		s[from + i] = value + 1;
}

/* One /16's prefixes longer than /16, p[0..n) in paint order. */
static uint32_t compile_16(struct lb_lpm_table *t, const struct prefix *p, size_t n,
			   uint32_t inherited)
{
	uint32_t s2[256], s3[256];
	for (int i = 0; i < 256; i++)
		s2[i] = inherited;
	size_t i = 0;
	for (; i < n && p[i].len <= 24; i++)
		paint(s2, (p[i].addr >> 8) & 255, 24 - p[i].len, p[i].value);
	while (i < n) {
		uint32_t mid = (p[i].addr >> 8) & 255;
		for (int k = 0; k < 256; k++)
			s3[k] = s2[mid];
		for (; i < n && ((p[i].addr >> 8) & 255) == mid; i++)
			paint(s3, p[i].addr & 255, 32 - p[i].len, p[i].value);
		s2[mid] = compress(t, s3);
	}
	return compress(t, s2);
}

struct lb_lpm_table *lb_lpm_compile(const struct lb_lpm *b)
{
	struct lb_lpm_table *t = calloc(1, sizeof(*t));
	struct prefix *p = malloc((b->n ? b->n : 1) * sizeof(*p));
	if (!t || !p) {
		free(t);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (b->n)
		memcpy(p, b->p, b->n * sizeof(*p));
	qsort(p, b->n, sizeof(*p), by_prefix);
	size_t n = 0;		/* the same prefix again: the later one wins */
	for (size_t i = 0; i < b->n; i++) {
		if (n && p[n - 1].addr == p[i].addr && p[n - 1].len == p[i].len)
			n--;
		p[n++] = p[i];
	}
	size_t nshort = 0;	/* /0../16 to the front, then paint them shortest first */
	for (size_t i = 0; i < n; i++)
		if (p[i].len <= 16) {
			struct prefix x = p[i];
			p[i] = p[nshort];
			p[nshort++] = x;
		}
	qsort(p, nshort, sizeof(*p), by_len);
	for (size_t i = 0; i < nshort; i++)
		paint(t->l1, p[i].addr >> 16, 16 - p[i].len, p[i].value);
	qsort(p + nshort, n - nshort, sizeof(*p), by_paint);
	for (size_t i = nshort; i < n && !t->oom;) {
		size_t j = i;
		uint32_t hi = p[i].addr >> 16;
		while (j < n && p[j].addr >> 16 == hi)
			j++;
		t->l1[hi] = compile_16(t, p + i, j - i, t->l1[hi]);
		i = j;
	}
	free(p);
	if (t->oom) {
		lb_lpm_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void lb_lpm_table_free(struct lb_lpm_table *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->ent);
	free(t);
}

size_t lb_lpm_table_bytes(const struct lb_lpm_table *t)
{
	return sizeof(*t) + t->nnodes * sizeof(*t->nodes) + t->nent * sizeof(*t->ent);
}

/* ---- the lookup ---- */
static inline uint32_t node_entry(const struct lb_lpm_table *t, uint32_t e, uint32_t pos)
{
	const struct node *n = &t->nodes[e & ~CHILD];
	uint32_t w = pos >> 6;
	uint64_t upto = n->bm[w] & (~0ull >> (63 - (pos & 63)));
	return t->ent[n->base + n->cum[w] + (uint32_t)__builtin_popcountll(upto) - 1];
}

uint32_t lb_lpm_find(const struct lb_lpm_table *t, uint32_t ip)
{
	uint32_t e = t->l1[ip >> 16];
	if (e & CHILD) {
		e = node_entry(t, e, (ip >> 8) & 255);
		if (e & CHILD)
			e = node_entry(t, e, ip & 255);
	}
	return e ? e - 1 : LB_LPM_NONE;
}
