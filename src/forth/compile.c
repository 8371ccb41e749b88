/* compile.c: building colon definitions. A definition is compiled into its read-back form
 * (struct fth_op[], with source positions) and translated into threaded code at `;`.
 * Control-flow words leave tagged op indices on the data stack (the control-flow stack). */
#include <stdlib.h>
#include "vm.h"

#define CF_ORIG ((cell)0x0a1f0000 << 32)
#define CF_DEST ((cell)0x0a1e0000 << 32)
#define CF_MASK ((cell)(~(ucell)0 << 32))

int fth_unfinished(afd_vm *vm, void *ctx)
{
	return -21;	/* unsupported operation: the definition is not finished */
}

/* ---- building the read-back form ---- */
int fth_emit_op(afd_vm *vm, int kind, cell arg)
{
	if (vm->defining < 0)
		return -14;
	if (vm->nops == vm->capops) {
		uint32_t cap = vm->capops ? vm->capops * 2 : 64;
		struct fth_op *ops = realloc(vm->ops, cap * sizeof(*ops));
		if (!ops)
			return -8;
		vm->ops = ops;
		vm->capops = cap;
	}
	struct fth_op *op = &vm->ops[vm->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	op->file = vm->tokfile;
	op->line = vm->tokline;
	op->col = vm->tokcol;
	op->arg = arg;
	return 0;
}

int fth_compile_xt(afd_vm *vm, cell xt)
{
	if (!fth_xt_ok(vm, xt))
		return AFD_THROW_BAD_XT;
	if (vm->words[xt].kind == WK_PRIM)
		return fth_emit_op(vm, OP_PRIM, vm->words[xt].pfa);
	return fth_emit_op(vm, OP_CALL, xt);
}

int fth_begin_colon(afd_vm *vm, const char *name, size_t len, bool noname)
{
	if (vm->defining >= 0)
		return -29;
	if (!noname && len == 0)
		return -16;
	cell xt = fth_header(vm, name, len, WK_COLON);
	if (xt < 0)
		return (int)xt;
	if (!noname)
		vm->words[xt].flags |= WF_HIDDEN;
	/* executing it before ; (`[ latestxt execute ]`) must throw, not run NULL code */
	vm->words[xt].cfa = fth_kind_label(WK_CFUNC);
	vm->words[xt].cfn = fth_unfinished;
	vm->defining = xt;
	vm->nops = 0;
	vm->nleaves = 0;
	vm->last_string = -1;
	vm->sys->state = FTH_TRUE;
	return 0;
}

void fth_abandon_colon(afd_vm *vm)
{
	if (vm->defining < 0)
		return;
	/* The half-built word stays hidden and without code: drop it if it is the newest. */
	if (vm->defining == vm->nwords - 1 && vm->words[vm->defining].code == NULL) {
		free((void *)vm->words[vm->defining].name);
		free(vm->words[vm->defining].doc);
		vm->nwords--;
		vm->latest = vm->nwords - 1;
		cell keep = vm->nwords;
		fth_forget_to(vm, keep, vm->here, vm->codehere);
	}
	vm->defining = -1;
	vm->nops = 0;
	vm->nleaves = 0;
}

int fth_end_colon(afd_vm *vm)
{
	if (vm->defining < 0)
		return -14;
	for (uint32_t i = 0; i < vm->nops; i++)
		if (vm->ops[i].arg < 0 && vm->ops[i].kind >= OP_BRANCH && vm->ops[i].kind <= OP_LEAVE &&
		    vm->ops[i].kind != OP_DO)
			return -22;	/* an IF, WHILE or LEAVE was never resolved */
	if (vm->nleaves)
		return -22;
	int err = fth_emit_op(vm, OP_EXIT, 0);
	if (err)
		return err;
	struct fth_word *w = &vm->words[vm->defining];
	struct fth_op *ops = malloc(vm->nops * sizeof(*ops));
	if (!ops)
		return -8;
	memcpy(ops, vm->ops, vm->nops * sizeof(*ops));
	if ((err = fth_translate(vm, w, ops, vm->nops))) {
		free(ops);
		return err;
	}
	w->ops = ops;
	w->nops = vm->nops;
	__atomic_store_n(&w->cfa, fth_kind_label(WK_COLON), __ATOMIC_RELEASE);
	fth_reveal(vm, vm->defining);
	vm->latest = vm->defining;
	vm->defining = -1;
	vm->nops = 0;
	vm->sys->state = 0;
	return 0;
}

/* ---- the control-flow stack ---- */
static int cf_push(afd_vm *vm, cell tag, uint32_t idx)
{
	return fth_push(vm, tag | idx);
}

static int cf_pop(afd_vm *vm, cell tag, uint32_t *idx)
{
	cell v;
	int err = fth_pop(vm, &v);
	if (err)
		return -22;
	if ((v & CF_MASK) != tag || (uint32_t)v > vm->nops)
		return -22;
	*idx = (uint32_t)v;
	if (tag == CF_ORIG && (*idx >= vm->nops || vm->ops[*idx].arg != -1))
		return -22;
	return 0;
}

static int need_def(afd_vm *vm)
{
	return vm->defining < 0 ? -14 : 0;
}

static int forward(afd_vm *vm, int kind)	/* ( -- orig ) */
{
	int err = need_def(vm);
	if (!err)
		err = cf_push(vm, CF_ORIG, vm->nops);
	return err ? err : fth_emit_op(vm, kind, -1);
}

static int p_if(afd_vm *vm, void *c) { return forward(vm, OP_0BRANCH); }
static int p_ahead(afd_vm *vm, void *c) { return forward(vm, OP_BRANCH); }

static int p_then(afd_vm *vm, void *c)	/* ( orig -- ) */
{
	uint32_t o;
	int err = need_def(vm);
	if (!err)
		err = cf_pop(vm, CF_ORIG, &o);
	if (!err)
		vm->ops[o].arg = vm->nops;
	return err;
}

static int p_else(afd_vm *vm, void *c)	/* ( orig1 -- orig2 ) */
{
	uint32_t o;
	int err = need_def(vm);
	if (!err)
		err = cf_pop(vm, CF_ORIG, &o);
	if (!err)
		err = forward(vm, OP_BRANCH);
	if (!err)
		vm->ops[o].arg = vm->nops;
	return err;
}

static int p_begin(afd_vm *vm, void *c)	/* ( -- dest ) */
{
	int err = need_def(vm);
	return err ? err : cf_push(vm, CF_DEST, vm->nops);
}

static int backward(afd_vm *vm, int kind)	/* ( dest -- ) */
{
	uint32_t d;
	int err = need_def(vm);
	if (!err)
		err = cf_pop(vm, CF_DEST, &d);
	return err ? err : fth_emit_op(vm, kind, d);
}

static int p_until(afd_vm *vm, void *c) { return backward(vm, OP_0BRANCH); }
static int p_again(afd_vm *vm, void *c) { return backward(vm, OP_BRANCH); }

static int p_while(afd_vm *vm, void *c)	/* ( dest -- orig dest ) */
{
	cell dest;
	int err = need_def(vm);
	if (!err)
		err = fth_pop(vm, &dest) ? -22 : 0;
	if (!err)
		err = forward(vm, OP_0BRANCH);
	return err ? err : fth_push(vm, dest);
}

static int p_repeat(afd_vm *vm, void *c)	/* ( orig dest -- ) */
{
	int err = p_again(vm, c);
	return err ? err : p_then(vm, c);
}

static int leave_push(afd_vm *vm, int32_t v)
{
	if (vm->nleaves == vm->capleaves) {
		uint32_t cap = vm->capleaves ? vm->capleaves * 2 : 32;
		int32_t *l = realloc(vm->leaves, cap * sizeof(*l));
		if (!l)
			return -8;
		vm->leaves = l;
		vm->capleaves = cap;
	}
	vm->leaves[vm->nleaves++] = v;
	return 0;
}

static int do_common(afd_vm *vm, int kind)	/* ( -- do-sys ) */
{
	int err = need_def(vm);
	if (!err)
		err = leave_push(vm, -1);
	if (!err && kind == OP_QDO)
		err = leave_push(vm, (int32_t)vm->nops);
	if (!err)
		err = fth_emit_op(vm, kind, kind == OP_QDO ? -1 : 0);
	return err ? err : cf_push(vm, CF_DEST, vm->nops);
}

static int p_do(afd_vm *vm, void *c) { return do_common(vm, OP_DO); }
static int p_qdo(afd_vm *vm, void *c) { return do_common(vm, OP_QDO); }

static int loop_common(afd_vm *vm, int kind)	/* ( do-sys -- ) */
{
	int err = backward(vm, kind);
	if (err)
		return err;
	for (;;) {
		if (vm->nleaves == 0)
			return -22;
		int32_t l = vm->leaves[--vm->nleaves];
		if (l < 0)
			return 0;
		vm->ops[l].arg = vm->nops;
	}
}

static int p_loop(afd_vm *vm, void *c) { return loop_common(vm, OP_LOOP); }
static int p_ploop(afd_vm *vm, void *c) { return loop_common(vm, OP_PLOOP); }

static int p_leave(afd_vm *vm, void *c)
{
	int err = need_def(vm);
	if (!err && vm->nleaves == 0)
		err = -22;
	if (!err)
		err = leave_push(vm, (int32_t)vm->nops);
	return err ? err : fth_emit_op(vm, OP_LEAVE, -1);
}

static int p_exit(afd_vm *vm, void *c) { return fth_emit_op(vm, OP_EXIT, 0); }

static int p_recurse(afd_vm *vm, void *c)
{
	return vm->defining < 0 ? -14 : fth_emit_op(vm, OP_CALL, vm->defining);
}

static int p_literal(afd_vm *vm, void *c)	/* ( x -- ) */
{
	cell x;
	int err = need_def(vm);
	if (!err)
		err = fth_pop(vm, &x);
	return err ? err : fth_emit_op(vm, OP_LIT, x);
}

static int p_compile_comma(afd_vm *vm, void *c)	/* ( xt -- ) */
{
	cell xt;
	int err = fth_pop(vm, &xt);
	return err ? err : fth_compile_xt(vm, xt);
}

static int parse_xt(afd_vm *vm, cell *xt)
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	if (n == 0)
		return -16;
	fth_mark_parsed(vm, s, n);
	*xt = fth_find(vm, s, n);
	return *xt <= 0 ? -13 : 0;
}

static int p_postpone(afd_vm *vm, void *c)
{
	cell xt;
	int err = need_def(vm);
	if (!err)
		err = parse_xt(vm, &xt);
	if (err)
		return err;
	if (vm->words[xt].flags & WF_IMMEDIATE)
		return fth_compile_xt(vm, xt);
	err = fth_emit_op(vm, OP_LIT, xt);
	return err ? err : fth_emit_op(vm, OP_CALL, vm->xt_compile_comma);
}

static int p_bracket_compile(afd_vm *vm, void *c)
{
	cell xt;
	int err = need_def(vm);
	if (!err)
		err = parse_xt(vm, &xt);
	return err ? err : fth_compile_xt(vm, xt);
}

static int p_bracket_tick(afd_vm *vm, void *c)	/* interpreted, as gforth: like ' */
{
	cell xt;
	int err = parse_xt(vm, &xt);
	if (err)
		return err;
	return vm->sys->state ? fth_emit_op(vm, OP_LIT, xt) : fth_push(vm, xt);
}

static int p_tick(afd_vm *vm, void *c)
{
	cell xt;
	int err = parse_xt(vm, &xt);
	return err ? err : fth_push(vm, xt);
}

static int p_does(afd_vm *vm, void *c)
{
	int err = need_def(vm);
	return err ? err : fth_emit_op(vm, OP_DOES, vm->nops + 1);
}

static int p_colon(afd_vm *vm, void *c)
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	return fth_begin_colon(vm, s, n, false);
}

static int p_noname(afd_vm *vm, void *c)
{
	int err = fth_begin_colon(vm, "", 0, true);
	return err ? err : fth_push(vm, vm->defining);
}

static int p_semicolon(afd_vm *vm, void *c) { return fth_end_colon(vm); }

/* (string-literal?) ( -- flag ) were the last ops compiled a "text" or S" literal? OF uses
 * it to compare strings. */
static int p_last_string(afd_vm *vm, void *c)
{
	bool yes = vm->defining >= 0 && vm->nops >= 2 && vm->last_string == (int64_t)vm->nops - 2;
	return fth_push(vm, FTH_FLAG(yes));
}

static int p_lbracket(afd_vm *vm, void *c)
{
	vm->sys->state = 0;
	return 0;
}

static int p_rbracket(afd_vm *vm, void *c)
{
	vm->sys->state = FTH_TRUE;
	return 0;
}

static int p_immediate(afd_vm *vm, void *c)
{
	if (vm->latest <= 0)
		return -13;
	vm->words[vm->latest].flags |= WF_IMMEDIATE;
	return 0;
}

/* ---- defining words ---- */
static int named(afd_vm *vm, int kind, cell *xt)
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	if (n == 0)
		return -16;
	*xt = fth_header(vm, s, n, kind);
	return *xt < 0 ? (int)*xt : 0;
}

static cell aligned(cell a) { return (a + 7) & ~(cell)7; }

static int p_create(afd_vm *vm, void *c)
{
	cell xt;
	vm->here = aligned(vm->here);
	int err = named(vm, WK_CREATE, &xt);
	if (!err)
		vm->words[xt].pfa = vm->here;
	return err;
}

static int p_variable(afd_vm *vm, void *c)
{
	int err = p_create(vm, c);
	return err ? err : fth_comma(vm, 0);
}

static int p_constant(afd_vm *vm, void *c)	/* ( x "name" -- ) */
{
	cell x, xt;
	int err = fth_pop(vm, &x);
	if (!err)
		err = named(vm, WK_CONST, &xt);
	if (!err)
		vm->words[xt].pfa = x;
	return err;
}

static int p_value(afd_vm *vm, void *c)	/* ( x "name" -- ) */
{
	cell x, xt;
	int err = fth_pop(vm, &x);
	vm->here = aligned(vm->here);
	if (!err)
		err = named(vm, WK_VALUE, &xt);
	if (!err)
		vm->words[xt].pfa = vm->here;
	return err ? err : fth_comma(vm, x);
}

static int p_defer(afd_vm *vm, void *c)
{
	cell xt;
	vm->here = aligned(vm->here);
	int err = named(vm, WK_DEFER, &xt);
	if (!err)
		vm->words[xt].pfa = vm->here;
	return err ? err : fth_comma(vm, 0);
}

static int p_to(afd_vm *vm, void *c)	/* ( x "name" -- ) */
{
	cell xt, x;
	int err = parse_xt(vm, &xt);
	if (err)
		return err;
	if (vm->words[xt].kind != WK_VALUE)
		return -32;
	if (vm->sys->state)
		return fth_emit_op(vm, OP_TOVALUE, vm->words[xt].pfa);
	if ((err = fth_pop(vm, &x)))
		return err;
	memcpy((void *)vm->words[xt].pfa, &x, sizeof(x));
	return 0;
}

static int p_body(afd_vm *vm, void *c)	/* ( xt -- a-addr ) */
{
	cell xt;
	int err = fth_pop(vm, &xt);
	if (err)
		return err;
	if (!fth_xt_ok(vm, xt))
		return AFD_THROW_BAD_XT;
	int k = vm->words[xt].kind;
	if (k != WK_CREATE && k != WK_DOES && k != WK_VALUE && k != WK_DEFER)
		return -31;
	return fth_push(vm, vm->words[xt].pfa);
}

static int p_defer_fetch(afd_vm *vm, void *c)	/* ( xt1 -- xt2 ) */
{
	cell xt;
	int err = fth_pop(vm, &xt);
	if (err)
		return err;
	if (!fth_xt_ok(vm, xt) || vm->words[xt].kind != WK_DEFER)
		return -32;
	return fth_push(vm, *(cell *)vm->words[xt].pfa);
}

static int p_defer_store(afd_vm *vm, void *c)	/* ( xt2 xt1 -- ) */
{
	cell xt, x;
	int err = fth_pop(vm, &xt);
	if (!err)
		err = fth_pop(vm, &x);
	if (err)
		return err;
	if (!fth_xt_ok(vm, xt) || vm->words[xt].kind != WK_DEFER)
		return -32;
	if (!fth_xt_ok(vm, x))
		return AFD_THROW_BAD_XT;
	*(cell *)vm->words[xt].pfa = x;
	return 0;
}

const struct fth_cword fth_compile_words[] = {
	{ ":", "( \"name\" -- colon-sys )", p_colon, 0 },
	{ ":noname", "( -- xt colon-sys )", p_noname, 0 },
	{ ";", "( colon-sys -- )", p_semicolon, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "(string-literal?)", "( -- flag )", p_last_string, 0 },
	{ "[", "( -- )", p_lbracket, WF_IMMEDIATE },
	{ "]", "( -- )", p_rbracket, 0 },
	{ "immediate", "( -- )", p_immediate, 0 },
	{ "if", "( C: -- orig )", p_if, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "ahead", "( C: -- orig )", p_ahead, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "then", "( C: orig -- )", p_then, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "else", "( C: orig1 -- orig2 )", p_else, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "begin", "( C: -- dest )", p_begin, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "until", "( C: dest -- )", p_until, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "again", "( C: dest -- )", p_again, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "while", "( C: dest -- orig dest )", p_while, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "repeat", "( C: orig dest -- )", p_repeat, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "do", "( C: -- do-sys )", p_do, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "?do", "( C: -- do-sys )", p_qdo, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "loop", "( C: do-sys -- )", p_loop, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "+loop", "( C: do-sys -- )", p_ploop, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "leave", "( -- ) ( R: loop-sys -- )", p_leave, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "exit", "( -- ) ( R: nest-sys -- )", p_exit, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "recurse", "( -- )", p_recurse, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "literal", "( x -- )", p_literal, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "compile,", "( xt -- )", p_compile_comma, 0 },
	{ "postpone", "( \"name\" -- )", p_postpone, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "[compile]", "( \"name\" -- )", p_bracket_compile, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "[']", "( \"name\" -- )", p_bracket_tick, WF_IMMEDIATE },
	{ "'", "( \"name\" -- xt )", p_tick, 0 },
	{ "does>", "( -- ) ( R: nest-sys -- )", p_does, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ "create", "( \"name\" -- )", p_create, 0 },
	{ "variable", "( \"name\" -- )", p_variable, 0 },
	{ "constant", "( x \"name\" -- )", p_constant, 0 },
	{ "value", "( x \"name\" -- )", p_value, 0 },
	{ "defer", "( \"name\" -- )", p_defer, 0 },
	{ "to", "( x \"name\" -- )", p_to, WF_IMMEDIATE },
	{ ">body", "( xt -- a-addr )", p_body, 0 },
	{ "defer@", "( xt1 -- xt2 )", p_defer_fetch, 0 },
	{ "defer!", "( xt2 xt1 -- )", p_defer_store, 0 },
	{ NULL, NULL, NULL, 0 }
};
