/* forth-t.h: types of the AFD Forth engine's embedding API (functions in forth.h). */
#ifndef AFD_FORTH_T_H
#define AFD_FORTH_T_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef int64_t afd_cell;	/* one Forth cell; addresses are host addresses in the data space */
typedef uint64_t afd_ucell;
typedef struct afd_vm afd_vm;	/* one VM per thread; no global state */

/* Host I/O: the engine does none of its own. */
typedef void (*afd_write_fn)(void *host, const char *buf, size_t len);
/* One character from the user input device, or -1 at end of input (KEY). */
typedef int (*afd_key_fn)(void *host);
/* One line from the user input device (REFILL, ACCEPT at the terminal): its length without
 * the newline, or -1 at end of input. */
typedef ssize_t (*afd_readline_fn)(void *host, char *buf, size_t cap);

/* Options for afd_new(); sz carries sizeof(struct afd_opts) so the struct can grow.
 * A zero field takes its default. */
struct afd_opts {
	size_t sz;
	size_t data_size;	/* bytes of sandboxed data space (default 1 MiB) */
	size_t code_cells;	/* capacity of threaded code (default 1 Mi cells, reserved lazily) */
	size_t max_words;	/* dictionary capacity (default 65536, reserved lazily) */
	int stack_cells;	/* data stack depth (default 1024) */
	int rstack_cells;	/* return stack depth (default 1024) */
	afd_write_fn write;	/* output (TYPE, EMIT, ., ...); NULL discards */
	afd_key_fn key;		/* KEY; NULL: end of input */
	afd_readline_fn readline;	/* REFILL/ACCEPT at the terminal; NULL: end of input */
	void *host;		/* passed to the callbacks */
};

/* The last error, as THROW reported it. code is the THROW code (0: none). */
struct afd_error {
	int code;
	char message[256];	/* from the standard THROW table, or ABORT"'s text */
	char file[256];		/* source name: a file, or the name given to afd_eval */
	int line, col;		/* 1-based position of the failing word; 0 if unknown */
	char word[64];		/* the word being interpreted or compiled when it failed */
};

/* A C primitive: pops its arguments and pushes its results with afd_pop/afd_push.
 * Returns 0, or a THROW code (negative) to throw. */
typedef int (*afd_prim_fn)(afd_vm *vm, void *ctx);

/* System THROW codes (the standard reserves -1..-255). */
enum {
	AFD_THROW_STEPS = -256,		/* step budget spent */
	AFD_THROW_BYE = -257,		/* BYE: not an error, the host should exit */
	AFD_THROW_BAD_IP = -258,	/* malformed IPv4 literal */
	AFD_THROW_BAD_CIDR = -259,	/* malformed CIDR literal */
	AFD_THROW_BAD_XT = -260,	/* EXECUTE of a value that is no execution token */
	AFD_THROW_NESTING = -261,	/* too many nested sources or calls into C */
	AFD_THROW_FILE = -262,		/* file could not be read (INCLUDED) */
	AFD_THROW_STRING = -263,	/* unterminated "string" literal */
	AFD_THROW_NOT_FOUND = -264,	/* a named thing (pool, backend) does not exist */
	AFD_THROW_NOT_HERE = -265,	/* a word used where it cannot run (admin-only...) */
	AFD_THROW_IPVS = -266,		/* the kernel refused an IPVS change (its reason told) */
	AFD_THROW_QUIT = -56,		/* QUIT (standard code): clear stacks, back to the terminal */
};

#endif
