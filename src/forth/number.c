/* number.c: literals (numbers, doubles, IPv4 and CIDR) and pictured numeric output. */
#include <stdio.h>
#include "vm.h"

#define HOLD_END(vm) ((vm)->holdbuf + 512)

static int digit(char c, cell base)
{
	int d;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'z')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'Z')
		d = c - 'A' + 10;
	else
		return -1;
	return d < base ? d : -1;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* A token of four dot-separated decimal groups is an IPv4 literal (whatever BASE is):
 * ( addr ) in host order, or ( addr prefix ) with "/prefix". 1: not such a token. */
static int ip_literal(const char *s, size_t n, cell out[2], int *ncells)
{
	const char *slash = memchr(s, '/', n);
	size_t addrlen = slash ? (size_t)(slash - s) : n;
	const char *p = s, *end = s + addrlen;
	ucell ip = 0;
	int groups = 0;
	bool bad = false;
	while (p <= end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *gend = dot ? dot : end;
		if (!all_digits(p, (size_t)(gend - p)))
			return 1;
		ucell v = 0;
		for (const char *q = p; q < gend; q++)
			v = v * 10 + (ucell)(*q - '0');
		if (gend - p > 3 || v > 255)
			bad = true;
		ip = (ip << 8) | (v & 0xff);
		groups++;
		p = gend + 1;
		if (!dot)
			break;
	}
	if (groups != 4)
		return 1;
	if (bad)
		return AFD_THROW_BAD_IP;
	out[0] = (cell)ip;
	*ncells = 1;
	if (!slash)
		return 0;
	const char *pre = slash + 1;
	size_t plen = n - addrlen - 1;
	if (!all_digits(pre, plen) || plen > 2)
		return AFD_THROW_BAD_CIDR;
	cell prefix = plen == 1 ? pre[0] - '0' : (pre[0] - '0') * 10 + (pre[1] - '0');
	if (prefix > 32)
		return AFD_THROW_BAD_CIDR;
	out[1] = prefix;
	*ncells = 2;
	return 0;
}

int fth_number(afd_vm *vm, const char *s, size_t n, cell out[2], int *ncells)
{
	int r = ip_literal(s, n, out, ncells);
	if (r != 1)
		return r;
	if (n == 3 && s[0] == '\'' && s[2] == '\'') {
		out[0] = (unsigned char)s[1];
		*ncells = 1;
		return 0;
	}
	const char *p = s, *end = s + n;
	cell base = vm->sys->base;
	switch (p < end ? *p : 0) {
	case '#': base = 10; p++; break;
	case '$': base = 16; p++; break;
	case '%': base = 2; p++; break;
	}
	if (base < 2 || base > 36)
		return 1;
	bool neg = p < end && *p == '-', dbl = false;
	p += neg;
	udcell v = 0;
	int digits = 0;
	for (; p < end; p++) {
		if (*p == '.') {
			dbl = true;
			continue;
		}
		int d = digit(*p, base);
		if (d < 0)
			return 1;
		v = v * (udcell)base + (udcell)d;
		digits++;
	}
	if (!digits)
		return 1;
	if (neg)
		v = 0 - v;
	out[0] = (cell)(ucell)v;
	out[1] = (cell)(ucell)(v >> 64);
	*ncells = dbl ? 2 : 1;
	return 0;
}

size_t fth_ip_to_str(ucell ip, char buf[16])
{
	return (size_t)snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(ip >> 24) & 255,
				(unsigned)(ip >> 16) & 255, (unsigned)(ip >> 8) & 255,
				(unsigned)ip & 255);
}

/* ---- pictured numeric output: the hold buffer grows down from its end ---- */
static int hold(afd_vm *vm, char c)
{
	if (vm->sys->hld <= vm->holdbuf || vm->sys->hld > HOLD_END(vm))
		return -17;
	*(char *)--vm->sys->hld = c;
	return 0;
}

static int p_lessnum(afd_vm *vm, void *c)
{
	vm->sys->hld = HOLD_END(vm);
	return 0;
}

static int p_hold(afd_vm *vm, void *c)	/* ( char -- ) */
{
	cell ch;
	int err = fth_pop(vm, &ch);
	return err ? err : hold(vm, (char)ch);
}

static int p_sign(afd_vm *vm, void *c)	/* ( n -- ) */
{
	cell n;
	int err = fth_pop(vm, &n);
	return err ? err : n < 0 ? hold(vm, '-') : 0;
}

static int num_digit(afd_vm *vm)	/* ( ud1 -- ud2 ) one digit */
{
	if (fth_need(vm, 2))
		return -4;
	cell base = vm->sys->base;
	if (base < 2 || base > 36)
		return -24;
	udcell ud = ((udcell)(ucell)vm->sp[0] << 64) | (ucell)vm->sp[-1];
	int d = (int)(ud % (ucell)base);
	ud /= (ucell)base;
	vm->sp[-1] = (cell)(ucell)ud;
	vm->sp[0] = (cell)(ucell)(ud >> 64);
	return hold(vm, (char)(d < 10 ? '0' + d : 'A' + d - 10));
}

static int p_num(afd_vm *vm, void *c) { return num_digit(vm); }

static int p_nums(afd_vm *vm, void *c)	/* ( ud -- 0 0 ) */
{
	int err;
	do
		err = num_digit(vm);
	while (!err && (vm->sp[0] | vm->sp[-1]));
	return err;
}

static int p_numgreater(afd_vm *vm, void *c)	/* ( xd -- c-addr u ) */
{
	if (fth_need(vm, 2))
		return -4;
	cell h = vm->sys->hld;
	if (h < vm->holdbuf || h > HOLD_END(vm))
		return -17;
	vm->sp[-1] = h;
	vm->sp[0] = HOLD_END(vm) - h;
	return 0;
}

static int p_tonumber(afd_vm *vm, void *c)	/* ( ud1 c-addr1 u1 -- ud2 c-addr2 u2 ) */
{
	if (fth_need(vm, 4))
		return -4;
	cell *sp = vm->sp, base = vm->sys->base;
	cell a = sp[-1], u = sp[0];
	if (u < 0 || !fth_range_ok(vm, a, (ucell)u))
		return -9;
	udcell ud = ((udcell)(ucell)sp[-2] << 64) | (ucell)sp[-3];
	for (; u > 0; a++, u--) {
		int d = digit(*(char *)a, base);
		if (d < 0)
			break;
		ud = ud * (udcell)base + (udcell)d;
	}
	sp[-3] = (cell)(ucell)ud;
	sp[-2] = (cell)(ucell)(ud >> 64);
	sp[-1] = a;
	sp[0] = u;
	return 0;
}

static int p_ip_to_str(afd_vm *vm, void *c)	/* ( ip -- c-addr u ) */
{
	cell ip;
	char buf[16];
	int err = fth_pop(vm, &ip);
	if (err)
		return err;
	size_t n = fth_ip_to_str((ucell)ip, buf);
	err = fth_push(vm, fth_transient(vm, buf, n));
	return err ? err : fth_push(vm, (cell)n);
}

static int p_dot_ip(afd_vm *vm, void *c)	/* ( ip -- ) */
{
	cell ip;
	char buf[16];
	int err = fth_pop(vm, &ip);
	if (err)
		return err;
	fth_type(vm, buf, fth_ip_to_str((ucell)ip, buf));
	fth_emit(vm, ' ');
	return 0;
}

static int p_number_q(afd_vm *vm, void *c)	/* ( c-addr u -- x1 [x2] n ) n: cells, 0 if none */
{
	const char *s;
	size_t n;
	cell v[2];
	int nc, err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	err = fth_number(vm, s, n, v, &nc);
	if (err)
		return err == 1 ? fth_push(vm, 0) : err;
	for (int i = 0; i < nc && !err; i++)
		err = fth_push(vm, v[i]);
	return err ? err : fth_push(vm, nc);
}

const struct fth_cword fth_number_words[] = {
	{ "<#", "( -- )", p_lessnum, 0 },
	{ "hold", "( char -- )", p_hold, 0 },
	{ "sign", "( n -- )", p_sign, 0 },
	{ "#", "( ud1 -- ud2 )", p_num, 0 },
	{ "#s", "( ud1 -- ud2 )", p_nums, 0 },
	{ "#>", "( xd -- c-addr u )", p_numgreater, 0 },
	{ ">number", "( ud1 c-addr1 u1 -- ud2 c-addr2 u2 )", p_tonumber, 0 },
	{ "number?", "( c-addr u -- x1 [x2] n )", p_number_q, 0 },
	{ "ip>str", "( ip -- c-addr u )", p_ip_to_str, 0 },
	{ ".ip", "( ip -- )", p_dot_ip, 0 },
	{ NULL, NULL, NULL, 0 }
};
