/*
 * Building blocks of the per-process sandboxes.
 */

#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

struct sandbox_syscall {
	int		 nr;		/* negative: not on this architecture */
	int		 errnum;	/* 0: allow; else fail with this errno */
	const char	*why;
	uint64_t	 a0mask;	/* not 0: only if arg0 & a0mask == a0 */
	uint64_t	 a0;
};

#define SC_ALLOW(name, why)	{ SCMP_SYS(name), 0, why, 0, 0 }
#define SC_FAIL(name, e, why)	{ SCMP_SYS(name), e, why, 0, 0 }
/* Allowed only when the first argument's bits in mask are those of a0. */
#define SC_ALLOW_A0(name, mask, a0, why) \
				{ SCMP_SYS(name), 0, why, mask, a0 }
#define SC_COUNT(list)		(sizeof(list) / sizeof((list)[0]))

struct sandbox_list {
	const struct sandbox_syscall	*calls;
	size_t				 n;
};

#define SANDBOX_KEEPPRIVS	0x01	/* leave no_new_privs unset */

void	 sandbox_caps(const int *, size_t, const int *, size_t);
void	 sandbox_caps_only(const int *, size_t);
void	 sandbox_caps_verify(const int *, size_t);
void	 sandbox_bounding(const int *, size_t);
void	 sandbox_bounding_clear(void);
void	 sandbox_nonewprivs(void);
void	 sandbox_seccomp(const struct sandbox_list *, size_t, int);

/*
 * sandbox_worker.c: what fsworker may call while it serves, which it
 * loads itself, and what it calls before that, from its execve(2) to
 * its own filter, for a parent whose filter the worker inherits.  A
 * call is in both only where the first refuses or restricts it.
 */
extern const struct sandbox_syscall	sandbox_worker_syscalls[];
extern const size_t			sandbox_worker_nsyscalls;
extern const struct sandbox_syscall	sandbox_worker_setup_syscalls[];
extern const size_t			sandbox_worker_nsetup_syscalls;

#endif /* SANDBOX_H */
