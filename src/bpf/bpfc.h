/* bpfc.h: Forth packet words compiled to eBPF (doc/bpf.md).
 *
 * The pipeline, one column: bpfc_compile (a word's read-back form, calls inlined, to BPF
 * instructions with an instruction -> Forth op map) -> bpfc_load (BPF_PROG_LOAD, the
 * verifier's complaint mapped back to the op) -> bpfc_test_run / bpfc_xdp_attach.
 * Functions return 0 or a count, or a negative errno; the text of a failure goes to err[]
 * as "file:line:col: WORD: reason". */
#ifndef AFD_BPF_BPFC_H
#define AFD_BPF_BPFC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/bpf.h>
#include <afd/forth.h>

struct bpfc_ctx;		/* per VM: the packet vocabulary's state (packet.c) */

/* Where an instruction came from: a Forth op of some word. */
struct bpfc_src {
	afd_cell xt;		/* the word whose op it is (inlined words keep their own) */
	uint32_t op;		/* op index in that word, UINT32_MAX for prologue/epilogue */
	uint16_t file;
	uint32_t line, col;
	uint8_t inl;		/* inlining depth, for the listing's indentation */
};

struct bpfc_prog {
	struct bpf_insn *insn;
	struct bpfc_src *src;	/* parallel to insn */
	uint32_t n, cap;
	afd_cell xt;		/* the packet word */
	int fd;			/* after bpfc_load, else -1 */
	char err[1024];
	char *log;		/* verifier log of the last load (owned) */
};

/* compile.c */
int bpfc_compile(afd_vm *vm, struct bpfc_ctx *ctx, afd_cell xt, struct bpfc_prog *p);
void bpfc_prog_free(struct bpfc_prog *p);
/* The listing: each op's source as a comment, then its instructions (like ply -S). */
void bpfc_print(afd_vm *vm, const struct bpfc_prog *p, FILE *out);
int bpfc_disasm(const struct bpf_insn *in, char *buf, size_t cap);

/* load.c */
int bpfc_load(afd_vm *vm, struct bpfc_prog *p, enum bpf_prog_type type);
int bpfc_test_run(int fd, const void *pkt, uint32_t len, uint32_t repeat, uint32_t *retval,
		  uint32_t *ns);
/* Attach with a BPF link: native first, then generic. *native tells which. Link fd or -errno. */
int bpfc_xdp_attach(int prog, const char *ifname, bool *native, char *err, size_t cap);
int bpfc_link_update(int link, int prog);
int bpfc_prog_info(int fd, uint32_t *xlated, uint32_t *jited);

/* packet.c: the vocabulary, interpreted (C words) and compiled (emitters) */
struct bpfc_ctx *bpfc_attach(afd_vm *vm);	/* registers the words; NULL on failure */
void bpfc_detach(struct bpfc_ctx *ctx);

#endif
