/*
 * Descriptor limits of the daemon's processes: fsmonitor's parent and
 * fsmount each hold descriptors for every mount, and must know how many
 * mounts their limit leaves room for.
 */

#ifndef FDLIMIT_H
#define FDLIMIT_H

#include <sys/types.h>
#include <sys/resource.h>

int	 fdlimit_count(void);
rlim_t	 fdlimit_raise(rlim_t, struct rlimit *);
int	 fdlimit_refuse(char *, size_t, unsigned int, rlim_t);

#endif /* FDLIMIT_H */
