/* tools.c: words that show the system: .S DUMP WORDS SEE. SEE prints a word's read-back
 * form, the same operations the compilers read, with branch targets as labels. */
#include <ctype.h>
#include "vm.h"

static int p_dot_s(afd_vm *vm, void *c)	/* ( -- ) */
{
	int depth = (int)(vm->sp - vm->s0);
	fth_printf(vm, "<%d> ", depth);
	for (cell *p = vm->s0 + 1; p <= vm->sp; p++)
		fth_printf(vm, vm->sys->base == 16 ? "%llX " : "%lld ", (long long)*p);
	return 0;
}

static int p_dump(afd_vm *vm, void *c)	/* ( addr u -- ) */
{
	cell a, u;
	int err = fth_pop(vm, &u);
	if (!err)
		err = fth_pop(vm, &a);
	if (err)
		return err;
	if (u <= 0)
		return 0;
	if (!fth_range_ok(vm, a, (ucell)u))
		return -9;
	const unsigned char *p = (const unsigned char *)a;
	for (cell i = 0; i < u; i += 16) {
		fth_printf(vm, "\n%016llX: ", (unsigned long long)(a + i));
		for (cell k = 0; k < 16; k++)
			if (i + k < u)
				fth_printf(vm, "%02X %s", p[i + k], k == 7 ? " " : "");
			else
				fth_printf(vm, "   %s", k == 7 ? " " : "");
		for (cell k = 0; k < 16 && i + k < u; k++)
			fth_emit(vm, isprint(p[i + k]) ? p[i + k] : '.');
	}
	fth_emit(vm, '\n');
	return 0;
}

static int p_words(afd_vm *vm, void *c)
{
	int col = 0;
	for (cell xt = vm->nwords - 1; xt > 0; xt--) {
		struct fth_word *w = &vm->words[xt];
		if (!w->len || (w->flags & WF_HIDDEN) || fth_find(vm, w->name, w->len) != xt)
			continue;
		if (col + w->len + 1 > 78) {
			fth_emit(vm, '\n');
			col = 0;
		}
		fth_printf(vm, "%s ", w->name);
		col += w->len + 1;
	}
	fth_emit(vm, '\n');
	return 0;
}

static const char *word_name(afd_vm *vm, cell xt)
{
	return fth_xt_ok(vm, xt) && vm->words[xt].len ? vm->words[xt].name : ":noname";
}

/* Print one colon definition's operations; targets of branches get labels. */
static void see_ops(afd_vm *vm, const struct fth_op *ops, uint32_t n)
{
	static const char *names[] = {
		[OP_BRANCH] = "branch", [OP_0BRANCH] = "?branch", [OP_QDO] = "(?do)",
		[OP_LOOP] = "(loop)", [OP_PLOOP] = "(+loop)", [OP_LEAVE] = "(leave)",
	};
	bool target[n + 1];
	memset(target, 0, sizeof(target));
	for (uint32_t i = 0; i < n; i++)
		if (ops[i].kind >= OP_BRANCH && ops[i].kind <= OP_LEAVE && ops[i].kind != OP_DO &&
		    ops[i].arg >= 0 && ops[i].arg <= (cell)n)
			target[ops[i].arg] = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct fth_op *op = &ops[i];
		if (target[i])
			fth_printf(vm, "\n L%u: ", i);
		switch (op->kind) {
		case OP_PRIM: fth_printf(vm, "%s ", fth_prims[op->arg].name); break;
		case OP_CALL: fth_printf(vm, "%s ", word_name(vm, op->arg)); break;
		case OP_LIT: fth_printf(vm, "%lld ", (long long)op->arg); break;
		case OP_DO: fth_printf(vm, "(do) "); break;
		case OP_EXIT: fth_printf(vm, i + 1 == n ? ";" : "exit "); break;
		case OP_DOES: fth_printf(vm, "does> "); break;
		case OP_VALUE: fth_printf(vm, "(value@ %llX) ", (unsigned long long)op->arg); break;
		case OP_TOVALUE: fth_printf(vm, "(to %llX) ", (unsigned long long)op->arg); break;
		default: fth_printf(vm, "%s L%lld ", names[op->kind], (long long)op->arg); break;
		}
	}
	fth_emit(vm, '\n');
}

static int p_see(afd_vm *vm, void *c)	/* ( "name" -- ) */
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	fth_mark_parsed(vm, s, n);
	cell xt = fth_find(vm, s, n);
	if (xt <= 0)
		return -13;
	struct fth_word *w = &vm->words[xt];
	const char *imm = w->flags & WF_IMMEDIATE ? " immediate" : "";
	switch (w->kind) {
	case WK_COLON:
		fth_printf(vm, ": %s %s ", w->name, w->effect ? w->effect : "");
		see_ops(vm, w->ops, w->nops);
		if (imm[0])
			fth_printf(vm, "%s\n", imm + 1);
		break;
	case WK_PRIM:
	case WK_CFUNC:
		fth_printf(vm, "%s %s is a %s primitive%s\n", w->name, w->effect ? w->effect : "",
			   w->kind == WK_PRIM ? "threaded" : "C", imm);
		break;
	case WK_CONST:
		fth_printf(vm, "%lld constant %s\n", (long long)w->pfa, w->name);
		break;
	case WK_VALUE:
		fth_printf(vm, "%lld value %s\n", (long long)*(cell *)w->pfa, w->name);
		break;
	case WK_DEFER:
		fth_printf(vm, "defer %s is %s\n", w->name, word_name(vm, *(cell *)w->pfa));
		break;
	case WK_CREATE:
		fth_printf(vm, "create %s\n", w->name);
		break;
	case WK_DOES:
		fth_printf(vm, "create %s does> of %s\n", w->name, word_name(vm, w->does_xt));
		break;
	}
	return 0;
}

/* WORDREF: the word reference, as a Markdown table, in definition order. */
static int p_wordref(afd_vm *vm, void *c)
{
	static const char *kinds[] = {
		[WK_PRIM] = "primitive", [WK_COLON] = "Forth", [WK_CFUNC] = "C",
		[WK_CREATE] = "variable", [WK_CONST] = "constant", [WK_VALUE] = "value",
		[WK_DEFER] = "deferred", [WK_DOES] = "defined",
	};
	fth_printf(vm, "| word | stack effect | kind | defined in |\n|---|---|---|---|\n");
	for (cell xt = 1; xt < vm->nwords; xt++) {
		struct fth_word *w = &vm->words[xt];
		if (!w->len || (w->flags & WF_HIDDEN))
			continue;
		fth_printf(vm, "| `");
		for (const char *p = w->name; *p; p++)	/* a | would end the cell */
			fth_printf(vm, *p == '|' ? "\\|" : "%c", *p);
		fth_printf(vm, "` | `%s` | %s%s | %s |\n", w->effect ? w->effect : "", kinds[w->kind],
			   w->flags & WF_IMMEDIATE ? ", immediate" : "",
			   w->kind == WK_PRIM || w->kind == WK_CFUNC ? "src/forth" :
			   w->file < vm->nfiles ? vm->files[w->file] : "?");
	}
	return 0;
}

const struct fth_cword fth_tools_words[] = {
	{ "wordref", "( -- )", p_wordref, 0 },
	{ ".s", "( -- )", p_dot_s, 0 },
	{ "dump", "( addr u -- )", p_dump, 0 },
	{ "words", "( -- )", p_words, 0 },
	{ "see", "( \"name\" -- )", p_see, 0 },
	{ NULL, NULL, NULL, 0 }
};
