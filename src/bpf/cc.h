/* cc.h: what the compiler (compile.c) and the packet vocabulary's emitters (packet.c) share.
 *
 * Frame (r10 = frame pointer, 512 bytes below it):
 *   r10-8   l4 protocol (6, 17, 1, 58) once its header is in the packet, else 0
 *   r10-16  l3 offset   r10-24 l4 offset   r10-32 family (4, 6 or 0)
 *   r10-40 .. r10-64    DO loop indices, one per nesting level (4 levels)
 *   r10-72 - 8k         Forth stack item k (k = 0 is the bottom): depth is static
 * Registers: r6 = ctx, r7 = packet start, r8 = packet end (kept across the program; no
 * helper that moves the packet is called); r0-r5 scratch within one op. */
#ifndef AFD_BPF_CC_H
#define AFD_BPF_CC_H

#include "bpf/bpfc.h"
#include "bpf/insn.h"
#include "forth/vm.h"

enum {
	SLOT_PROTO = -8, SLOT_L3 = -16, SLOT_L4 = -24, SLOT_FAM = -32,
	SLOT_LOOP = -40,	/* level k at -40 - 8k */
	MAX_LOOPS = 4,
	SLOT_STACK = -72,
	MAX_DEPTH = (512 + SLOT_STACK) / 8 + 1,
	MAX_INLINE = 16,
	MAX_LABELS = 4096,
};
#define SLOT(k) ((int16_t)(SLOT_STACK - 8 * (k)))

struct cc {
	afd_vm *vm;
	struct bpfc_ctx *ctx;
	struct bpfc_prog *p;
	struct bpfc_src cur;	/* stamped on each instruction emitted */
	int depth;		/* static stack depth */
	bool known[MAX_DEPTH];	/* item k holds a compile-time constant kval[k] */
	afd_cell kval[MAX_DEPTH];
	int loops;		/* DO nesting */
	afd_cell loop_limit[MAX_LOOPS];
	int inl;		/* inlining depth */
	afd_cell callers[MAX_INLINE];
	uint32_t label[MAX_LABELS];	/* instruction index, UINT32_MAX until placed */
	int nlabels;
	struct { uint32_t insn; int label; } *fix;
	int nfix, capfix;
	int err;
};

int cc_emit(struct cc *c, struct bpf_insn in);
int cc_label(struct cc *c);			/* a new label, not placed yet */
void cc_place(struct cc *c, int label);		/* here */
int cc_jmp(struct cc *c, struct bpf_insn in, int label);	/* a jump, patched later */
int cc_fail(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stack items: load item (depth - 1 - from_top) into reg; push reg; pop into reg. */
int cc_peek(struct cc *c, int reg, int from_top);
int cc_push(struct cc *c, int reg);
int cc_pop(struct cc *c, int reg);
int cc_push_const(struct cc *c, afd_cell v);

/* packet.c: the emitter of a packet word, NULL if xt is none */
typedef int (*bpfc_emit_fn)(struct cc *c, void *arg);
bpfc_emit_fn bpfc_packet_emitter(struct bpfc_ctx *ctx, afd_cell xt, void **arg);
int bpfc_emit_prologue(struct cc *c);

#endif
