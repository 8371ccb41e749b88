/* threaded.c: the read-back form of a colon definition -> direct-threaded code.
 * One pass decides how each op is encoded (fusing common sequences into superinstructions,
 * never across a branch target), a second lays the code down with branch targets resolved. */
#include <stdlib.h>
#include "vm.h"

/* An op that pushes a value known now: a literal, or a CREATE/CONSTANT word. */
static bool literal(afd_vm *vm, const struct fth_op *op, cell *v)
{
	if (op->kind == OP_LIT) {
		*v = op->arg;
		return true;
	}
	if (op->kind == OP_CALL) {
		const struct fth_word *w = &vm->words[op->arg];
		if (w->kind == WK_CREATE || w->kind == WK_CONST) {
			*v = w->pfa;
			return true;
		}
	}
	return false;
}

static bool prim(const struct fth_op *op, int p)
{
	return op->kind == OP_PRIM && op->arg == p;
}

/* The encoding chosen for the op at the start of a group. */
struct enc {
	int sup;	/* enum fth_super, or -1 */
	int len;	/* ops covered */
	int size;	/* code cells */
	cell a, b;	/* inline arguments (b: branch target op index) */
};

static const struct { int prim, sup, lsup; } compares[] = {
	{ PRIM_LT, SUP_BR_LT, SUP_LBR_LT }, { PRIM_GT, SUP_BR_GT, SUP_LBR_GT },
	{ PRIM_EQ, SUP_BR_EQ, SUP_LBR_EQ }, { PRIM_NE, SUP_BR_NE, SUP_LBR_NE },
	{ PRIM_ULT, SUP_BR_ULT, -1 }, { PRIM_UGT, SUP_BR_UGT, -1 },
	{ PRIM_ZEQ, SUP_BR_ZEQ, -1 }, { PRIM_ZLT, SUP_BR_ZLT, -1 }, { PRIM_ZGT, SUP_BR_ZGT, -1 },
};

static bool fuse(afd_vm *vm, const struct fth_op *o, uint32_t left, struct enc *e)
{
	cell v;
	if (left >= 4 && literal(vm, &o[0], &v) && prim(&o[1], PRIM_I) && prim(&o[2], PRIM_CELLS) &&
	    prim(&o[3], PRIM_PLUS)) {
		*e = (struct enc){ SUP_LITICELLSPLUS, 4, 2, v, 0 };
		return true;
	}
	if (left >= 3 && prim(&o[0], PRIM_I) && prim(&o[1], PRIM_CELLS) && prim(&o[2], PRIM_PLUS)) {
		*e = (struct enc){ SUP_ICELLSPLUS, 3, 1, 0, 0 };
		return true;
	}
	if (left >= 2 && literal(vm, &o[0], &v)) {
		static const struct { int prim, sup; } litops[] = {
			{ PRIM_PLUS, SUP_LITPLUS }, { PRIM_STAR, SUP_LITSTAR }, { PRIM_AND, SUP_LITAND },
			{ PRIM_FETCH, SUP_LITFETCH }, { PRIM_STORE, SUP_LITSTORE },
			{ PRIM_PSTORE, SUP_LITPSTORE },
		};
		for (size_t i = 0; i < sizeof(compares) / sizeof(*compares); i++)
			if (left >= 3 && compares[i].lsup >= 0 && prim(&o[1], compares[i].prim) &&
			    o[2].kind == OP_0BRANCH) {
				*e = (struct enc){ compares[i].lsup, 3, 3, v, o[2].arg };
				return true;
			}
		for (size_t i = 0; i < sizeof(litops) / sizeof(*litops); i++)
			if (prim(&o[1], litops[i].prim)) {
				*e = (struct enc){ litops[i].sup, 2, 2, v, 0 };
				return true;
			}
		if (prim(&o[1], PRIM_MINUS)) {
			*e = (struct enc){ SUP_LITPLUS, 2, 2, (cell)(0 - (ucell)v), 0 };
			return true;
		}
		return false;
	}
	if (left < 2)
		return false;
	if (prim(&o[0], PRIM_CELLS) && prim(&o[1], PRIM_PLUS)) {
		*e = (struct enc){ SUP_CELLSPLUS, 2, 1, 0, 0 };
		return true;
	}
	if (prim(&o[0], PRIM_DUP) && prim(&o[1], PRIM_FETCH)) {
		*e = (struct enc){ SUP_DUPFETCH, 2, 1, 0, 0 };
		return true;
	}
	if (o[1].kind != OP_0BRANCH)
		return false;
	if (prim(&o[0], PRIM_DUP)) {
		*e = (struct enc){ SUP_DUPBR, 2, 2, 0, o[1].arg };
		return true;
	}
	for (size_t i = 0; i < sizeof(compares) / sizeof(*compares); i++)
		if (prim(&o[0], compares[i].prim)) {
			*e = (struct enc){ compares[i].sup, 2, 2, 0, o[1].arg };
			return true;
		}
	return false;
}

static int plain_size(afd_vm *vm, const struct fth_op *op)
{
	switch (op->kind) {
	case OP_PRIM: case OP_DO: case OP_EXIT:
		return 1;
	case OP_CALL:
		return vm->words[op->arg].kind == WK_PRIM ? 1 : 2;
	case OP_DOES:
		return 3;
	default:
		return 2;
	}
}

static bool is_branch(int kind)
{
	return kind == OP_BRANCH || kind == OP_0BRANCH || kind == OP_QDO || kind == OP_LOOP ||
	       kind == OP_PLOOP || kind == OP_LEAVE || kind == OP_DOES;
}

static void emit_call(afd_vm *vm, cell **pc, cell xt)
{
	struct fth_word *w = &vm->words[xt];
	cell *c = *pc;
	switch (w->kind) {
	case WK_PRIM:
		*c++ = (cell)fth_labels()[w->pfa];
		break;
	case WK_CREATE: case WK_CONST:	/* their value never changes: a literal */
		*c++ = (cell)fth_label_lit;
		*c++ = w->pfa;
		break;
	case WK_VALUE:
		*c++ = (cell)fth_label_value;
		*c++ = w->pfa;
		break;
	default:			/* through the header, so a JIT swap is seen */
		*c++ = (cell)fth_label_call;
		*c++ = (cell)w;
		break;
	}
	*pc = c;
}

static void emit_plain(afd_vm *vm, cell **pc, const struct fth_op *op, cell *base,
		       const uint32_t *at)
{
	static void **const branch_labels[] = {
		[OP_BRANCH] = &fth_label_branch, [OP_0BRANCH] = &fth_label_0branch,
		[OP_QDO] = &fth_label_qdo, [OP_LOOP] = &fth_label_loop,
		[OP_PLOOP] = &fth_label_ploop, [OP_LEAVE] = &fth_label_leave,
	};
	cell *c = *pc;
	switch (op->kind) {
	case OP_PRIM: *c++ = (cell)fth_labels()[op->arg]; break;
	case OP_CALL: emit_call(vm, &c, op->arg); break;
	case OP_LIT: *c++ = (cell)fth_label_lit; *c++ = op->arg; break;
	case OP_DO: *c++ = (cell)fth_label_do; break;
	case OP_EXIT: *c++ = (cell)fth_label_exit; break;
	case OP_VALUE: *c++ = (cell)fth_label_value; *c++ = op->arg; break;
	case OP_TOVALUE: *c++ = (cell)fth_label_tovalue; *c++ = op->arg; break;
	case OP_DOES:
		*c++ = (cell)fth_label_does;
		*c++ = (cell)(base + at[op->arg]);
		*c++ = vm->defining;
		break;
	default:
		*c++ = (cell)*branch_labels[op->kind];
		*c++ = (cell)(base + at[op->arg]);
		break;
	}
	*pc = c;
}

int fth_translate(afd_vm *vm, struct fth_word *w, const struct fth_op *ops, uint32_t n)
{
	struct enc *enc = calloc(n + 1, sizeof(*enc));
	uint32_t *at = calloc(n + 1, sizeof(*at));
	bool *target = calloc(n + 1, sizeof(*target));
	int err = -8;
	if (!enc || !at || !target)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (is_branch(ops[i].kind))
			target[ops[i].arg] = true;
	/* pass 1: encodings and code offsets; a group never swallows a branch target */
	uint32_t size = 0;
	for (uint32_t i = 0; i < n;) {
		struct enc e = { -1, 1, plain_size(vm, &ops[i]), 0, 0 };
		struct enc f;
		if (fuse(vm, &ops[i], n - i, &f)) {
			bool inner_target = false;
			for (int k = 1; k < f.len; k++)
				inner_target |= target[i + (uint32_t)k];
			if (!inner_target)
				e = f;
		}
		enc[i] = e;
		for (int k = 0; k < e.len; k++)
			at[i + k] = size;
		size += (uint32_t)e.size;
		i += (uint32_t)e.len;
	}
	at[n] = size;
	if (vm->codehere + size > vm->codelimit)
		goto out;
	/* pass 2: lay the code down */
	cell *base = vm->codehere, *c = base;
	void *const *sup = fth_super_labels();
	for (uint32_t i = 0; i < n; i += (uint32_t)enc[i].len) {
		const struct enc *e = &enc[i];
		if (e->sup < 0) {
			emit_plain(vm, &c, &ops[i], base, at);
			continue;
		}
		*c++ = (cell)sup[e->sup];
		switch (e->sup) {
		case SUP_CELLSPLUS: case SUP_ICELLSPLUS: case SUP_DUPFETCH:
			break;
		case SUP_LBR_LT: case SUP_LBR_GT: case SUP_LBR_EQ: case SUP_LBR_NE:
			*c++ = e->a;
			*c++ = (cell)(base + at[e->b]);
			break;
		case SUP_LITPLUS: case SUP_LITSTAR: case SUP_LITAND: case SUP_LITFETCH:
		case SUP_LITSTORE: case SUP_LITPSTORE: case SUP_LITICELLSPLUS:
			*c++ = e->a;
			break;
		default:	/* the compare-and-branch family */
			*c++ = (cell)(base + at[e->b]);
			break;
		}
	}
	vm->codehere = c;
	w->code = base;
	err = 0;
out:
	free(enc);
	free(at);
	free(target);
	return err;
}
