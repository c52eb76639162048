/*
 * The mount option allowlist shared by every process.
 */

#ifndef MNTOPT_H
#define MNTOPT_H

#include <sys/types.h>

#include <stddef.h>

#define MO_RO			0x0001
#define MO_RW			0x0002
#define MO_ALLOW_OTHER		0x0004
#define MO_DEFAULT_PERMISSIONS	0x0008
#define MO_MULTIUSER		0x0010
#define MO_NOEXEC		0x0020
#define MO_WRITEBACK		0x0040
#define MO_PASSTHROUGH		0x0080
#define MO_NOPASSTHROUGH	0x0100
#define MO_NOXATTR		0x0200
#define MO_RESTART		0x0400

#define MO_CACHE_NEVER		0
#define MO_CACHE_AUTO		1
#define MO_CACHE_ALWAYS		2
#define MO_NCACHE		3

#define MO_TIMEOUT_MAX		86400
#define MO_THREADS_MAX		64
#define MO_SPIN_MAX		1000	/* microseconds */
#define MO_PTMIN_MAX		(1 << 30)	/* bytes */
#define MO_STRING_MAX		1024

/* Numbers are -1 until given: mntopt.c has their table. */
struct mntopts {
	unsigned int	flags;
	int		cache;
	int		timeout;	/* seconds, -1 for the cache default */
	int		threads;	/* -1 for the default */
	int		spin;		/* microseconds, -1 for the default */
	int		ptmin;		/* bytes, -1 for the default */
};

void	 mntopt_init(struct mntopts *);
int	 mntopt_parse(const char *, struct mntopts *, char *, size_t);
int	 mntopt_format(const struct mntopts *, char *, size_t);
int	 mntopt_check(const char *, uid_t, int, struct mntopts *, char *,
	    size_t);

#endif /* MNTOPT_H */
