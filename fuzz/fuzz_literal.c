/* fuzz_literal.c: libFuzzer target for the literal parser (numbers, doubles, IPv4, CIDR).
 * First byte: BASE. Checks that every IPv4 address printed by ip>str parses back to itself. */
#include <stdlib.h>
#include "forth/vm.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static afd_vm *vm;
	if (!vm && !(vm = afd_new(NULL)))
		abort();
	if (size < 1)
		return 0;
	vm->sys->base = 2 + data[0] % 35;
	cell v[2];
	int n;
	fth_number(vm, (const char *)data + 1, size - 1, v, &n);
	if (size >= 5) {
		ucell ip = (ucell)data[1] << 24 | (ucell)data[2] << 16 | (ucell)data[3] << 8 | data[4];
		char buf[16];
		size_t len = fth_ip_to_str(ip, buf);
		if (fth_number(vm, buf, len, v, &n) != 0 || n != 1 || (ucell)v[0] != ip)
			abort();
	}
	return 0;
}
