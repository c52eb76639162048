/*
 * What the daemons' fuzz targets share: a hostile peer's writes, cut
 * into chunks that may carry descriptors, and a descriptor count.
 */

#ifndef FUZZUTIL_H
#define FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_CHUNK_DIRFD	0x80	/* attach a directory descriptor */
#define FUZZ_CHUNK_PATHFD	0x40	/* attach an O_PATH descriptor */

int	fuzz_count_fds(void);
void	fuzz_send_chunk(int, const uint8_t *, size_t, int);
size_t	fuzz_next_chunk(const uint8_t *, size_t, size_t *, int *);

#endif
