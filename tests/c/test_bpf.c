/* test_bpf.c: Forth packet words compiled to eBPF against the same words interpreted: the
 * design document's drop-tcp-syn through BPF_PROG_TEST_RUN on crafted packets (IPv4 with and
 * without options, SYN, SYN-ACK, UDP, ICMP, IPv6, VLAN, QinQ, a later fragment), each also
 * truncated at every length the kernel accepts (14 bytes up), compared verdict by verdict
 * with the interpreter; compile errors that name the word, the op and the reason.
 * Without BPF (not root, no bpf()): SKIP. */
#include <stdlib.h>
#include <afd/forth.h>
#include "bpf/bpfc.h"
#include "harness.h"

static const char drop_src[] =
	": drop-tcp-syn packet-parse tcp? if tcp-flags SYN & if XDP_DROP exit then then XDP_PASS ;\n"
	": port-of ( -- u ) tcp? if dst-port exit then udp? if src-port exit then 0 ;\n"
	": sum4 ( -- n ) 0 4 0 do i + loop ;\n"
	": ports packet-parse port-of 53 = sum4 6 = and if XDP_DROP exit then src-ip 10.201.0.2 = "
	"if XDP_TX exit then XDP_PASS ;\n"
	": hashed packet-parse packet-hash dup 16 rshift xor dup 8 rshift xor 3 and ;\n"
	"create pbuf 2048 allot\n";

struct env {
	afd_vm *vm;
	struct bpfc_ctx *ctx;
};

static struct env setup(void)
{
	struct afd_opts o = { .sz = sizeof(o) };
	struct env e = { afd_new(&o), NULL };
	CHECK(e.vm);
	e.ctx = bpfc_attach(e.vm);
	CHECK(e.ctx);
	CHECK_INT(afd_eval(e.vm, drop_src, sizeof(drop_src) - 1, "drop.fs"), 0);
	return e;
}

static int load_word(struct env *e, const char *w)
{
	struct bpfc_prog p;
	afd_cell xt = afd_find(e->vm, w, strlen(w));
	int err = bpfc_compile(e->vm, e->ctx, xt, &p);
	err = err ? err : bpfc_load(e->vm, &p, BPF_PROG_TYPE_XDP);
	if (err)
		fprintf(stderr, "%s: %s\n", w, p.err);
	bpfc_prog_free(&p);
	return err ? -1 : p.fd;
}

/* the interpreter's verdict on pkt[0..len) */
static long interp(struct env *e, const char *w, const uint8_t *pkt, size_t len)
{
	afd_cell buf = afd_find(e->vm, "pbuf", 4);
	CHECK(afd_execute(e->vm, buf) == 0);
	afd_cell addr;
	afd_pop(e->vm, &addr);
	memcpy(afd_mem(e->vm, addr, len), pkt, len);
	afd_push(e->vm, addr);
	afd_push(e->vm, (afd_cell)len);
	CHECK(afd_execute(e->vm, afd_find(e->vm, "packet", 6)) == 0);
	CHECK(afd_execute(e->vm, afd_find(e->vm, w, strlen(w))) == 0);
	afd_cell v = -99;
	afd_pop(e->vm, &v);
	return (long)v;
}

/* Packets: Ethernet [VLAN...] IPv4/IPv6 TCP/UDP/ICMP, checksums left zero (XDP sees them raw). */
static size_t mk(uint8_t *b, int vlans, int v6, int proto, int flags, int ihl, int frag,
		 uint32_t src)
{
	size_t n = 12;
	memset(b, 0, 200);
	for (int i = 0; i < vlans; i++) {
		b[n] = i ? 0x81 : 0x88, b[n + 1] = i ? 0x00 : 0xa8;
		b[n + 3] = 7;
		n += 4;
	}
	b[n] = v6 ? 0x86 : 0x08, b[n + 1] = v6 ? 0xdd : 0x00;
	n += 2;
	if (v6) {
		b[n] = 0x60, b[n + 6] = (uint8_t)proto, b[n + 7] = 64;
		n += 40;
	} else {
		b[n] = (uint8_t)(0x40 | ihl), b[n + 8] = 64, b[n + 9] = (uint8_t)proto;
		b[n + 6] = (uint8_t)(frag >> 8), b[n + 7] = (uint8_t)frag;
		b[n + 12] = (uint8_t)(src >> 24), b[n + 13] = (uint8_t)(src >> 16);
		b[n + 14] = (uint8_t)(src >> 8), b[n + 15] = (uint8_t)src;
		b[n + 16] = 10, b[n + 17] = 201, b[n + 19] = 1;
		n += (size_t)ihl * 4;
	}
	if (proto == 6) {
		b[n] = 0x30, b[n + 1] = 0x39, b[n + 2] = 0, b[n + 3] = 53;
		b[n + 12] = 0x50, b[n + 13] = (uint8_t)flags;
		n += 20;
	} else if (proto == 17) {
		b[n] = 0, b[n + 1] = 53, b[n + 2] = 0x30, b[n + 3] = 0x39;
		n += 8;
	} else {
		b[n] = 8;
		n += 8;
	}
	return n + 6;	/* a few bytes of payload */
}

struct pk { const char *what; int vlans, v6, proto, flags, ihl, frag; long want; };
static const struct pk pks[] = {
	{ "IPv4 SYN", 0, 0, 6, 0x02, 5, 0, 1 },
	{ "IPv4 SYN-ACK", 0, 0, 6, 0x12, 5, 0, 1 },
	{ "IPv4 ACK", 0, 0, 6, 0x10, 5, 0, 2 },
	{ "IPv4 options SYN", 0, 0, 6, 0x02, 9, 0, 1 },
	{ "IPv4 UDP", 0, 0, 17, 0, 5, 0, 2 },
	{ "IPv4 ICMP", 0, 0, 1, 0, 5, 0, 2 },
	{ "IPv4 later fragment", 0, 0, 6, 0x02, 5, 0x0010, 2 },
	{ "IPv6 SYN", 0, 1, 6, 0x02, 5, 0, 1 },
	{ "IPv6 UDP", 0, 1, 17, 0, 5, 0, 2 },
	{ "VLAN SYN", 1, 0, 6, 0x02, 5, 0, 1 },
	{ "QinQ IPv6 SYN", 2, 1, 6, 0x02, 5, 0, 1 },
};

static int have_bpf(struct env *e)
{
	int fd = load_word(e, "drop-tcp-syn");
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void differential(const char *word, int check_want)
{
	struct env e = setup();
	int fd = load_word(&e, word);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	uint8_t b[256];
	int runs = 0;
	for (size_t i = 0; i < sizeof(pks) / sizeof(*pks); i++) {
		const struct pk *k = &pks[i];
		size_t n = mk(b, k->vlans, k->v6, k->proto, k->flags, k->ihl, k->frag,
			      i & 1 ? 0x0ac90002 : 0x0ac90003);
		for (size_t len = 14; len <= n; len++) {
			uint32_t got;
			CHECK_INT(bpfc_test_run(fd, b, (uint32_t)len, 1, &got, NULL), 0);
			long want = interp(&e, word, b, len);
			if ((long)got != want)
				fprintf(stderr, "%s on %s cut at %zu: eBPF %u, interpreter %ld\n", word,
					k->what, len, got, want);
			CHECK_INT(got, want);
			if (len == n && check_want)
				CHECK_INT(got, k->want);
			runs++;
		}
	}
	CHECK(runs > 500);
	close(fd);
	bpfc_detach(e.ctx);
	afd_free(e.vm);
}

static void test_drop_tcp_syn(void) { differential("drop-tcp-syn", 1); }
static void test_ports_loop_inline(void) { differential("ports", 0); }
static void test_packet_hash(void) { differential("hashed", 0); }

/* A compile error names file:line:col, the word and the reason. */
static void compile_fails(const char *src, const char *word, const char *want)
{
	struct env e = setup();
	CHECK_INT(afd_eval(e.vm, src, strlen(src), "bad.fs"), 0);
	struct bpfc_prog p;
	int err = bpfc_compile(e.vm, e.ctx, afd_find(e.vm, word, strlen(word)), &p);
	CHECK(err < 0);
	if (!strstr(p.err, want))
		fprintf(stderr, "got: %s\nwant: %s\n", p.err, want);
	CHECK(strstr(p.err, want) != NULL);
	bpfc_prog_free(&p);
	bpfc_detach(e.ctx);
	afd_free(e.vm);
}

static void test_errors(void)
{
	compile_fails(": spin begin packet-parse again ;", "spin", "bad.fs:1:");
	compile_fails(": spin begin packet-parse again ;", "spin", "spin: unbounded loop");
	compile_fails("variable v : peek v @ ;", "peek", "dictionary access");
	compile_fails(": talk 1 . XDP_PASS ;", "talk", "this primitive does not compile to eBPF (in talk");
	compile_fails(": odd tcp? if 1 then XDP_PASS ;", "odd", "bad.fs:1:22: odd: stack depth differs");
	compile_fails(": two XDP_PASS XDP_DROP ;", "two", "exactly one verdict");
	compile_fails(": n 3 0 do packet-parse loop XDP_PASS ; : m tcp? 0 do loop XDP_PASS ;", "m",
		      "constants");
	compile_fails(": r recurse ;", "r", "recursion");
	compile_fails(": u + XDP_PASS ;", "u", "bad.fs:1:5: u: stack underflow");
	compile_fails(": deep 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
		      "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ;", "deep", "deeper than");
}

int main(int argc, char **argv)
{
	struct env e = setup();
	if (!have_bpf(&e)) {
		printf("SKIP: no BPF here (needs root and bpf())\n0 passed, 0 failed\n");
		return 0;
	}
	bpfc_detach(e.ctx);
	afd_free(e.vm);
	static const struct test tests[] = {
		T(test_drop_tcp_syn, 30),
		T(test_ports_loop_inline, 30),
		T(test_packet_hash, 30),
		T(test_errors, 10),
	};
	return run_tests(tests, sizeof(tests) / sizeof(*tests), argc > 1 ? argv[1] : NULL) != 0;
}
