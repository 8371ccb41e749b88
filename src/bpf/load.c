/* load.c: BPF_PROG_LOAD with the verifier's log, BPF_PROG_TEST_RUN, XDP through BPF links;
 * raw bpf(), no libbpf. A rejection names the Forth op behind the failing instruction: the
 * verifier's log ends with the instructions it walked ("N: (code) ..."), the last one is the
 * culprit, and p->src[N] says where it came from. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_link.h>
#include "bpf/cc.h"

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* The index of the last instruction the log shows, or -1. */
static long failing_insn(const char *log)
{
	long last = -1;
	for (const char *l = log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *end;
		long n = strtol(l, &end, 10);
		if (end != l && end[0] == ':' && end[1] == ' ' && end[2] == '(')
			last = n;
	}
	return last;
}

/* The log's last non-empty lines: the verifier's reason. */
static const char *log_tail(const char *log, int lines)
{
	const char *e = log + strlen(log);
	while (e > log && e[-1] == '\n')
		e--;
	const char *s = e;
	while (s > log && lines > 0)
		if (*--s == '\n')
			lines--;
	return s == log ? s : s + 1;
}

int bpfc_load(afd_vm *vm, struct bpfc_prog *p, enum bpf_prog_type type)
{
	size_t cap = 1 << 20;
	free(p->log);
	if (!(p->log = calloc(1, cap)))
		return -ENOMEM;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)p->insn;
	a.insn_cnt = p->n;
	a.license = (uintptr_t)"GPL";
	a.log_buf = (uintptr_t)p->log;
	a.log_size = (uint32_t)cap;
	a.log_level = 1;
	const char *name = vm->words[p->xt].name;
	strncpy(a.prog_name, name && *name ? name : "noname", sizeof(a.prog_name) - 1);
	for (char *c = a.prog_name; *c; c++)	/* the kernel takes [A-Za-z0-9_.] */
		if (!(*c == '_' || *c == '.' || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z')))
			*c = '_';
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return p->fd = fd, 0;
	int err = -errno;
	long n = failing_insn(p->log);
	char tail[600];
	snprintf(tail, sizeof(tail), "%s", log_tail(p->log, 3));
	for (char *c = tail; *c; c++)
		if (*c == '\n')
			*c = ' ';
	if (n >= 0 && n < (long)p->n) {
		const struct bpfc_src *s = &p->src[n];
		const char *w = fth_xt_ok(vm, s->xt) ? vm->words[s->xt].name : "?";
		snprintf(p->err, sizeof(p->err), "%s:%u:%u: %s: the verifier rejects instruction %ld: %s",
			 s->file < vm->nfiles ? vm->files[s->file] : "?", s->line, s->col, w, n, tail);
	} else {
		snprintf(p->err, sizeof(p->err), "%s: the kernel refuses the program (%s): %s",
			 name ? name : "noname", strerror(-err), tail);
	}
	return err;
}

int bpfc_test_run(int fd, const void *pkt, uint32_t len, uint32_t repeat, uint32_t *retval,
		  uint32_t *ns)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)pkt;
	a.test.data_size_in = len;
	a.test.repeat = repeat;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*retval = a.test.retval;
	if (ns)
		*ns = a.test.duration;
	return 0;
}

static int link_create(int prog, int ifindex, uint32_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = flags;
	int fd = (int)sys_bpf(BPF_LINK_CREATE, &a);
	return fd < 0 ? -errno : fd;
}

int bpfc_xdp_attach(int prog, const char *ifname, bool *native, char *err, size_t cap)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, cap, "%s: no such interface", ifname);
		return -ENODEV;
	}
	int fd = link_create(prog, ifindex, XDP_FLAGS_DRV_MODE);
	*native = fd >= 0;
	if (fd < 0)
		fd = link_create(prog, ifindex, XDP_FLAGS_SKB_MODE);
	if (fd < 0)
		snprintf(err, cap, "%s: XDP attach failed: %s", ifname, strerror(-fd));
	return fd;
}

int bpfc_link_update(int link, int prog)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = (uint32_t)link;
	a.link_update.new_prog_fd = (uint32_t)prog;
	return sys_bpf(BPF_LINK_UPDATE, &a) < 0 ? -errno : 0;
}

int bpfc_prog_info(int fd, uint32_t *xlated, uint32_t *jited)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return -errno;
	*xlated = info.xlated_prog_len / 8;
	*jited = info.jited_prog_len;
	return 0;
}
