/* lpm.h: longest-prefix match over IPv4 prefixes (geo tables, access lists).
 *
 * Two halves: a builder (struct lb_lpm) that collects prefixes, single-threaded, and the
 * table it compiles (struct lb_lpm_table), immutable, which any number of threads search
 * without a lock. The table is a DIR-16-8-8: a flat first level of 65,536 entries indexed by
 * the address's top 16 bits, then nodes of stride 8 stored compressed (a 256-bit bitmap
 * marks where a run of equal entries starts; a popcount finds the run), so a /24 in an
 * otherwise empty /16 costs one 40-byte node and three entries, not a 1 KiB array.
 * A lookup is at most three dependent loads. Conventions: 0 or a negative errno. */
#ifndef AFD_LPM_H
#define AFD_LPM_H

#include <stddef.h>
#include <stdint.h>

#define LB_LPM_NONE UINT32_MAX		/* no prefix covers the address */
#define LB_LPM_VALUE_MAX 0x7ffffffeu	/* values are 0 .. this */
#define LB_LPM_MAX_PREFIXES (1u << 22)	/* bounded memory whatever the input */

struct lb_lpm;
struct lb_lpm_table;

struct lb_lpm *lb_lpm_new(void);
void lb_lpm_free(struct lb_lpm *b);
/* Add addr/len (bits beyond len are ignored) with a value; the same prefix added again
 * takes the later value. -EINVAL, -ENOSPC (LB_LPM_MAX_PREFIXES), -ENOMEM. */
int lb_lpm_add(struct lb_lpm *b, uint32_t addr, int len, uint32_t value);
size_t lb_lpm_count(const struct lb_lpm *b);	/* prefixes added (duplicates counted) */
/* Move every prefix of src to the end of dst (src is left empty): a loader builds aside,
 * then commits in one step. */
int lb_lpm_append(struct lb_lpm *dst, struct lb_lpm *src);

/* Compile the prefixes added so far; NULL on allocation failure (errno set). */
struct lb_lpm_table *lb_lpm_compile(const struct lb_lpm *b);
void lb_lpm_table_free(struct lb_lpm_table *t);
size_t lb_lpm_table_bytes(const struct lb_lpm_table *t);
/* The value of the longest prefix covering ip, or LB_LPM_NONE. */
uint32_t lb_lpm_find(const struct lb_lpm_table *t, uint32_t ip);

#endif
