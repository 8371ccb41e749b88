/* listing.c: the printable form of a compiled packet word: each Forth op as a comment
 * (file:line:col and what it is), then the instructions it became, as the verifier prints
 * them. */
#include "bpf/cc.h"

static const char *alu[16] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=",
			       "^=", "=", "s>>=", "end" };
static const char *jmp[16] = { "ja", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit",
			       "<", "<=", "s<", "s<=" };
static const char *sz[4] = { "u32", "u16", "u8", "u64" };

int bpfc_disasm(const struct bpf_insn *in, char *b, size_t cap)
{
	int cls = BPF_CLASS(in->code), op = BPF_OP(in->code) >> 4, x = BPF_SRC(in->code) == BPF_X;
	switch (cls) {
	case BPF_ALU64: case BPF_ALU:
		if (op == 13)
			return snprintf(b, cap, "r%d = be%d r%d", in->dst_reg, in->imm, in->dst_reg);
		if (op == 8)
			return snprintf(b, cap, "r%d = -r%d", in->dst_reg, in->dst_reg);
		return x ? snprintf(b, cap, "r%d %s r%d", in->dst_reg, alu[op], in->src_reg)
			 : snprintf(b, cap, "r%d %s %d", in->dst_reg, alu[op], in->imm);
	case BPF_LDX:
		return snprintf(b, cap, "r%d = *(%s *)(r%d %+d)", in->dst_reg,
				sz[BPF_SIZE(in->code) >> 3], in->src_reg, in->off);
	case BPF_STX:
		return snprintf(b, cap, "*(%s *)(r%d %+d) = r%d", sz[BPF_SIZE(in->code) >> 3],
				in->dst_reg, in->off, in->src_reg);
	case BPF_ST:
		return snprintf(b, cap, "*(%s *)(r%d %+d) = %d", sz[BPF_SIZE(in->code) >> 3],
				in->dst_reg, in->off, in->imm);
	case BPF_LD:
		return snprintf(b, cap, "r%d = %lld ll", in->dst_reg,
				(long long)((uint64_t)(uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32));
	case BPF_JMP:
		if (op == 0)
			return snprintf(b, cap, "goto %+d", in->off);
		if (op == 9)
			return snprintf(b, cap, "exit");
		if (op == 8)
			return snprintf(b, cap, "call %d", in->imm);
		return x ? snprintf(b, cap, "if r%d %s r%d goto %+d", in->dst_reg, jmp[op], in->src_reg, in->off)
			 : snprintf(b, cap, "if r%d %s %d goto %+d", in->dst_reg, jmp[op], in->imm, in->off);
	default:
		return snprintf(b, cap, "(%02x)", in->code);
	}
}

static void describe(afd_vm *vm, const struct bpfc_src *s, char *b, size_t cap)
{
	if (s->op == UINT32_MAX || !fth_xt_ok(vm, s->xt) || s->op >= vm->words[s->xt].nops) {
		snprintf(b, cap, "prologue: r6 = ctx, r7 = data, r8 = data_end");
		return;
	}
	const struct fth_op *o = &vm->words[s->xt].ops[s->op];
	const char *w = vm->words[s->xt].name;
	switch (o->kind) {
	case OP_PRIM: snprintf(b, cap, "%s: %s", w, fth_prims[o->arg].name); break;
	case OP_CALL: snprintf(b, cap, "%s: %s", w, fth_xt_ok(vm, o->arg) ? vm->words[o->arg].name : "?"); break;
	case OP_LIT: snprintf(b, cap, "%s: %lld", w, (long long)o->arg); break;
	case OP_BRANCH: snprintf(b, cap, "%s: branch (ELSE)", w); break;
	case OP_0BRANCH: snprintf(b, cap, "%s: 0branch (IF)", w); break;
	case OP_DO: case OP_QDO: snprintf(b, cap, "%s: do", w); break;
	case OP_LOOP: snprintf(b, cap, "%s: loop", w); break;
	case OP_EXIT: snprintf(b, cap, "%s: exit", w); break;
	default: snprintf(b, cap, "%s: op %u", w, o->kind); break;
	}
}

void bpfc_print(afd_vm *vm, const struct bpfc_prog *p, FILE *out)
{
	for (uint32_t i = 0; i < p->n; i++) {
		const struct bpfc_src *s = &p->src[i];
		if (i == 0 || s->xt != p->src[i - 1].xt || s->op != p->src[i - 1].op) {
			char d[160];
			describe(vm, s, d, sizeof(d));
			fprintf(out, "%*s; %s:%u:%u %s\n", 2 * s->inl, "",
				s->file < vm->nfiles ? vm->files[s->file] : "?", s->line, s->col, d);
		}
		char b[96];
		bpfc_disasm(&p->insn[i], b, sizeof(b));
		fprintf(out, "%*s%4u: %s\n", 2 * s->inl, "", i, b);
		if (BPF_CLASS(p->insn[i].code) == BPF_LD)
			i++;
	}
}
