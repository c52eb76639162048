/*
 * Helpers of the daemons' fuzz targets.  An input is a series of
 * chunks: a control byte c, then (c & 0x3f) bytes, or all the rest when
 * that is 0; FUZZ_CHUNK_DIRFD and FUZZ_CHUNK_PATHFD in c attach one
 * descriptor to the chunk's sendmsg.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzutil.h"

int
fuzz_count_fds(void)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		abort();
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n - 1);		/* the directory's own */
}

/* The next chunk at *pos: returns its length, its flags in *flags. */
size_t
fuzz_next_chunk(const uint8_t *data, size_t size, size_t *pos, int *flags)
{
	uint8_t	ctl;
	size_t	n;

	ctl = data[(*pos)++];
	n = ctl & 0x3f;
	if (n == 0 || n > size - *pos)
		n = size - *pos;
	*flags = ctl & (FUZZ_CHUNK_DIRFD | FUZZ_CHUNK_PATHFD);
	return (n);
}

void
fuzz_send_chunk(int fd, const uint8_t *p, size_t n, int flags)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	int		 xfd = -1;

	if (flags & FUZZ_CHUNK_DIRFD)
		xfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (flags & FUZZ_CHUNK_PATHFD)
		xfd = open("/", O_PATH | O_CLOEXEC);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (xfd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &xfd, sizeof(int));
	}
	(void)sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (xfd != -1)
		close(xfd);
}
