/* hash.c: lb_hash, the 64-bit seeded hash of request keys and backend addresses.
 *
 * The mixing step is the folded multiply of the wyhash family: the 128-bit product of two
 * 64-bit words with its halves xored, which spreads every bit of both operands over the
 * result in one multiply. Input goes 16 bytes per step; what is left (1 to 16 bytes) is read
 * as two possibly overlapping words that together cover every byte, so the usual keys (an
 * IPv4 address, an ip:port) cost one step and one final mix. The length enters the final
 * mix, so inputs that only differ by trailing zero bytes still hash apart. The seed must be
 * secret where keys come from clients: like any fast hash, it is not collision-proof against
 * someone who knows the seed. */
#include <endian.h>
#include <string.h>
#include "priv.h"

#define P0 0xa0761d6478bd642full
#define P1 0xe7037ed1a0b428dbull
#define P2 0x8ebc6af09c88c6e3ull
#define P3 0x589965cc75374cc3ull

static inline uint64_t fold(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Little-endian reads, so a key hashes the same on every host. */
static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline uint64_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

/* The last 0 to 16 bytes as two words, each byte read at least once. */
static void tail(const uint8_t *p, size_t n, uint64_t *a, uint64_t *b)
{
	if (n >= 8) {
		*a = rd64(p);
		*b = rd64(p + n - 8);
	} else if (n >= 4) {
		*a = rd32(p);
		*b = rd32(p + n - 4);
	} else if (n) {
		*a = (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1];
		*b = 0;
	} else {
		*a = *b = 0;
	}
}

uint64_t lb_hash(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ fold(seed ^ P0, P1), a, b;
	size_t n = len;
	for (; n > 16; p += 16, n -= 16)
		h = fold(rd64(p) ^ P1, rd64(p + 8) ^ h);
	tail(p, n, &a, &b);
	h = fold(a ^ P1, b ^ h);
	return fold(h ^ P2, (uint64_t)len ^ P3);
}

uint64_t lb_backend_hash(const struct lb_backend *b, uint64_t seed)
{
	uint8_t addr[6] = { b->ip >> 24, b->ip >> 16, b->ip >> 8, b->ip, b->port >> 8, b->port };
	return lb_hash(addr, sizeof(addr), seed);
}
