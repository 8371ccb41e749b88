/* dict.c: the dictionary. Headers live outside the data space, in an array indexed by
 * execution token; names hash case-insensitively into chains, newest first. */
#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include "vm.h"

static uint32_t hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)tolower((unsigned char)s[i])) * 16777619u;
	return h & (FTH_HASH - 1);
}

cell fth_find(afd_vm *vm, const char *name, size_t len)
{
	if (len == 0 || len > 255)
		return -1;
	for (int32_t i = vm->hash[hash_name(name, len)]; i >= 0; i = vm->words[i].next) {
		struct fth_word *w = &vm->words[i];
		if (w->len == len && !(w->flags & WF_HIDDEN) && !strncasecmp(w->name, name, len))
			return i;
	}
	return -1;
}

afd_cell afd_find(afd_vm *vm, const char *name, size_t len)
{
	cell xt = fth_find(vm, name, len);
	return xt <= 0 ? -ENOENT : xt;
}

/* A new header of the given kind, hashed unless nameless. Returns its xt or a THROW code. */
cell fth_header(afd_vm *vm, const char *name, size_t len, int kind)
{
	if (len > 255)
		return -19;
	if (vm->nwords >= vm->maxwords)
		return -8;
	char *copy = malloc(len + 1);
	if (!copy)
		return -8;
	memcpy(copy, name, len);
	copy[len] = 0;
	cell xt = vm->nwords++;
	struct fth_word *w = &vm->words[xt];
	memset(w, 0, sizeof(*w));
	if (vm->jit_counts)
		vm->jit_counts[xt] = 0;	/* a forgotten word's calls are not this one's */
	w->name = copy;
	w->len = (uint8_t)len;
	w->kind = (uint8_t)kind;
	w->cfa = fth_kind_label(kind);
	w->next = -1;
	w->file = vm->tokfile;
	w->line = vm->tokline;
	if (len) {
		uint32_t h = hash_name(name, len);
		w->next = vm->hash[h];
		vm->hash[h] = (int32_t)xt;
	}
	vm->latest = xt;
	return xt;
}

void fth_reveal(afd_vm *vm, cell xt)
{
	vm->words[xt].flags &= ~WF_HIDDEN;
}

void fth_register_table(afd_vm *vm, const struct fth_cword *t)
{
	for (; t->name; t++) {
		cell xt = fth_header(vm, t->name, strlen(t->name), WK_CFUNC);
		struct fth_word *w = &vm->words[xt];
		w->cfn = t->fn;
		w->effect = t->effect;
		w->flags = t->flags;
		w->cctx = t->ctx;
	}
}

afd_cell afd_register(afd_vm *vm, const char *name, const char *stack_effect,
		      afd_prim_fn fn, void *ctx)
{
	size_t len = strlen(name);
	if (!fn || len == 0)
		return -EINVAL;
	cell xt = fth_header(vm, name, len, WK_CFUNC);
	if (xt < 0)
		return -ENOMEM;
	vm->words[xt].cfn = fn;
	vm->words[xt].cctx = ctx;
	vm->words[xt].effect = stack_effect;
	return xt;
}

static void rehash(afd_vm *vm)
{
	for (int i = 0; i < FTH_HASH; i++)
		vm->hash[i] = -1;
	for (cell xt = 1; xt < vm->nwords; xt++) {
		struct fth_word *w = &vm->words[xt];
		w->next = -1;
		if (w->len) {
			uint32_t h = hash_name(w->name, w->len);
			w->next = vm->hash[h];
			vm->hash[h] = (int32_t)xt;
		}
	}
}

/* MARKER: drop every word defined after the first nwords, and their data and code. */
void fth_forget_to(afd_vm *vm, cell nwords, cell here, cell *codehere)
{
	for (cell xt = nwords; xt < vm->nwords; xt++) {
		free((void *)vm->words[xt].name);
		free(vm->words[xt].ops);
		free(vm->words[xt].doc);
	}
	vm->nwords = nwords;
	vm->here = here;
	vm->codehere = codehere;
	vm->latest = nwords - 1;
	rehash(vm);
}

static int p_bad_xt(afd_vm *vm, void *ctx)
{
	return AFD_THROW_BAD_XT;
}

int fth_dict_init(afd_vm *vm)
{
	for (int i = 0; i < FTH_HASH; i++)
		vm->hash[i] = -1;
	void *const *labels = fth_labels();
	/* xt 0: reserved, so that 0 is never a valid execution token */
	cell xt = fth_header(vm, "", 0, WK_CFUNC);
	vm->words[xt].cfn = p_bad_xt;
	for (int i = 0; i < PRIM_COUNT; i++) {
		xt = fth_header(vm, fth_prims[i].name, strlen(fth_prims[i].name), WK_PRIM);
		if (xt < 0)
			return -ENOMEM;
		vm->words[xt].cfa = labels[i];
		vm->words[xt].pfa = i;
		vm->words[xt].effect = fth_prims[i].effect;
	}
	fth_register_table(vm, fth_compile_words);
	fth_register_table(vm, fth_outer_words);
	fth_register_table(vm, fth_number_words);
	fth_register_table(vm, fth_core_words);
	fth_register_table(vm, fth_tools_words);
	fth_register_table(vm, jit_words);
	vm->xt_compile_comma = fth_find(vm, "compile,", 8);
	return 0;
}
