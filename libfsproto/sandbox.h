/*
 * Building blocks of the per-process sandboxes.
 */

#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

#include <seccomp.h>

struct sandbox_syscall {
	int		 nr;		/* negative: not on this architecture */
	int		 errnum;	/* 0: allow; else fail with this errno */
	const char	*why;
};

#define SC_ALLOW(name, why)	{ SCMP_SYS(name), 0, why }
#define SC_FAIL(name, e, why)	{ SCMP_SYS(name), e, why }
#define SC_COUNT(list)		(sizeof(list) / sizeof((list)[0]))

void	 sandbox_caps(const int *, size_t, const int *, size_t);
void	 sandbox_bounding_clear(void);
void	 sandbox_nonewprivs(void);
void	 sandbox_seccomp(const struct sandbox_syscall *, size_t,
	    const struct sandbox_syscall *, size_t);

#endif /* SANDBOX_H */
