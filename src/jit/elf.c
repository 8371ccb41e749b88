/* elf.c: a loader for the x86_64 ELF relocatable objects `as` makes of QBE's output.
 *
 * Enough of ELF for that and no more: the allocated sections (.text, .data, .rodata, .bss)
 * are laid out in one anonymous mapping, undefined symbols are resolved by the caller
 * (host functions such as fth_run, words compiled in an earlier batch) and reached through
 * a stub of our own at the end of the mapping (an indirect jump), so a 32-bit PC-relative
 * call works however far the target is; then R_X86_64_64, PC32 and PLT32 relocations are
 * applied and the mapping becomes read-only and executable. No ld, no dlopen. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "jit/jit.h"

#define STUB 16		/* jmp *0(%rip); .quad target */

static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct obj {
	const unsigned char *p;
	size_t len;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	size_t *off;		/* each section's offset in the mapping, or -1 */
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strtab;
	void **stub_of;		/* per symbol: its stub, for undefined ones */
	void **target;		/* per symbol: where an undefined one really is */
};

static bool in_file(const struct obj *o, size_t off, size_t n)
{
	return off <= o->len && n <= o->len - off;
}

static int parse(struct obj *o, char *err, size_t cap)
{
	const Elf64_Ehdr *eh = (const void *)o->p;
	if (o->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_REL || eh->e_machine != EM_X86_64)
		return fail(err, cap, "not an x86_64 ELF relocatable object");
	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(o, eh->e_shoff, (size_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return fail(err, cap, "bad section headers");
	o->eh = eh;
	o->sh = (const void *)(o->p + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *s = &o->sh[i];
		if (s->sh_type != SHT_NOBITS && !in_file(o, s->sh_offset, s->sh_size))
			return fail(err, cap, "section %d outside the file", i);
		if (s->sh_type == SHT_SYMTAB) {
			if (s->sh_link >= eh->e_shnum || s->sh_entsize != sizeof(Elf64_Sym))
				return fail(err, cap, "bad symbol table");
			o->syms = (const void *)(o->p + s->sh_offset);
			o->nsyms = s->sh_size / sizeof(Elf64_Sym);
			o->strtab = (const char *)(o->p + o->sh[s->sh_link].sh_offset);
		}
	}
	if (!o->syms)
		return fail(err, cap, "no symbol table");
	return 0;
}

/* Offsets of the allocated sections in the mapping; returns the bytes needed before stubs. */
static size_t layout(struct obj *o)
{
	size_t at = 0;
	for (int i = 0; i < o->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &o->sh[i];
		o->off[i] = (size_t)-1;
		if (!(s->sh_flags & SHF_ALLOC) || !s->sh_size)
			continue;
		size_t al = s->sh_addralign ? s->sh_addralign : 1;
		at = (at + al - 1) / al * al;
		o->off[i] = at;
		at += s->sh_size;
	}
	return (at + 15) / 16 * 16;
}

static int symbol_addr(struct obj *o, char *base, size_t i, uint64_t *v, char *err, size_t cap)
{
	const Elf64_Sym *s = &o->syms[i];
	if (s->st_shndx == SHN_UNDEF) {
		if (!o->stub_of[i])
			return fail(err, cap, "unresolved symbol %s", o->strtab + s->st_name);
		*v = (uint64_t)o->stub_of[i];
	} else if (s->st_shndx == SHN_ABS) {
		*v = s->st_value;
	} else if (s->st_shndx < o->eh->e_shnum && o->off[s->st_shndx] != (size_t)-1) {
		*v = (uint64_t)(base + o->off[s->st_shndx] + s->st_value);
	} else {
		return fail(err, cap, "symbol %s in a section not loaded", o->strtab + s->st_name);
	}
	return 0;
}

static int relocate(struct obj *o, char *base, char *err, size_t cap)
{
	for (int i = 0; i < o->eh->e_shnum; i++) {
		const Elf64_Shdr *rs = &o->sh[i];
		if (rs->sh_type == SHT_REL)
			return fail(err, cap, "REL relocations are not supported");
		if (rs->sh_type != SHT_RELA || rs->sh_info >= o->eh->e_shnum ||
		    o->off[rs->sh_info] == (size_t)-1)
			continue;
		const Elf64_Shdr *ts = &o->sh[rs->sh_info];
		const Elf64_Rela *r = (const void *)(o->p + rs->sh_offset);
		for (size_t k = 0; k < rs->sh_size / sizeof(*r); k++) {
			size_t si = ELF64_R_SYM(r[k].r_info);
			uint32_t type = ELF64_R_TYPE(r[k].r_info);
			uint64_t S;
			if (si >= o->nsyms || r[k].r_offset + 8 > ts->sh_size + (type == R_X86_64_64 ? 0 : 4))
				return fail(err, cap, "bad relocation");
			int e = symbol_addr(o, base, si, &S, err, cap);
			if (e)
				return e;
			if (type == R_X86_64_64 && o->target[si])
				S = (uint64_t)o->target[si];	/* absolute: no stub needed */
			char *P = base + o->off[rs->sh_info] + r[k].r_offset;
			if (type == R_X86_64_64) {
				uint64_t v = S + (uint64_t)r[k].r_addend;
				memcpy(P, &v, 8);
			} else if (type == R_X86_64_PC32 || type == R_X86_64_PLT32) {
				int64_t v = (int64_t)(S + (uint64_t)r[k].r_addend - (uint64_t)P);
				if (v != (int32_t)v)
					return fail(err, cap, "PC32 relocation out of range");
				int32_t v32 = (int32_t)v;
				memcpy(P, &v32, 4);
			} else {
				return fail(err, cap, "relocation type %u not supported", type);
			}
		}
	}
	return 0;
}

/* An undefined symbol's stub: jmp *0(%rip) followed by the target. */
static void make_stub(char *at, void *target)
{
	static const unsigned char jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	memcpy(at, jmp, 6);
	memcpy(at + 6, &target, 8);
	memset(at + 14, 0xcc, 2);
}

void jit_unload(struct jit_image *img)
{
	if (!img)
		return;
	munmap(img->base, img->size);
	free(img);
}

int jit_load_elf(const void *obj, size_t len, jit_resolve_fn resolve,
		 void (*found)(void *ctx, const char *name, void *addr), void *ctx,
		 struct jit_image **img, char *err, size_t errcap)
{
	struct obj o = { .p = obj, .len = len };
	char *base = MAP_FAILED;
	size_t size = 0;
	int rc = parse(&o, err, errcap);
	if (rc)
		return rc;
	o.off = calloc(o.eh->e_shnum, sizeof(*o.off));
	o.stub_of = calloc(o.nsyms, sizeof(*o.stub_of));
	o.target = calloc(o.nsyms, sizeof(*o.target));
	rc = -ENOMEM;
	if (!o.off || !o.stub_of || !o.target)
		goto out;
	size_t code = layout(&o), nund = 0;
	for (size_t i = 1; i < o.nsyms; i++)
		nund += o.syms[i].st_shndx == SHN_UNDEF;
	size = (code + nund * STUB + 4095) & ~(size_t)4095;
	base = mmap(NULL, size ? size : 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto out;
	for (int i = 0; i < o.eh->e_shnum; i++)
		if (o.off[i] != (size_t)-1 && o.sh[i].sh_type != SHT_NOBITS)
			memcpy(base + o.off[i], o.p + o.sh[i].sh_offset, o.sh[i].sh_size);
	char *stub = base + code;
	for (size_t i = 1; i < o.nsyms; i++) {
		if (o.syms[i].st_shndx != SHN_UNDEF)
			continue;
		const char *name = o.strtab + o.syms[i].st_name;
		void *target = resolve(ctx, name);
		if (!target) {
			rc = fail(err, errcap, "unresolved symbol %s", name);
			goto out;
		}
		make_stub(stub, target);
		o.stub_of[i] = stub;
		o.target[i] = target;
		stub += STUB;
	}
	if ((rc = relocate(&o, base, err, errcap)))
		goto out;
	if (mprotect(base, size, PROT_READ | PROT_EXEC)) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 1; i < o.nsyms; i++) {
		const Elf64_Sym *s = &o.syms[i];
		uint64_t v;
		if (ELF64_ST_BIND(s->st_info) == STB_GLOBAL && s->st_shndx != SHN_UNDEF &&
		    !symbol_addr(&o, base, i, &v, err, errcap))
			found(ctx, o.strtab + s->st_name, (void *)v);
	}
	*img = calloc(1, sizeof(**img));
	if (!*img) {
		rc = -ENOMEM;
		goto out;
	}
	(*img)->base = base;
	(*img)->size = size;
	base = MAP_FAILED;
	rc = 0;
out:
	if (base != MAP_FAILED)
		munmap(base, size);
	free(o.off);
	free(o.stub_of);
	free(o.target);
	return rc;
}
