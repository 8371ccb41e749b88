/* compile.c: a packet word's read-back form (struct fth_op[]) to eBPF.
 *
 * One pass over the ops in order, calls inlined. The Forth stack lives in stack slots at
 * fixed offsets (cc.h), so its depth must be the same on every path into an op: forward
 * branches (IF ELSE THEN) record the depth at their target and a join checks it. Backward
 * branches (BEGIN ... UNTIL/AGAIN/REPEAT) are refused as unbounded; DO ... LOOP compiles
 * when its limit and start are compile-time constants (the verifier then proves it ends).
 * Every instruction carries the op it came from (bpfc_src), for the listing and for mapping
 * the verifier's complaint back to Forth. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include "bpf/cc.h"

int cc_emit(struct cc *c, struct bpf_insn in)
{
	struct bpfc_prog *p = c->p;
	if (c->err)
		return c->err;
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? 2 * p->cap : 256;
		struct bpf_insn *ni = realloc(p->insn, cap * sizeof(*ni));
		if (ni)
			p->insn = ni;
		struct bpfc_src *ns = realloc(p->src, cap * sizeof(*ns));
		if (ns)
			p->src = ns;
		if (!ni || !ns)
			return c->err = -ENOMEM;
		p->cap = cap;
	}
	p->src[p->n] = c->cur;
	p->insn[p->n++] = in;
	return 0;
}

int cc_label(struct cc *c)
{
	if (c->nlabels == MAX_LABELS) {
		cc_fail(c, "too many branches");
		return 0;
	}
	c->label[c->nlabels] = UINT32_MAX;
	return c->nlabels++;
}

void cc_place(struct cc *c, int label)
{
	c->label[label] = c->p->n;
}

int cc_jmp(struct cc *c, struct bpf_insn in, int label)
{
	if (c->nfix == c->capfix) {
		int cap = c->capfix ? 2 * c->capfix : 64;
		void *nf = realloc(c->fix, (size_t)cap * sizeof(*c->fix));
		if (!nf)
			return c->err = -ENOMEM;
		c->fix = nf;
		c->capfix = cap;
	}
	c->fix[c->nfix].insn = c->p->n;
	c->fix[c->nfix++].label = label;
	return cc_emit(c, in);
}

static const char *word_name(afd_vm *vm, afd_cell xt)
{
	return fth_xt_ok(vm, xt) && vm->words[xt].name ? vm->words[xt].name : "?";
}

/* "file:line:col: WORD: reason" for the op being compiled; the error code is -EINVAL. */
int cc_fail(struct cc *c, const char *fmt, ...)
{
	if (c->err)
		return c->err;
	struct bpfc_prog *p = c->p;
	int n = snprintf(p->err, sizeof(p->err), "%s:%u:%u: %s: ",
			 c->cur.file < c->vm->nfiles ? c->vm->files[c->cur.file] : "?",
			 c->cur.line, c->cur.col, word_name(c->vm, c->cur.xt));
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(p->err))
		vsnprintf(p->err + n, sizeof(p->err) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = strlen(p->err);
	if (c->inl > 1)		/* inlined: say which packet word pulled it in */
		snprintf(p->err + len, sizeof(p->err) - len, " (in %s, inlined)",
			 word_name(c->vm, c->callers[0]));
	return c->err = -EINVAL;
}

int cc_peek(struct cc *c, int reg, int from_top)
{
	if (c->depth - 1 - from_top < 0)
		return cc_fail(c, "stack underflow (depth %d)", c->depth);
	return cc_emit(c, LDX(BPF_DW, reg, R10, SLOT(c->depth - 1 - from_top)));
}

int cc_push(struct cc *c, int reg)
{
	if (c->err)
		return c->err;	/* the depth may be off after an underflow */
	if (c->depth >= MAX_DEPTH)
		return cc_fail(c, "stack deeper than the BPF frame allows (%d items)", MAX_DEPTH);
	c->known[c->depth] = false;
	return cc_emit(c, STX(BPF_DW, R10, reg, SLOT(c->depth++)));
}

int cc_pop(struct cc *c, int reg)
{
	int err = cc_peek(c, reg, 0);
	if (!err)
		c->depth--;
	return err;
}

int cc_push_const(struct cc *c, afd_cell v)
{
	int err;
	if (c->err)
		return c->err;
	if (v == (int32_t)v) {
		if (c->depth >= MAX_DEPTH)
			return cc_fail(c, "stack deeper than the BPF frame allows (%d items)", MAX_DEPTH);
		err = cc_emit(c, ST_K(BPF_DW, R10, SLOT(c->depth), (int32_t)v));
		c->depth++;
	} else {
		cc_emit(c, BI(BPF_LD | BPF_DW | BPF_IMM, R1, 0, 0, (int32_t)(uint32_t)v));
		cc_emit(c, BI(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)v >> 32)));
		err = cc_push(c, R1);
	}
	if (!err) {
		c->known[c->depth - 1] = true;
		c->kval[c->depth - 1] = v;
	}
	return err;
}

/* ---- primitives ---- */

/* r1 = second, r2 = top; r1 op= r2; one item left */
static int binop(struct cc *c, int op)
{
	cc_peek(c, R1, 1);
	cc_peek(c, R2, 0);
	cc_emit(c, ALU_X(op, R1, R2));
	if (c->err)
		return c->err;
	c->depth -= 2;
	return cc_push(c, R1);
}

/* flag = second jop top (r1 jop r2), or x jop k for the 0-comparisons */
static int compare(struct cc *c, int jop, bool with_zero)
{
	if (with_zero) {
		cc_pop(c, R1);
		cc_emit(c, MOV_K(R0, -1));
		cc_emit(c, JMP_K(jop, R1, 0, 1));
	} else {
		cc_peek(c, R1, 1);
		cc_peek(c, R2, 0);
		if (c->err)
			return c->err;
		c->depth -= 2;
		cc_emit(c, MOV_K(R0, -1));
		cc_emit(c, JMP_X(jop, R1, R2, 1));
	}
	cc_emit(c, MOV_K(R0, 0));
	return cc_push(c, R0);
}

/* Reorder the top n items: out[i] names the old item (from the top) that becomes item i
 * from the top of the result, of m items. */
static int shuffle(struct cc *c, int n, int m, const int *out)
{
	static const int regs[] = { R0, R1, R2, R3, R4, R5 };
	for (int i = 0; i < n; i++)
		cc_peek(c, regs[i], i);
	if (c->err)
		return c->err;
	bool kn[6];
	afd_cell kv[6];
	for (int i = 0; i < n; i++) {
		kn[i] = c->known[c->depth - 1 - i];
		kv[i] = c->kval[c->depth - 1 - i];
	}
	c->depth -= n;
	for (int i = m - 1; i >= 0; i--) {
		cc_push(c, regs[out[i]]);
		if (!c->err) {
			c->known[c->depth - 1] = kn[out[i]];
			c->kval[c->depth - 1] = kv[out[i]];
		}
	}
	return c->err;
}

static int loop_index(struct cc *c, int level)
{
	if (level < 0)
		return cc_fail(c, "I or J outside a DO loop");
	cc_emit(c, LDX(BPF_DW, R1, R10, (int16_t)(SLOT_LOOP - 8 * level)));
	return cc_push(c, R1);
}

static int prim(struct cc *c, int id)
{
	switch (id) {
	case PRIM_DUP: return shuffle(c, 1, 2, (const int[]){ 0, 0 });
	case PRIM_DROP: return shuffle(c, 1, 0, NULL);
	case PRIM_SWAP: return shuffle(c, 2, 2, (const int[]){ 1, 0 });
	case PRIM_OVER: return shuffle(c, 2, 3, (const int[]){ 1, 0, 1 });
	case PRIM_ROT: return shuffle(c, 3, 3, (const int[]){ 2, 0, 1 });
	case PRIM_MROT: return shuffle(c, 3, 3, (const int[]){ 1, 2, 0 });
	case PRIM_NIP: return shuffle(c, 2, 1, (const int[]){ 0 });
	case PRIM_TUCK: return shuffle(c, 2, 3, (const int[]){ 0, 1, 0 });
	case PRIM_TWODUP: return shuffle(c, 2, 4, (const int[]){ 0, 1, 0, 1 });
	case PRIM_TWODROP: return shuffle(c, 2, 0, NULL);
	case PRIM_TWOSWAP: return shuffle(c, 4, 4, (const int[]){ 2, 3, 0, 1 });
	case PRIM_TWOOVER: return shuffle(c, 4, 6, (const int[]){ 2, 3, 0, 1, 2, 3 });
	case PRIM_PLUS: return binop(c, BPF_ADD);
	case PRIM_MINUS: return binop(c, BPF_SUB);
	case PRIM_STAR: return binop(c, BPF_MUL);
	case PRIM_AND: return binop(c, BPF_AND);
	case PRIM_OR: return binop(c, BPF_OR);
	case PRIM_XOR: return binop(c, BPF_XOR);
	case PRIM_LSHIFT: return binop(c, BPF_LSH);
	case PRIM_RSHIFT: return binop(c, BPF_RSH);
	case PRIM_NEGATE: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_NEG, R1, 0)); return cc_push(c, R1);
	case PRIM_INVERT: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_XOR, R1, -1)); return cc_push(c, R1);
	case PRIM_ONEP: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_ADD, R1, 1)); return cc_push(c, R1);
	case PRIM_ONEM: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_SUB, R1, 1)); return cc_push(c, R1);
	case PRIM_TWOSTAR: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_LSH, R1, 1)); return cc_push(c, R1);
	case PRIM_TWOSLASH: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_ARSH, R1, 1)); return cc_push(c, R1);
	case PRIM_CELLS: cc_pop(c, R1); cc_emit(c, ALU_K(BPF_LSH, R1, 3)); return cc_push(c, R1);
	case PRIM_CHARS: return 0;
	case PRIM_EQ: return compare(c, BPF_JEQ, false);
	case PRIM_NE: return compare(c, BPF_JNE, false);
	case PRIM_LT: return compare(c, BPF_JSLT, false);
	case PRIM_GT: return compare(c, BPF_JSGT, false);
	case PRIM_ULT: return compare(c, BPF_JLT, false);
	case PRIM_UGT: return compare(c, BPF_JGT, false);
	case PRIM_ZEQ: return compare(c, BPF_JEQ, true);
	case PRIM_ZNE: return compare(c, BPF_JNE, true);
	case PRIM_ZLT: return compare(c, BPF_JSLT, true);
	case PRIM_ZGT: return compare(c, BPF_JSGT, true);
	case PRIM_I: return loop_index(c, c->loops - 1);
	case PRIM_J: return loop_index(c, c->loops - 2);
	case PRIM_FETCH: case PRIM_STORE: case PRIM_CFETCH: case PRIM_CSTORE: case PRIM_PSTORE:
	case PRIM_TWOFETCH: case PRIM_TWOSTORE: case PRIM_CNT:
		return cc_fail(c, "%s: the data space is not reachable from eBPF (dictionary access)",
			       fth_prims[id].name);
	case PRIM_EXECUTE: case PRIM_CATCH: case PRIM_THROW:
		return cc_fail(c, "%s: no indirect calls or exceptions in eBPF", fth_prims[id].name);
	default:
		return cc_fail(c, "%s: this primitive does not compile to eBPF", fth_prims[id].name);
	}
}

/* ---- words ---- */

struct wstate {			/* one word being compiled (inlined or the packet word) */
	afd_cell xt;
	const struct fth_op *ops;
	uint32_t nops;
	int *depth_at;		/* depth recorded by a forward branch to op i, -1 none */
	int *label_at;		/* label of op i, -1 until a branch wants it */
	int exit_label, exit_depth;
	bool top;		/* the packet word itself: EXIT returns the verdict */
	bool live;		/* the current op can be reached by falling through */
};

static int op_label(struct cc *c, struct wstate *w, uint32_t t)
{
	if (w->label_at[t] < 0)
		w->label_at[t] = cc_label(c);
	return w->label_at[t];
}

/* A forward branch to op t from here, the depth being what it is now. */
static int branch_to(struct cc *c, struct wstate *w, uint32_t i, uint32_t t, struct bpf_insn j)
{
	if (t <= i)
		return cc_fail(c, "unbounded loop (BEGIN ... UNTIL/AGAIN/REPEAT): eBPF needs loops "
			       "with known bounds (DO ... LOOP over constants)");
	if (t > w->nops)
		return cc_fail(c, "branch out of the word");
	if (w->depth_at[t] >= 0 && w->depth_at[t] != c->depth)
		return cc_fail(c, "stack depth differs where paths join (%d and %d)",
			       w->depth_at[t], c->depth);
	w->depth_at[t] = c->depth;
	return cc_jmp(c, j, op_label(c, w, t));
}

static int do_exit(struct cc *c, struct wstate *w)
{
	if (c->loops)
		return cc_fail(c, "EXIT inside DO ... LOOP (use UNLOOP first: not supported)");
	if (w->top) {
		if (c->depth != 1)
			return cc_fail(c, "a packet word leaves exactly one verdict (depth %d at exit)",
				       c->depth);
		cc_peek(c, R0, 0);
		return cc_emit(c, EXIT_INSN());
	}
	if (w->exit_depth >= 0 && w->exit_depth != c->depth)
		return cc_fail(c, "the word exits with different depths (%d and %d)", w->exit_depth,
			       c->depth);
	w->exit_depth = c->depth;
	return cc_jmp(c, JA(0), w->exit_label);
}

static int do_do(struct cc *c, struct wstate *w, uint32_t i, const struct fth_op *op)
{
	if (c->depth < 2)
		return cc_fail(c, "DO: stack underflow");
	if (!c->known[c->depth - 1] || !c->known[c->depth - 2])
		return cc_fail(c, "DO: the limit and start must be constants for the verifier to "
			       "bound the loop");
	if (c->loops == MAX_LOOPS)
		return cc_fail(c, "DO loops nested deeper than %d", MAX_LOOPS);
	afd_cell start = c->kval[c->depth - 1], limit = c->kval[c->depth - 2];
	c->depth -= 2;
	if (start >= limit && op->kind == OP_DO)
		return cc_fail(c, "DO from %lld to %lld would run 2^64 times",
			       (long long)start, (long long)limit);
	if (limit - start > 1024)
		return cc_fail(c, "DO loop of %lld iterations: at most 1024", (long long)(limit - start));
	if (start >= limit) {	/* ?DO with nothing to do: straight past the loop */
		branch_to(c, w, i, (uint32_t)op->arg, JA(0));
		w->live = false;
		return c->err;
	}
	c->loop_limit[c->loops] = limit;
	cc_emit(c, MOV_K(R1, (int32_t)start));
	cc_emit(c, STX(BPF_DW, R10, R1, (int16_t)(SLOT_LOOP - 8 * c->loops)));
	c->loops++;
	return c->err;
}

/* LOOP: the index goes up by one and the body runs again below the limit. */
static int do_loop(struct cc *c, struct wstate *w, uint32_t body)
{
	int lv = c->loops - 1;
	if (lv < 0)
		return cc_fail(c, "LOOP without DO");
	if (w->depth_at[body] != c->depth)
		return cc_fail(c, "the loop body changes the stack depth (%d to %d)",
			       w->depth_at[body], c->depth);
	int16_t slot = (int16_t)(SLOT_LOOP - 8 * lv);
	cc_emit(c, LDX(BPF_DW, R1, R10, slot));
	cc_emit(c, ALU_K(BPF_ADD, R1, 1));
	cc_emit(c, STX(BPF_DW, R10, R1, slot));
	cc_jmp(c, JMP_K(BPF_JSLT, R1, (int32_t)c->loop_limit[lv], 0), op_label(c, w, body));
	c->loops--;
	return c->err;
}

static int compile_word(struct cc *c, afd_cell xt, bool top);

static int call(struct cc *c, afd_cell xt)
{
	afd_vm *vm = c->vm;
	if (!fth_xt_ok(vm, xt))
		return cc_fail(c, "call of an unknown word");
	struct fth_word *w = &vm->words[xt];
	void *arg;
	bpfc_emit_fn emit = bpfc_packet_emitter(c->ctx, xt, &arg);
	if (emit)
		return emit(c, arg);
	switch (w->kind) {
	case WK_CONST:
		return cc_push_const(c, w->pfa);
	case WK_COLON:
		for (int k = 0; k < c->inl; k++)
			if (c->callers[k] == xt)
				return cc_fail(c, "%s: recursion does not compile to eBPF", w->name);
		if (c->inl == MAX_INLINE)
			return cc_fail(c, "%s: calls nested deeper than %d", w->name, MAX_INLINE);
		return compile_word(c, xt, false);
	case WK_CREATE: case WK_VALUE: case WK_DOES: case WK_DEFER:
		return cc_fail(c, "%s: the data space is not reachable from eBPF (dictionary access)",
			       w->name);
	default:
		return cc_fail(c, "%s: a C word that has no eBPF form (I/O or host state)", w->name);
	}
}

static int op(struct cc *c, struct wstate *w, uint32_t i)
{
	const struct fth_op *o = &w->ops[i];
	switch (o->kind) {
	case OP_PRIM: return prim(c, (int)o->arg);
	case OP_CALL: return call(c, o->arg);
	case OP_LIT: return cc_push_const(c, o->arg);
	case OP_BRANCH:
		branch_to(c, w, i, (uint32_t)o->arg, JA(0));
		w->live = false;
		return c->err;
	case OP_0BRANCH:
		cc_pop(c, R1);
		return branch_to(c, w, i, (uint32_t)o->arg, JMP_K(BPF_JEQ, R1, 0, 0));
	case OP_DO: case OP_QDO: return do_do(c, w, i, o);
	case OP_LOOP: return do_loop(c, w, (uint32_t)o->arg);
	case OP_PLOOP: return cc_fail(c, "+LOOP does not compile to eBPF yet (use LOOP)");
	case OP_LEAVE: return cc_fail(c, "LEAVE does not compile to eBPF yet");
	case OP_EXIT:
		do_exit(c, w);
		w->live = false;
		return c->err;
	case OP_VALUE: case OP_TOVALUE:
		return cc_fail(c, "VALUE: the data space is not reachable from eBPF (dictionary access)");
	default:
		return cc_fail(c, "DOES> does not compile to eBPF");
	}
}

/* Falling into op i, or jumped to it: the depths must agree; constants are forgotten at a join. */
static void join(struct cc *c, struct wstate *w, uint32_t i)
{
	if (w->depth_at[i] < 0)
		return;
	if (w->live && w->depth_at[i] != c->depth) {
		cc_fail(c, "stack depth differs where paths join (%d and %d)", w->depth_at[i], c->depth);
		return;
	}
	c->depth = w->depth_at[i];
	for (int k = 0; k < c->depth; k++)
		c->known[k] = false;
	w->live = true;
}

static int compile_word(struct cc *c, afd_cell xt, bool top)
{
	struct fth_word *fw = &c->vm->words[xt];
	if (!fw->ops || fw->kind != WK_COLON)
		return cc_fail(c, "%s: not a colon definition", fw->name);
	struct wstate w = { .xt = xt, .ops = fw->ops, .nops = fw->nops, .top = top, .live = true,
			    .exit_depth = -1 };
	w.depth_at = malloc((w.nops + 1) * sizeof(int));
	w.label_at = malloc((w.nops + 1) * sizeof(int));
	if (!w.depth_at || !w.label_at) {
		free(w.depth_at);
		free(w.label_at);
		return c->err = -ENOMEM;
	}
	for (uint32_t i = 0; i <= w.nops; i++)
		w.depth_at[i] = w.label_at[i] = -1;
	w.exit_label = cc_label(c);
	struct bpfc_src saved = c->cur;
	c->callers[c->inl++] = xt;
	for (uint32_t i = 0; i < w.nops && !c->err; i++) {
		const struct fth_op *o = &w.ops[i];
		c->cur = (struct bpfc_src){ xt, i, o->file, o->line, o->col, (uint8_t)(c->inl - 1) };
		join(c, &w, i);
		if (w.label_at[i] >= 0)
			cc_place(c, w.label_at[i]);
		if (!w.live)
			continue;	/* after EXIT or ELSE's branch, nothing jumps here */
		if (o->kind == OP_LOOP || o->kind == OP_PLOOP) {	/* body starts after DO */
			uint32_t b = (uint32_t)o->arg;
			if (b <= w.nops && w.label_at[b] < 0)
				cc_fail(c, "internal: loop body not labelled");
		}
		if (o->kind == OP_DO || o->kind == OP_QDO) {
			op(c, &w, i);
			if (!c->err && c->loops && i + 1 <= w.nops) {
				w.depth_at[i + 1] = c->depth;	/* LOOP checks it */
				op_label(c, &w, i + 1);
			}
			continue;
		}
		op(c, &w, i);
	}
	c->cur = saved;
	c->inl--;
	if (!c->err && w.label_at[w.nops] >= 0)
		cc_place(c, w.label_at[w.nops]);
	if (!c->err && !top) {
		if (w.depth_at[w.nops] >= 0 && w.exit_depth >= 0 && w.depth_at[w.nops] != w.exit_depth)
			cc_fail(c, "%s exits with different depths", fw->name);
		cc_place(c, w.exit_label);
		if (w.exit_depth >= 0)
			c->depth = w.exit_depth;
		for (int k = 0; k < c->depth; k++)
			c->known[k] = false;
	} else if (!c->err && top && w.live) {
		cc_fail(c, "%s: falls off its end without EXIT", fw->name);
	}
	free(w.depth_at);
	free(w.label_at);
	return c->err;
}

static int resolve(struct cc *c)
{
	for (int i = 0; i < c->nfix && !c->err; i++) {
		uint32_t at = c->fix[i].insn, to = c->label[c->fix[i].label];
		if (to == UINT32_MAX)
			return cc_fail(c, "internal: a branch to nowhere");
		int64_t off = (int64_t)to - (int64_t)at - 1;
		if (off != (int16_t)off)
			return cc_fail(c, "branch too far for eBPF");
		c->p->insn[at].off = (int16_t)off;
	}
	return c->err;
}

int bpfc_compile(afd_vm *vm, struct bpfc_ctx *ctx, afd_cell xt, struct bpfc_prog *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->xt = xt;
	struct cc *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->ctx = ctx;
	c->p = p;
	c->cur = (struct bpfc_src){ xt, UINT32_MAX, 0, 0, 0, 0 };
	if (!fth_xt_ok(vm, xt))
		cc_fail(c, "not a word");
	else
		c->cur.file = vm->words[xt].file, c->cur.line = vm->words[xt].line;
	int err = c->err;
	err = err ? : bpfc_emit_prologue(c);
	err = err ? : compile_word(c, xt, true);
	err = err ? : resolve(c);
	free(c->fix);
	free(c);
	return err;
}

void bpfc_prog_free(struct bpfc_prog *p)
{
	free(p->insn);
	free(p->src);
	free(p->log);
	p->insn = NULL;
	p->src = NULL;
	p->log = NULL;
}
