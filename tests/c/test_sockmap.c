/* test_sockmap.c: the kernel relay (src/dp/sockmap.c) on real loopback sockets: bytes the
 * client sent before the splice arrive first and in order, both directions relay, ends of
 * stream stay visible to userspace. A kernel or privileges without BPF sockmap: SKIP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dp/sockmap.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static int listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t n = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &n))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(0x7f000001) };
	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : fd;
}

/* Read exactly n bytes within a second. */
static int read_n(int fd, char *buf, int n)
{
	int got = 0;
	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 1000) <= 0)
			break;
		ssize_t r = recv(fd, buf + got, (size_t)(n - got), 0);
		if (r <= 0)
			break;
		got += (int)r;
	}
	return got;
}

int main(void)
{
	char why[4096];
	struct dp_sockmap *m = dp_sockmap_open(64, why, sizeof(why));
	if (!m) {
		printf("SKIP: no kernel relay here: %.200s\n", why);
		printf("0 passed, 0 failed\n");
		return 0;
	}
	int pl, pb;
	int lp = listen_any(&pl), lb = listen_any(&pb);
	CHECK(lp >= 0 && lb >= 0);
	int client = dial(pl), x = accept(lp, NULL, NULL);
	int y = dial(pb), backend = accept(lb, NULL, NULL);
	CHECK(client >= 0 && x >= 0 && y >= 0 && backend >= 0);

	send(client, "early-", 6, 0);	/* queued on x before the splice */
	usleep(20000);
	CHECK(dp_sockmap_splice(m, x, y) == 0);
	char buf[256];
	CHECK(read_n(backend, buf, 6) == 6 && !memcmp(buf, "early-", 6));
	send(client, "late", 4, 0);
	CHECK(read_n(backend, buf, 4) == 4 && !memcmp(buf, "late", 4));

	/* 100 KiB each way, byte-exact */
	static char big[102400], back[102400];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	CHECK(send(backend, big, sizeof(big), 0) == (ssize_t)sizeof(big));
	CHECK(read_n(client, back, sizeof(back)) == (int)sizeof(back) && !memcmp(big, back, sizeof(big)));

	/* the end of the client's stream reaches userspace on x */
	shutdown(client, SHUT_WR);
	struct pollfd p = { x, POLLIN, 0 };
	CHECK(poll(&p, 1, 1000) == 1 && recv(x, buf, sizeof(buf), MSG_DONTWAIT) == 0);
	CHECK(dp_sockmap_splice(m, lp, y) < 0);	/* a listening socket has no peer */

	close(client), close(x), close(y), close(backend), close(lp), close(lb);
	dp_sockmap_close(m);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
