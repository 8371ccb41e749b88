/* fuzz_prefixes.c: libFuzzer target for the prefix file parser (geo-load, blacklist-load:
 * src/px/geo.c) and the table it fills (src/lb/lpm.c). First byte: bit 0 set for a geo file
 * (a region name per line). Checks that every prefix the parser accepts is well formed, and
 * that the compiled table finds each prefix's own address. */
#include <stdlib.h>
#include "px/policy.h"

struct seen {
	struct lb_lpm *b;
	int n;
	uint32_t addr[64];
};

static int add(void *arg, uint32_t addr, int plen, const char *name, size_t n)
{
	struct seen *s = arg;
	if (plen < 0 || plen > 32 || (name && (n == 0 || n > 63)))
		abort();
	if (s->n < 64)
		s->addr[s->n] = addr;
	s->n++;
	return lb_lpm_add(s->b, addr, plen, 1);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	struct seen s = { lb_lpm_new(), 0, { 0 } };
	int line;
	const char *why;
	int err = px_prefix_parse((const char *)data + 1, size - 1, data[0] & 1, add, &s, &line,
				  &why);
	if (err && (!why || line < 1))
		abort();
	struct lb_lpm_table *t = lb_lpm_compile(s.b);
	for (int i = 0; t && i < s.n && i < 64; i++)
		if (lb_lpm_find(t, s.addr[i]) != 1)
			abort();
	lb_lpm_table_free(t);
	lb_lpm_free(s.b);
	return 0;
}
