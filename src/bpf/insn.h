/* insn.h: eBPF instructions written by hand, as struct bpf_insn values (linux/bpf.h). */
#ifndef AFD_BPF_INSN_H
#define AFD_BPF_INSN_H

#include <linux/bpf.h>

#define BI(code, dst, src, off, imm) ((struct bpf_insn){ (code), (dst), (src), (off), (imm) })
/* dst op= src / imm, 64-bit */
#define ALU_X(op, d, s)		BI(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define ALU_K(op, d, k)		BI(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k)
#define MOV_X(d, s)		ALU_X(BPF_MOV, d, s)
#define MOV_K(d, k)		ALU_K(BPF_MOV, d, k)
/* size: BPF_B BPF_H BPF_W BPF_DW */
#define LDX(sz, d, s, off)	BI(BPF_LDX | BPF_MEM | (sz), d, s, off, 0)
#define STX(sz, d, s, off)	BI(BPF_STX | BPF_MEM | (sz), d, s, off, 0)
#define ST_K(sz, d, off, k)	BI(BPF_ST | BPF_MEM | (sz), d, 0, off, k)
#define BE(d, bits)		BI(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits)
#define JMP_K(op, d, k, off)	BI(BPF_JMP | (op) | BPF_K, d, 0, off, k)
#define JMP_X(op, d, s, off)	BI(BPF_JMP | (op) | BPF_X, d, s, off, 0)
#define JA(off)			BI(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define EXIT_INSN()		BI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

#endif
