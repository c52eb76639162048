/*
 * The hostile programs' raw descriptor passing, without libfsproto's
 * rules: any bytes, with any descriptors.
 */

#ifndef SENDFDS_H
#define SENDFDS_H

#include <sys/types.h>
#include <sys/uio.h>

#define SENDFDS_MAX	2

ssize_t	 sendfds(int, const struct iovec *, int, const int *, int);

#endif /* SENDFDS_H */
