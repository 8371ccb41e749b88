/* packet.c: the packet vocabulary, twice: as C words the interpreter runs on a packet in the
 * data space (`packet ( c-addr u -- )` chooses it), and as eBPF emitters the compiler calls.
 * Both follow the same rules, so a differential test compares their verdicts:
 *   Ethernet, up to two VLAN tags (0x8100, 0x88a8), then IPv4 (version 4, IHL >= 5, options
 *   skipped; a fragment other than the first has no L4) or IPv6 (fixed header; extension
 *   headers not followed). The L4 protocol (TCP 6 with 20 bytes, UDP 17, ICMP 1, ICMPv6 58
 *   with 8) counts only when its header is wholly in the packet. Addresses: IPv4 only
 *   (as numbers, 10.0.0.1 = $0A000001), 0 otherwise; ports and flags 0 when absent. */
#include <errno.h>
#include <stdlib.h>
#include "bpf/cc.h"

struct pkt {			/* the interpreter's parse of the current packet */
	afd_cell addr, len;
	int fam, proto, l3, l4;
};

typedef int (*interp_fn)(afd_vm *vm, struct pkt *k, afd_cell arg);

struct pword {
	const char *name, *effect;
	interp_fn run;
	bpfc_emit_fn emit;
	afd_cell arg;
};

struct reg { afd_cell xt; const struct pword *pw; };

struct bpfc_ctx {
	struct pkt pkt;
	struct reg *regs;
	int nregs;
	struct call *cl;	/* the C words' contexts, one per pword */
};

struct call { struct bpfc_ctx *ctx; const struct pword *pw; };

/* ---- interpreted ---- */

static const uint8_t *bytes(afd_vm *vm, struct pkt *k)
{
	return k->len > 0 ? afd_mem(vm, k->addr, (size_t)k->len) : NULL;
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static int parse(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	k->fam = k->proto = k->l3 = k->l4 = 0;
	const uint8_t *p = bytes(vm, k);
	afd_cell n = k->len;
	if (!p || n < 14)
		return 0;
	unsigned et = be16(p + 12);
	int l3 = 14, l4, proto;
	for (int t = 1; t <= 2 && (et == 0x8100 || et == 0x88a8); t++) {
		if (n < 14 + 4 * t)
			return 0;
		et = be16(p + 12 + 4 * t);
		l3 = 14 + 4 * t;
	}
	if (et == 0x0800) {
		if (n < l3 + 20 || p[l3] >> 4 != 4 || (p[l3] & 15) < 5)
			return 0;
		k->fam = 4, k->l3 = l3;
		if (be16(p + l3 + 6) & 0x1fff)
			return 0;
		proto = p[l3 + 9];
		l4 = l3 + (p[l3] & 15) * 4;
	} else if (et == 0x86dd) {
		if (n < l3 + 40 || p[l3] >> 4 != 6)
			return 0;
		k->fam = 6, k->l3 = l3;
		proto = p[l3 + 6];
		l4 = l3 + 40;
	} else {
		return 0;
	}
	int need = proto == 6 ? 20 : proto == 17 || proto == 1 || proto == 58 ? 8 : -1;
	if (need > 0 && n >= l4 + need)
		k->proto = proto, k->l4 = l4;
	return 0;
}

static uint32_t load(afd_vm *vm, struct pkt *k, int off, int size)
{
	const uint8_t *p = bytes(vm, k);
	if (!p || off + size > k->len)
		return 0;
	uint32_t v = 0;
	for (int i = 0; i < size; i++)
		v = v << 8 | p[off + i];
	return v;
}

static int r_proto(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	return afd_push(vm, k->proto == arg ? -1 : 0);
}

static int r_addr(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	return afd_push(vm, k->fam == 4 ? load(vm, k, k->l3 + (int)arg, 4) : 0);
}

static int r_port(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	return afd_push(vm, k->proto == 6 || k->proto == 17 ? load(vm, k, k->l4 + (int)arg, 2) : 0);
}

static int r_flags(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	return afd_push(vm, k->proto == 6 ? load(vm, k, k->l4 + 13, 1) : 0);
}

/* packet-hash: the 5-tuple mixed in 32 bits; IPv6 addresses by their last 32 bits. */
#define GOLD 0x9E3779B1u
static uint32_t mix(uint32_t s, uint32_t d, uint32_t ports, uint32_t proto)
{
	return ((s * GOLD ^ d) * GOLD ^ ports) * GOLD ^ proto;
}

static int r_hash(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	int a = k->fam == 4 ? 12 : 20, len = k->fam == 4 ? 4 : 16;
	uint32_t s = k->fam ? load(vm, k, k->l3 + a, 4) : 0;
	uint32_t d = k->fam ? load(vm, k, k->l3 + a + len, 4) : 0;
	uint32_t ports = k->proto == 6 || k->proto == 17 ? load(vm, k, k->l4, 4) : 0;
	return afd_push(vm, k->fam ? mix(s, d, ports, (uint32_t)k->proto) : 0);
}

static int r_const(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	return afd_push(vm, arg);
}

static int r_and(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	afd_cell a, b;
	int err = afd_pop(vm, &b);
	err = err ? err : afd_pop(vm, &a);
	return err ? err : afd_push(vm, a & b);
}

static int r_packet(afd_vm *vm, struct pkt *k, afd_cell arg)
{
	afd_cell a, n;
	int err = afd_pop(vm, &n);
	err = err ? err : afd_pop(vm, &a);
	if (err)
		return err;
	if (n < 0 || (n && !afd_mem(vm, a, (size_t)n)))
		return -9;
	*k = (struct pkt){ .addr = a, .len = n };
	return 0;
}

/* ---- compiled ---- */

/* Zero the parse state: a packet word that asks before packet-parse sees no packet. */
int bpfc_emit_prologue(struct cc *c)
{
	cc_emit(c, MOV_X(R6, R1));
	cc_emit(c, LDX(BPF_W, R7, R6, 0));	/* xdp_md.data */
	cc_emit(c, LDX(BPF_W, R8, R6, 4));	/* xdp_md.data_end */
	cc_emit(c, MOV_K(R1, 0));
	for (int s = SLOT_PROTO; s >= SLOT_FAM; s -= 8)
		cc_emit(c, STX(BPF_DW, R10, R1, (int16_t)s));
	return c->err;
}

/* if r7 + reg_off + need > r8 goto fail; leaves r1 = r7 + reg_off */
static void bound(struct cc *c, int reg_off, int need, int fail)
{
	cc_emit(c, MOV_X(R1, R7));
	cc_emit(c, ALU_X(BPF_ADD, R1, reg_off));
	cc_emit(c, MOV_X(R2, R1));
	cc_emit(c, ALU_K(BPF_ADD, R2, need));
	cc_jmp(c, JMP_X(BPF_JGT, R2, R8, 0), fail);
}

static int e_parse(struct cc *c, void *arg)
{
	int done = cc_label(c), v4 = cc_label(c), v6 = cc_label(c), l4 = cc_label(c);
	cc_emit(c, MOV_K(R1, 0));
	for (int s = SLOT_PROTO; s >= SLOT_FAM; s -= 8)
		cc_emit(c, STX(BPF_DW, R10, R1, (int16_t)s));
	cc_emit(c, MOV_K(R3, 0));
	bound(c, R3, 14, done);
	cc_emit(c, LDX(BPF_H, R2, R7, 12));
	cc_emit(c, BE(R2, 16));
	cc_emit(c, MOV_K(R3, 14));
	for (int t = 1; t <= 2; t++) {
		int novlan = cc_label(c);
		cc_emit(c, JMP_K(BPF_JEQ, R2, 0x8100, 1));
		cc_jmp(c, JMP_K(BPF_JNE, R2, 0x88a8, 0), novlan);
		cc_emit(c, MOV_K(R3, 0));
		bound(c, R3, 14 + 4 * t, done);
		cc_emit(c, LDX(BPF_H, R2, R7, (int16_t)(12 + 4 * t)));
		cc_emit(c, BE(R2, 16));
		cc_emit(c, MOV_K(R3, 14 + 4 * t));
		cc_place(c, novlan);
	}
	cc_jmp(c, JMP_K(BPF_JEQ, R2, 0x0800, 0), v4);
	cc_jmp(c, JMP_K(BPF_JEQ, R2, 0x86dd, 0), v6);
	cc_jmp(c, JA(0), done);
	/* IPv4: r3 = l3 offset */
	cc_place(c, v4);
	bound(c, R3, 20, done);
	cc_emit(c, LDX(BPF_B, R4, R1, 0));
	cc_emit(c, MOV_X(R5, R4));
	cc_emit(c, ALU_K(BPF_RSH, R5, 4));
	cc_jmp(c, JMP_K(BPF_JNE, R5, 4, 0), done);
	cc_emit(c, ALU_K(BPF_AND, R4, 15));
	cc_jmp(c, JMP_K(BPF_JLT, R4, 5, 0), done);
	cc_emit(c, ALU_K(BPF_LSH, R4, 2));
	cc_emit(c, ST_K(BPF_DW, R10, SLOT_FAM, 4));
	cc_emit(c, STX(BPF_DW, R10, R3, SLOT_L3));
	cc_emit(c, LDX(BPF_H, R5, R1, 6));
	cc_emit(c, BE(R5, 16));
	cc_emit(c, ALU_K(BPF_AND, R5, 0x1fff));
	cc_jmp(c, JMP_K(BPF_JNE, R5, 0, 0), done);	/* a later fragment: no L4 header */
	cc_emit(c, LDX(BPF_B, R0, R1, 9));
	cc_emit(c, ALU_X(BPF_ADD, R4, R3));
	cc_jmp(c, JA(0), l4);
	/* IPv6 */
	cc_place(c, v6);
	bound(c, R3, 40, done);
	cc_emit(c, LDX(BPF_B, R4, R1, 0));
	cc_emit(c, ALU_K(BPF_RSH, R4, 4));
	cc_jmp(c, JMP_K(BPF_JNE, R4, 6, 0), done);
	cc_emit(c, ST_K(BPF_DW, R10, SLOT_FAM, 6));
	cc_emit(c, STX(BPF_DW, R10, R3, SLOT_L3));
	cc_emit(c, LDX(BPF_B, R0, R1, 6));
	cc_emit(c, MOV_X(R4, R3));
	cc_emit(c, ALU_K(BPF_ADD, R4, 40));
	/* L4: r0 = protocol, r4 = its offset */
	cc_place(c, l4);
	static const int protos[][2] = { { 6, 20 }, { 17, 8 }, { 1, 8 }, { 58, 8 } };
	for (int i = 0; i < 4; i++) {
		int next = cc_label(c);
		cc_jmp(c, JMP_K(BPF_JNE, R0, protos[i][0], 0), next);
		bound(c, R4, protos[i][1], done);
		cc_emit(c, STX(BPF_DW, R10, R0, SLOT_PROTO));
		cc_emit(c, STX(BPF_DW, R10, R4, SLOT_L4));
		cc_jmp(c, JA(0), done);
		cc_place(c, next);
	}
	cc_place(c, done);
	return c->err;
}

static int e_proto(struct cc *c, void *arg)
{
	const struct pword *pw = ((struct call *)arg)->pw;
	cc_emit(c, LDX(BPF_DW, R1, R10, SLOT_PROTO));
	cc_emit(c, MOV_K(R0, -1));
	cc_emit(c, JMP_K(BPF_JEQ, R1, (int32_t)pw->arg, 1));
	cc_emit(c, MOV_K(R0, 0));
	return cc_push(c, R0);
}

/* r0 = the size-byte big-endian field at off from the header whose offset is in slot, when
 * slot_k holds k (or k2), else 0; a bounds check the verifier sees comes first. */
static int field(struct cc *c, int16_t slot_k, int k, int k2, int16_t slot_off, int off,
		 int size, int need)
{
	int out = cc_label(c), ok = cc_label(c);
	static const int bsz[] = { [1] = BPF_B, [2] = BPF_H, [4] = BPF_W };
	cc_emit(c, MOV_K(R0, 0));
	cc_emit(c, LDX(BPF_DW, R1, R10, slot_k));
	cc_jmp(c, JMP_K(BPF_JEQ, R1, k, 0), ok);
	cc_jmp(c, JMP_K(BPF_JNE, R1, k2, 0), out);
	cc_place(c, ok);
	cc_emit(c, LDX(BPF_DW, R3, R10, slot_off));
	cc_emit(c, ALU_K(BPF_AND, R3, 0x3ff));	/* bounded for the verifier */
	bound(c, R3, need, out);
	cc_emit(c, LDX(bsz[size], R0, R1, (int16_t)off));
	if (size > 1)
		cc_emit(c, BE(R0, size * 8));
	cc_place(c, out);
	return cc_push(c, R0);
}

static int e_addr(struct cc *c, void *arg)
{
	int off = (int)((struct call *)arg)->pw->arg;
	return field(c, SLOT_FAM, 4, 4, SLOT_L3, off, 4, 20);
}

static int e_port(struct cc *c, void *arg)
{
	int off = (int)((struct call *)arg)->pw->arg;
	return field(c, SLOT_PROTO, 6, 17, SLOT_L4, off, 2, 8);
}

static int e_flags(struct cc *c, void *arg)
{
	return field(c, SLOT_PROTO, 6, 6, SLOT_L4, 13, 1, 20);
}

static int e_hash(struct cc *c, void *arg)
{
	field(c, SLOT_FAM, 4, 4, SLOT_L3, 12, 4, 20);	/* source */
	field(c, SLOT_FAM, 6, 6, SLOT_L3, 20, 4, 40);
	cc_pop(c, R2);
	cc_pop(c, R1);
	cc_emit(c, ALU_X(BPF_OR, R1, R2));
	cc_push(c, R1);
	field(c, SLOT_FAM, 4, 4, SLOT_L3, 16, 4, 20);	/* destination */
	field(c, SLOT_FAM, 6, 6, SLOT_L3, 36, 4, 40);
	cc_pop(c, R2);
	cc_pop(c, R1);
	cc_emit(c, ALU_X(BPF_OR, R1, R2));
	cc_push(c, R1);
	field(c, SLOT_PROTO, 6, 17, SLOT_L4, 0, 4, 8);	/* both ports */
	cc_pop(c, R3);
	cc_pop(c, R2);
	cc_pop(c, R1);
	cc_emit(c, ALU_K(BPF_MUL, R1, (int32_t)GOLD));
	cc_emit(c, ALU_X(BPF_XOR, R1, R2));
	cc_emit(c, ALU_K(BPF_MUL, R1, (int32_t)GOLD));
	cc_emit(c, ALU_X(BPF_XOR, R1, R3));
	cc_emit(c, ALU_K(BPF_MUL, R1, (int32_t)GOLD));
	cc_emit(c, LDX(BPF_DW, R2, R10, SLOT_PROTO));
	cc_emit(c, ALU_X(BPF_XOR, R1, R2));
	cc_emit(c, BI(BPF_ALU | BPF_MOV | BPF_X, R1, R1, 0, 0));	/* 32 bits, zero-extended */
	cc_emit(c, LDX(BPF_DW, R2, R10, SLOT_FAM));
	cc_emit(c, JMP_K(BPF_JNE, R2, 0, 1));
	cc_emit(c, MOV_K(R1, 0));
	return cc_push(c, R1);
}

static int e_const(struct cc *c, void *arg)
{
	return cc_push_const(c, ((struct call *)arg)->pw->arg);
}

static int e_and(struct cc *c, void *arg)
{
	cc_pop(c, R2);
	cc_pop(c, R1);
	cc_emit(c, ALU_X(BPF_AND, R1, R2));
	return cc_push(c, R1);
}

static const struct pword pwords[] = {
	{ "packet", "( c-addr u -- ) the packet the interpreted packet words read", r_packet, NULL, 0 },
	{ "packet-parse", "( -- ) find the headers of the packet", parse, e_parse, 0 },
	{ "tcp?", "( -- flag ) a whole TCP header", r_proto, e_proto, 6 },
	{ "udp?", "( -- flag ) a whole UDP header", r_proto, e_proto, 17 },
	{ "icmp?", "( -- flag ) a whole ICMP header", r_proto, e_proto, 1 },
	{ "src-ip", "( -- u ) IPv4 source address, 0 if none", r_addr, e_addr, 12 },
	{ "dst-ip", "( -- u ) IPv4 destination address, 0 if none", r_addr, e_addr, 16 },
	{ "src-port", "( -- u ) TCP/UDP source port, 0 if none", r_port, e_port, 0 },
	{ "dst-port", "( -- u ) TCP/UDP destination port, 0 if none", r_port, e_port, 2 },
	{ "tcp-flags", "( -- u ) the TCP flags byte, 0 if no TCP", r_flags, e_flags, 0 },
	{ "packet-hash", "( -- u ) the 5-tuple hashed to 32 bits, 0 without IP", r_hash, e_hash, 0 },
	{ "&", "( x1 x2 -- x3 ) and", r_and, e_and, 0 },
	{ "FIN", "( -- 1 )", r_const, e_const, 1 },
	{ "SYN", "( -- 2 )", r_const, e_const, 2 },
	{ "RST", "( -- 4 )", r_const, e_const, 4 },
	{ "ACK", "( -- 16 )", r_const, e_const, 16 },
	{ "XDP_ABORTED", "( -- 0 )", r_const, e_const, 0 },
	{ "XDP_DROP", "( -- 1 )", r_const, e_const, 1 },
	{ "XDP_PASS", "( -- 2 )", r_const, e_const, 2 },
	{ "XDP_TX", "( -- 3 )", r_const, e_const, 3 },
	{ "XDP_REDIRECT", "( -- 4 )", r_const, e_const, 4 },
	{ "NF_DROP", "( -- 0 )", r_const, e_const, 0 },
	{ "NF_ACCEPT", "( -- 1 )", r_const, e_const, 1 },
};
#define NPW ((int)(sizeof(pwords) / sizeof(*pwords)))


static int w_run(afd_vm *vm, void *cx)
{
	struct call *cl = cx;
	return cl->pw->run(vm, &cl->ctx->pkt, cl->pw->arg);
}

bpfc_emit_fn bpfc_packet_emitter(struct bpfc_ctx *ctx, afd_cell xt, void **arg)
{
	for (int i = 0; ctx && i < ctx->nregs; i++)
		if (ctx->regs[i].xt == xt) {
			const struct pword *pw = ctx->regs[i].pw;
			*arg = &ctx->cl[pw - pwords];
			return pw->emit;
		}
	return NULL;
}

int bpfc_register_tools(afd_vm *vm, struct bpfc_ctx *ctx);	/* words.c */

struct bpfc_ctx *bpfc_attach(afd_vm *vm)
{
	struct bpfc_ctx *ctx = calloc(1, sizeof(*ctx));
	struct call *cl = calloc(NPW, sizeof(*cl));
	if (ctx) {
		ctx->regs = calloc(NPW, sizeof(*ctx->regs));
		ctx->cl = cl;
	}
	if (!ctx || !cl || !ctx->regs) {
		if (!ctx)
			free(cl);
		bpfc_detach(ctx);
		return NULL;
	}
	for (int i = 0; i < NPW; i++) {
		cl[i] = (struct call){ ctx, &pwords[i] };
		afd_cell xt = afd_register(vm, pwords[i].name, pwords[i].effect, w_run, &cl[i]);
		if (xt < 0) {
			bpfc_detach(ctx);
			return NULL;
		}
		ctx->regs[ctx->nregs++] = (struct reg){ xt, &pwords[i] };
	}
	if (bpfc_register_tools(vm, ctx) < 0) {
		bpfc_detach(ctx);
		return NULL;
	}
	return ctx;
}

void bpfc_detach(struct bpfc_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->regs);
	free(ctx->cl);
	free(ctx);
}
