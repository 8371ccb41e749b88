/* drop_tcp_syn.c: the C reference for the Forth drop-tcp-syn, with the same parsing rules
 * (Ethernet, up to two VLAN tags, IPv4 with options and the fragment rule, IPv6 fixed
 * header, a whole TCP header), compiled by clang -O2 -target bpf for `make bench-bpf`. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#define SEC(s) __attribute__((section(s), used))
#define be16(x) __builtin_bswap16(x)

SEC("xdp") int drop_tcp_syn(struct xdp_md *ctx)
{
	unsigned char *d = (unsigned char *)(long)ctx->data, *end = (unsigned char *)(long)ctx->data_end;
	unsigned l3 = 14, l4, proto;
	if (d + 14 > end)
		return XDP_PASS;
	unsigned short et = be16(*(unsigned short *)(d + 12));
	for (int t = 1; t <= 2 && (et == 0x8100 || et == 0x88a8); t++) {
		if (d + 14 + 4 * t > end)
			return XDP_PASS;
		et = be16(*(unsigned short *)(d + 12 + 4 * t));
		l3 = 14 + 4 * t;
	}
	unsigned char *ip = d + l3;
	if (et == 0x0800) {
		if (ip + 20 > end || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
			return XDP_PASS;
		if (be16(*(unsigned short *)(ip + 6)) & 0x1fff)
			return XDP_PASS;
		proto = ip[9];
		l4 = l3 + (ip[0] & 15) * 4;
	} else if (et == 0x86dd) {
		if (ip + 40 > end || ip[0] >> 4 != 6)
			return XDP_PASS;
		proto = ip[6];
		l4 = l3 + 40;
	} else {
		return XDP_PASS;
	}
	unsigned char *tcp = d + l4;
	if (proto != IPPROTO_TCP || tcp + 20 > end)
		return XDP_PASS;
	return tcp[13] & 2 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
