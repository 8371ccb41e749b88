/* bench.c: `make bench-bpf`. The Forth drop-tcp-syn compiled by AFD beside the same logic in
 * C compiled by clang -O2 -target bpf (drop_tcp_syn.c, its instructions given as a raw file):
 * instructions (emitted, xlated, jited bytes), ns per packet through BPF_PROG_TEST_RUN
 * (repeat 1,000,000) on a SYN (dropped) and an ACK (passed), and the Forth -> eBPF compile
 * time (verifier excluded) and the whole load. Needs root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <afd/forth.h>
#include "bpf/bpfc.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int load_raw(const char *path, uint32_t *n)
{
	FILE *f = fopen(path, "rb");
	static struct bpf_insn in[4096];
	if (!f)
		return -1;
	*n = (uint32_t)fread(in, sizeof(*in), 4096, f);
	fclose(f);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uintptr_t)in;
	a.insn_cnt = *n;
	a.license = (uintptr_t)"GPL";
	return (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
}

static void packet(uint8_t *b, int flags)
{
	memset(b, 0, 64);
	b[12] = 8, b[14] = 0x45, b[23] = 6, b[46] = 0x50, b[47] = (uint8_t)flags;
}

static void row(const char *who, int fd, uint32_t emitted)
{
	uint8_t syn[64], ack[64];
	packet(syn, 2);
	packet(ack, 16);
	uint32_t xl = 0, jit = 0, r1 = 0, r2 = 0, ns1 = 0, ns2 = 0;
	bpfc_prog_info(fd, &xl, &jit);
	bpfc_test_run(fd, syn, 64, 1000000, &r1, &ns1);
	bpfc_test_run(fd, ack, 64, 1000000, &r2, &ns2);
	printf("| %-22s | %8u | %6u | %6u | %3u ns (verdict %u) | %3u ns (verdict %u) |\n", who,
	       emitted, xl, jit, ns1, r1, ns2, r2);
}

int main(int argc, char **argv)
{
	struct afd_opts o = { .sz = sizeof(o) };
	afd_vm *vm = afd_new(&o);
	struct bpfc_ctx *ctx = bpfc_attach(vm);
	if (!ctx || afd_include(vm, "examples/drop-tcp-syn.forth"))
		return 1;
	afd_cell xt = afd_find(vm, "drop-tcp-syn", 12);
	struct bpfc_prog p;
	int iters = 20000;
	double t0 = now();
	for (int i = 0; i < iters; i++) {
		bpfc_compile(vm, ctx, xt, &p);
		bpfc_prog_free(&p);
	}
	double compile_us = (now() - t0) / iters * 1e6;
	bpfc_compile(vm, ctx, xt, &p);
	t0 = now();
	if (bpfc_load(vm, &p, BPF_PROG_TYPE_XDP) < 0) {
		fprintf(stderr, "bench-bpf: %s\n", p.err);
		return 1;
	}
	double load_ms = (now() - t0) * 1e3;
	uint32_t cn = 0;
	int cfd = argc > 1 ? load_raw(argv[1], &cn) : -1;
	printf("| program                | emitted  | xlated | jited B | SYN                | ACK                |\n");
	printf("|---|---|---|---|---|---|\n");
	row("Forth (AFD bpfc)", p.fd, p.n);
	if (cfd >= 0)
		row("C (clang -O2)", cfd, cn);
	else
		printf("| C (clang -O2)          | not loaded: %s |\n", argc > 1 ? argv[1] : "no file");
	printf("\nForth -> eBPF compile: %.2f us per compile (%d compiles, verifier excluded); "
	       "verifier load: %.2f ms\n", compile_us, iters, load_ms);
	return 0;
}
